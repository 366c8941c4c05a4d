"""The tutor's look: cards on a calm background, readable type, and one colour per verdict.

One stylesheet per theme (light, dark), built from the colours below, so every widget that shows a
verdict (the answer card, history, the batch table) uses the same green, amber and grey. The window
re-applies it when the theme or the font size changes (desktop.settings).
"""

from __future__ import annotations

from dataclasses import dataclass

from kpdd.verdict import Level


@dataclass(frozen=True)
class Palette:
    window: str  # the background between cards
    card: str
    border: str
    title: str  # card titles
    text: str
    muted: str  # secondary text: formulas in words, notes
    code: str  # the program's background
    accent: str  # the Solve button
    accent_text: str
    checked: str  # verdict colours: text on `card`
    checked_soft: str  # ... and their badge backgrounds
    unsure: str
    unsure_soft: str
    none: str
    none_soft: str
    slip: str  # a wrong calculation's right value
    # The program's syntax colours (desktop.highlight), each readable on `code`.
    syntax_keyword: str
    syntax_builtin: str
    syntax_number: str
    syntax_string: str
    syntax_comment: str
    syntax_answer: str


LIGHT = Palette(
    window="#eef1f5", card="#ffffff", border="#d8dde5", title="#4a5868", text="#1c232b", muted="#5f6b78",
    code="#f5f7fa", accent="#2f6fd6", accent_text="#ffffff", checked="#1e7d3a", checked_soft="#dcf2e2",
    unsure="#9a5700", unsure_soft="#fdebd0", none="#5f6b78", none_soft="#e6e9ee", slip="#c0182f",
    syntax_keyword="#8430a8", syntax_builtin="#0b6fa4", syntax_number="#a35200", syntax_string="#2b7a2f",
    syntax_comment="#6a737d", syntax_answer="#c0182f",
)  # fmt: skip
DARK = Palette(
    window="#18191c", card="#25272b", border="#3a3d43", title="#aab4c0", text="#e8eaed", muted="#9aa3ad",
    code="#1e2024", accent="#4c8df6", accent_text="#ffffff", checked="#6fd38b", checked_soft="#1f3d2a",
    unsure="#f3b35c", unsure_soft="#463216", none="#a4acb6", none_soft="#33363b", slip="#ff7a8a",
    syntax_keyword="#d49cf0", syntax_builtin="#6cc4f5", syntax_number="#f0b07a", syntax_string="#8fd694",
    syntax_comment="#9aa3ad", syntax_answer="#ff8f9c",
)  # fmt: skip


def is_dark() -> bool:
    """Whether the app shows the dark theme (desktop.settings.apply_theme says so on the app)."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    return bool(app.property("kpdd_dark")) if app is not None else False


def palette(dark: bool) -> Palette:
    return DARK if dark else LIGHT


def verdict_colors(level: Level | None, dark: bool) -> tuple[str, str]:
    """(text colour, badge background) of a verdict level (None: stopped, or nothing yet)."""
    p = palette(dark)
    if level == Level.CHECKED:
        return p.checked, p.checked_soft
    if level == Level.NOT_SURE:
        return p.unsure, p.unsure_soft
    return p.none, p.none_soft


# Relative type sizes: the app font (the user's size setting) times these.
PROBLEM_SCALE = 1.25
CONTENT_SCALE = 1.15
ANSWER_SCALE = 2.6
TITLE_SCALE = 1.0


def stylesheet(dark: bool, base_pt: float) -> str:
    """The main window's stylesheet: cards, their titles, the buttons that matter, the answer."""
    p = palette(dark)
    content = base_pt * CONTENT_SCALE
    return f"""
    QMainWindow, QWidget#central {{ background: {p.window}; }}
    QFrame#card {{ background: {p.card}; border: 1px solid {p.border}; border-radius: 10px; }}
    QFrame#card QLabel {{ background: transparent; }}
    QLabel#cardTitle {{ color: {p.title}; font-weight: 600; font-size: {base_pt * TITLE_SCALE:.1f}pt;
                        letter-spacing: 0.3px; }}
    QFrame#card QPlainTextEdit, QFrame#card QTextEdit, QFrame#card QTextBrowser {{
        background: {p.card}; color: {p.text}; border: none; font-size: {content:.1f}pt; }}
    QPlainTextEdit#problem {{ background: {p.code}; border: 1px solid {p.border}; border-radius: 6px;
                              padding: 4px; font-size: {base_pt * PROBLEM_SCALE:.1f}pt; color: {p.text}; }}
    QPlainTextEdit#program {{ background: {p.code}; border-radius: 6px; padding: 4px;
                              font-size: {base_pt * 1.05:.1f}pt; }}
    QPushButton#solve {{ background: {p.accent}; color: {p.accent_text}; border: none; border-radius: 6px;
                         padding: 6px 18px; font-weight: 600; }}
    QPushButton#solve:disabled {{ background: {p.border}; color: {p.muted}; }}
    QPushButton#viewToggle {{ border: 1px solid {p.border}; border-radius: 6px; padding: 3px 12px;
                              background: {p.card}; color: {p.muted}; }}
    QPushButton#viewToggle:checked {{ background: {p.code}; color: {p.text}; border-color: {p.accent}; }}
    QFrame#separator {{ background: {p.border}; border: none; max-width: 1px; }}
    QLabel#muted, QLabel#notice {{ color: {p.muted}; }}
    QLabel#problemNote {{ color: {p.unsure}; }}
    QLabel#sandboxBanner {{ color: {p.text}; background: {p.card}; border: 1px solid {p.unsure};
                           border-radius: 8px; padding: 6px 10px; }}
    QLabel#answer {{ color: {p.text}; }}
    QLabel#verdictText {{ color: {p.text}; font-size: {content:.1f}pt; }}
    QLabel#agreement {{ color: {p.muted}; }}
    """


def badge_style(level: Level | None, dark: bool) -> str:
    """The verdict badge: a pill in the verdict's colour."""
    text, background = verdict_colors(level, dark)
    return (f"QLabel {{ color: {text}; background: {background}; border-radius: 9px; padding: 2px 10px; "
            f"font-weight: 600; }}")  # fmt: skip


def answer_card_style(level: Level | None, dark: bool) -> str:
    """Only a checked answer's card gets the confident accent: a coloured edge."""
    p = palette(dark)
    edge = verdict_colors(level, dark)[0] if level == Level.CHECKED else p.border
    width = 2 if level == Level.CHECKED else 1
    return f"QFrame#card {{ background: {p.card}; border: {width}px solid {edge}; border-radius: 10px; }}"


def app_icon():  # -> QIcon
    from PySide6.QtGui import QIcon

    from kpdd.models import resources_dir

    return QIcon(str(resources_dir() / "icons" / "kpdd-tutor.svg"))

"""Settings: theme (light, dark, follow the system), font size, language, threads, the second
opinion, and the solution mode and sample count of the last solve (so the tutor opens the way the
student left it).

Stored in the KPDD configuration file (`kpdd.paths`, key "desktop"), so tests that point KPDD_HOME
at a temporary folder never read or change a user's real settings. The language switch goes
through Qt's translation system: a QTranslator loaded from `resources/translations/*.qm`; widgets
re-read their texts on the LanguageChange event.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QLocale, Qt, QTranslator
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from kpdd import paths, sandbox
from kpdd.models import SecondOpinionUse
from kpdd.solver import AUTO_SAMPLES

LANGUAGES = {"en": "English", "zh_CN": "简体中文"}
THEMES = ("system", "light", "dark")
# The second opinion's choices, in the order the Settings list shows them.
SECOND_OPINION_USES = (SecondOpinionUse.OFF, SecondOpinionUse.DOUBTFUL, SecondOpinionUse.EVERY)
SOLVE_MODES = ("pot", "cot", "both")  # the order of the window's Mode box
MAX_SAMPLES = 9


def translations_dir() -> Path:
    from kpdd.models import resources_dir

    return resources_dir() / "translations"


@dataclass
class DesktopSettings:
    theme: str = "system"
    font_size: int = 0  # points; 0 keeps the system's size
    language: str = ""  # "" follows the system locale
    threads: int = 0  # 0 lets llama.cpp's backend choose
    mode: str = "pot"  # solution mode of the last solve: "pot" | "cot" | "both"
    samples: int = AUTO_SAMPLES  # samples of the last solve (AUTO_SAMPLES, 0, is "Auto"; 1: greedy)

    @classmethod
    def load(cls) -> DesktopSettings:
        data = paths.load_config().get("desktop") or {}
        settings = cls()
        for key, value in data.items() if isinstance(data, dict) else []:
            if hasattr(settings, key) and isinstance(value, type(getattr(settings, key))):
                setattr(settings, key, value)
        # A hand-edited or older config must not open the window in a mode it does not have.
        if settings.mode not in SOLVE_MODES:
            settings.mode = cls.mode
        if not AUTO_SAMPLES <= settings.samples <= MAX_SAMPLES:
            settings.samples = cls.samples
        return settings

    def save(self) -> None:
        paths.update_config(desktop=asdict(self))

    def effective_language(self) -> str:
        if self.language in LANGUAGES:
            return self.language
        return "zh_CN" if QLocale.system().name().startswith("zh") else "en"


AUTOMATIC_MAX_THREADS = 8
# How long the worker looks at the machine's load before a solve: short against a solve's seconds.
AUTOMATIC_IDLE_SAMPLE_S = 0.1


def automatic_threads() -> int:
    """llama.cpp threads when the user leaves "Automatic", chosen again before each solve: the
    cores idle at that moment (kpdd.llama_backend.threads_for), at most 8.

    Threads that share a core with another busy program spin on each other: on a busy 2-core
    machine two threads made prompt chunks take over 10 s and Stop wait for them, and beside two
    busy programs a problem took 104 s against 4.9 s on one thread (bench/bench_threads.py). On a
    quiet 2-core machine Automatic (two threads there) answers in the app in 2.74 s against 3.67 s
    for one thread, median of 12 problems (bench/bench_threads.py --app)."""
    import os

    from kpdd.llama_backend import idle_cores, threads_for

    cores = os.cpu_count() or 2
    return min(AUTOMATIC_MAX_THREADS, threads_for(cores, idle_cores(AUTOMATIC_IDLE_SAMPLE_S)))


def effective_threads(settings: DesktopSettings) -> int | None:
    """The user's thread count, or None for "Automatic" (the worker picks before each solve)."""
    return settings.threads or None


# -- applying settings ------------------------------------------------------------------------

_translator: QTranslator | None = None
_system_font: QFont | None = None


def set_language(language: str) -> bool:
    """Install the translator for `language` ("en" removes it). Returns False when the .qm is missing."""
    global _translator
    app = QCoreApplication.instance()
    if _translator is not None:
        app.removeTranslator(_translator)
        _translator = None
    if language == "en":
        return True
    translator = QTranslator(app)
    if not translator.load(f"kpdd_{language}", str(translations_dir())):
        return False
    app.installTranslator(translator)
    _translator = translator
    return True


def dark_palette() -> QPalette:
    palette = QPalette()
    base, window, text = QColor("#1e1f22"), QColor("#2b2d30"), QColor("#e6e6e6")
    palette.setColor(QPalette.ColorRole.Window, window)
    palette.setColor(QPalette.ColorRole.WindowText, text)
    palette.setColor(QPalette.ColorRole.Base, base)
    palette.setColor(QPalette.ColorRole.AlternateBase, window)
    palette.setColor(QPalette.ColorRole.Text, text)
    palette.setColor(QPalette.ColorRole.Button, QColor("#3c3f41"))
    palette.setColor(QPalette.ColorRole.ButtonText, text)
    palette.setColor(QPalette.ColorRole.ToolTipBase, window)
    palette.setColor(QPalette.ColorRole.ToolTipText, text)
    palette.setColor(QPalette.ColorRole.PlaceholderText, QColor("#8c8c8c"))
    palette.setColor(QPalette.ColorRole.Highlight, QColor("#2f65ca"))
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    palette.setColor(QPalette.ColorRole.Link, QColor("#6aa9ff"))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7a7a7a"))
    return palette


def system_is_dark() -> bool:
    hints = QGuiApplication.styleHints()
    return hints.colorScheme() == Qt.ColorScheme.Dark


def apply_theme(theme: str) -> str:
    """Apply light/dark/system; returns the scheme in use ("light" or "dark")."""
    app = QApplication.instance()
    dark = theme == "dark" or (theme == "system" and system_is_dark())
    app.setProperty("kpdd_dark", dark)  # first: widgets restyle on the style and palette changes below
    app.setStyle("Fusion")  # the same widgets on every platform, and palettes that apply fully
    app.setPalette(dark_palette() if dark else app.style().standardPalette())
    return "dark" if dark else "light"


def apply_font_size(size: int) -> None:
    global _system_font
    app = QApplication.instance()
    if _system_font is None:
        _system_font = QFont(app.font())
    font = QFont(_system_font)
    if size > 0:
        font.setPointSize(size)
    app.setFont(font)


def apply_settings(settings: DesktopSettings) -> None:
    apply_theme(settings.theme)
    apply_font_size(settings.font_size)
    set_language(settings.effective_language())


# -- dialog -----------------------------------------------------------------------------------


class ThreadsBox(QSpinBox):
    """The CPU threads box of Settings and of Models: 0 is "Automatic", the cores idle at each solve
    (`automatic_threads`). One class, so both dialogs say the same and are translated once."""

    def __init__(self, value: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setRange(0, 64)
        self.setValue(value)
        self.retranslate()

    def retranslate(self) -> None:
        self.setSpecialValueText(self.tr("Automatic"))
        self.setToolTip(
            self.tr(
                "Automatic uses the cores that are idle when you press Solve. More threads than idle cores make a solve much slower."
            )
        )
        self.setAccessibleName(self.tr("CPU threads"))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)


class SettingsDialog(QDialog):
    """Theme, font size, language, threads and the second opinion; changes apply when the user
    presses OK. The second opinion is the core's setting (`kpdd.models.second_opinion_use`), so
    `kpdd solve` and the app follow the same choice."""

    def __init__(self, settings: DesktopSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.theme = QComboBox()
        self.font_size = QSpinBox()
        self.font_size.setRange(0, 32)
        self.language = QComboBox()
        for code, name in LANGUAGES.items():
            self.language.addItem(name, code)
        self.threads = ThreadsBox(settings.threads)
        self.form = QFormLayout()
        self.labels = [QLabel() for _ in range(4)]
        for label, field in zip(self.labels, (self.theme, self.font_size, self.language, self.threads)):
            label.setBuddy(field)
            self.form.addRow(label, field)
        from kpdd import models

        self.second_opinion = QComboBox()  # items in retranslate, in SECOND_OPINION_USES' order
        self.second_opinion_label = QLabel()
        self.second_opinion_label.setBuddy(self.second_opinion)
        self.second_opinion_note = QLabel()
        self.second_opinion_note.setWordWrap(True)
        self.second_opinion_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.second_installed = models.installed_second_opinion() is not None
        self.second_opinion.setEnabled(self.second_installed)
        self.form.addRow(self.second_opinion_label, self.second_opinion)
        self.form.addRow(self.second_opinion_note)
        # The core's setting too (`kpdd config unsafe_programs`): programs where no OS sandbox holds them.
        self.unsafe_programs = QCheckBox()
        self.unsafe_programs.setChecked(sandbox.unprotected_allowed())
        self.unsafe_programs_note = QLabel()
        self.unsafe_programs_note.setWordWrap(True)
        self.programs_label = QLabel()
        self.form.addRow(self.programs_label, self.unsafe_programs)
        self.form.addRow(self.unsafe_programs_note)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.setMinimumWidth(380)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.buttons)
        self.retranslate()
        use = models.second_opinion_use() if self.second_installed else models.SecondOpinionUse.OFF
        self.second_opinion.setCurrentIndex(SECOND_OPINION_USES.index(use))
        self.theme.setCurrentIndex(THEMES.index(settings.theme) if settings.theme in THEMES else 0)
        self.font_size.setValue(settings.font_size)
        self.language.setCurrentIndex(max(0, self.language.findData(settings.effective_language())))

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Settings"))
        current = self.theme.currentIndex()
        self.theme.clear()
        self.theme.addItems([self.tr("Follow the system"), self.tr("Light"), self.tr("Dark")])
        self.theme.setCurrentIndex(max(0, current))
        self.font_size.setSpecialValueText(self.tr("System size"))
        self.font_size.setSuffix(self.tr(" pt"))
        texts = [self.tr("&Theme:"), self.tr("&Font size:"), self.tr("&Language:"), self.tr("CPU &threads:")]
        for label, text in zip(self.labels, texts):
            label.setText(text)
        from kpdd import models

        name = models.SECOND_OPINION.name
        self.second_opinion_label.setText(self.tr("Second &opinion:"))
        current = self.second_opinion.currentIndex()
        self.second_opinion.clear()
        self.second_opinion.addItems([
            self.tr("Off: the student answers alone"),
            self.tr("Asked about doubtful answers only (faster)"),
            self.tr("Asked about every answer"),
        ])  # fmt: skip
        self.second_opinion.setCurrentIndex(max(0, current))
        self.second_opinion.setAccessibleName(self.tr("Second opinion"))
        if self.second_installed:
            self.second_opinion_note.setText(
                self.tr(
                    "{0} solves the problem too. On every answer (the default): about 20 points more "
                    'answers right than the student alone, and "checked" means both models agree (right '
                    "96% of the time); the answer shows at once and its verdict follows, about 7 s after "
                    "the start. On doubtful answers only: about 10 points more, as fast as the student "
                    "alone most of the time, and nothing is checked unless you ask."
                ).format(name)
            )
        elif getattr(sys, "frozen", False):  # an installer carries the student only; it has no pip
            self.second_opinion_note.setText(self.tr("Not part of this installation."))
        else:
            self.second_opinion_note.setText(
                self.tr("Not installed. `{0} --all` adds it ({1} MB).").format(
                    models.SETUP_COMMAND, models.SECOND_OPINION.size // 1_000_000
                )
            )
        self.programs_label.setText(self.tr("Programs:"))
        self.unsafe_programs.setText(self.tr("&Run them without an operating-system sandbox"))
        self.unsafe_programs.setAccessibleName(self.tr("Run programs without an operating-system sandbox"))
        self.unsafe_programs_note.setText(
            self.tr(
                "Only where this computer has no sandbox for programs (Help > About says): a program "
                "written by the model could then read or change your files. Steps mode needs none."
            )
        )
        names = [self.tr("Theme"), self.tr("Font size"), self.tr("Language")]
        for field, name in zip((self.theme, self.font_size, self.language), names):
            field.setAccessibleName(name)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def result_settings(self) -> DesktopSettings:
        return replace(
            self.settings,
            theme=THEMES[self.theme.currentIndex()],
            font_size=self.font_size.value(),
            language=self.language.currentData(),
            threads=self.threads.value(),
        )

    def unsafe_programs_choice(self) -> bool:
        return self.unsafe_programs.isChecked()

    def second_opinion_choice(self) -> SecondOpinionUse | None:
        """The second opinion as the user left it; None when it cannot be chosen (not installed)."""
        return SECOND_OPINION_USES[self.second_opinion.currentIndex()] if self.second_installed else None

    def apply(self, current: DesktopSettings, solver_thread: Any) -> DesktopSettings:
        """Save and apply what the user chose (OK pressed): the look at once, the model loaded again
        where threads or the second opinion changed, the sandbox asked again where programs were let
        run unprotected or stopped. Returns the settings now in force."""
        from kpdd import models

        new = self.result_settings()
        reload = new.threads != current.threads
        second = self.second_opinion_choice()
        if second is not None and second != models.second_opinion_use():
            # Turned on or off, the second model loads or goes; "doubtful" <-> "every" needs no reload.
            reload = reload or (SecondOpinionUse.OFF in (second, models.second_opinion_use()))
            models.set_second_opinion_use(second)
        new.save()
        apply_settings(new)
        if reload:
            solver_thread.reload(effective_threads(new))
        if self.unsafe_programs_choice() != sandbox.unprotected_allowed():
            paths.update_config(
                **{sandbox.UNPROTECTED_SETTING: "on" if self.unsafe_programs_choice() else "off"}
            )
            solver_thread.check_protection()
        return new

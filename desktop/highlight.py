"""Python syntax highlighting for the program panel (keywords, numbers, strings, comments), in the
colours of the theme in use (desktop.style.Palette's syntax_* colours)."""

from __future__ import annotations

import keyword
import re

from PySide6.QtGui import QColor, QFont, QSyntaxHighlighter, QTextCharFormat, QTextDocument

from desktop import style


def _format(color: str, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setForeground(QColor(color))
    if bold:
        fmt.setFontWeight(QFont.Weight.Bold)
    fmt.setFontItalic(italic)
    return fmt


def syntax_formats(dark: bool) -> dict[str, QTextCharFormat]:
    """One character format per kind of token, in the theme's colours."""
    p = style.palette(dark)
    return {
        "keyword": _format(p.syntax_keyword, bold=True),
        "builtin": _format(p.syntax_builtin),
        "number": _format(p.syntax_number),
        "string": _format(p.syntax_string),
        "comment": _format(p.syntax_comment, italic=True),
        "answer": _format(p.syntax_answer, bold=True),
    }


class PythonHighlighter(QSyntaxHighlighter):
    RULES = [
        (re.compile(r"\b(" + "|".join(keyword.kwlist) + r")\b"), "keyword"),
        (re.compile(r"\b(print|round|int|float|abs|min|max|sum|range|len|divmod)\b"), "builtin"),
        (re.compile(r"\banswer\b"), "answer"),
        (re.compile(r"\b\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\b"), "number"),
        (re.compile(r"'[^'\n]*'|\"[^\"\n]*\""), "string"),
        (re.compile(r"#[^\n]*"), "comment"),
    ]

    def __init__(self, document: QTextDocument, dark: bool = False) -> None:
        super().__init__(document)
        self.formats = syntax_formats(dark)

    def set_dark(self, dark: bool) -> None:
        """Recolour for the theme now shown."""
        self.formats = syntax_formats(dark)
        self.rehighlight()

    def highlightBlock(self, text: str) -> None:  # noqa: N802 (Qt override)
        for pattern, kind in self.RULES:
            for match in pattern.finditer(text):
                self.setFormat(match.start(), match.end() - match.start(), self.formats[kind])

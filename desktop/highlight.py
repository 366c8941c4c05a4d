"""Python syntax highlighting for the program panel (keywords, numbers, strings, comments)."""

from __future__ import annotations

import keyword
import re

from PySide6.QtGui import QColor, QFont, QSyntaxHighlighter, QTextCharFormat, QTextDocument


def _format(color: str, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setForeground(QColor(color))
    if bold:
        fmt.setFontWeight(QFont.Weight.Bold)
    fmt.setFontItalic(italic)
    return fmt


# Colours readable on both the light and the dark theme.
STYLES = {
    "keyword": _format("#c678dd", bold=True),
    "builtin": _format("#2b9bd8"),
    "number": _format("#d19a66"),
    "string": _format("#4caf50"),
    "comment": _format("#8a8f98", italic=True),
    "answer": _format("#e06c75", bold=True),
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

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)

    def highlightBlock(self, text: str) -> None:  # noqa: N802 (Qt override)
        for pattern, style in self.RULES:
            for match in pattern.finditer(text):
                self.setFormat(match.start(), match.end() - match.start(), STYLES[style])

"""A titled card, the window's unit of content (styled by desktop.style: #card, #cardTitle)."""

from __future__ import annotations

from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPlainTextEdit, QTextEdit, QVBoxLayout, QWidget


class Card(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.title_label = QLabel()
        self.title_label.setObjectName("cardTitle")
        self.header = QHBoxLayout()
        self.header.setContentsMargins(0, 0, 0, 0)
        self.header.addWidget(self.title_label)
        self.header.addStretch(1)
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(14, 10, 14, 12)
        self.layout_.setSpacing(6)
        self.layout_.addLayout(self.header)

    def setTitle(self, text: str) -> None:  # noqa: N802 (the QGroupBox name the panels had)
        self.title_label.setText(text)

    def title(self) -> str:
        return self.title_label.text()


def append_text(edit: QPlainTextEdit | QTextEdit, text: str) -> None:
    """Add streamed text at the end and keep it in view."""
    cursor = edit.textCursor()
    cursor.movePosition(QTextCursor.MoveOperation.End)
    cursor.insertText(text)
    edit.setTextCursor(cursor)
    edit.ensureCursorVisible()


def html_text(text: str) -> str:
    import html

    return html.escape(text, quote=False)

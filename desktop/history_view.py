"""The history panel: a searchable list of past solves, each with its verdict; reopen, delete, export."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop import presenters, style
from kpdd.answers import format_answer
from kpdd.history import HistoryEntry, HistoryStore
from kpdd.result import SolveResult
from kpdd.verdict import Level, judge


class HistoryPanel(QWidget):
    reopen_requested = Signal(object)  # HistoryEntry

    def __init__(self, store: HistoryStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.search = QLineEdit()
        self.search.setClearButtonEnabled(True)
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        self.reopen_button = QPushButton()
        self.delete_button = QPushButton()
        self.export_button = QPushButton()
        buttons = QHBoxLayout()
        for button in (self.reopen_button, self.delete_button, self.export_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        self.search.textChanged.connect(self.refresh)
        self.list.itemActivated.connect(lambda item: self.reopen_selected())
        self.list.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.reopen_button.clicked.connect(self.reopen_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        self.export_button.clicked.connect(self.export_dialog)
        self.retranslate()
        self.refresh()

    def retranslate(self) -> None:
        self.search.setPlaceholderText(self.tr("Search history"))
        self.search.setAccessibleName(self.tr("Search history"))
        self.list.setAccessibleName(self.tr("Solved problems"))
        self.reopen_button.setText(self.tr("&Reopen"))
        self.delete_button.setText(self.tr("Delete"))
        self.export_button.setText(self.tr("Export..."))
        self.reopen_button.setAccessibleName(self.tr("Reopen the selected problem"))
        self.delete_button.setAccessibleName(self.tr("Delete the selected problem from history"))
        self.export_button.setAccessibleName(self.tr("Export history to a file"))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
            self.refresh()  # the entries' verdicts and modes, in the new language
        super().changeEvent(event)

    def refresh(self) -> None:
        self.list.clear()
        dark = style.is_dark()
        for entry in self.store.search(self.search.text()):
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.created_at))
            level = entry_level(entry)
            answer = format_answer(entry.answer) if entry.answer is not None else "?"
            problem = entry.problem if len(entry.problem) <= 90 else entry.problem[:87] + "..."
            verdict = presenters.level_label(level)
            mode = self.mode_names().get(entry.mode, entry.mode)
            item = QListWidgetItem(
                f"{problem}\n= {answer}  \u00b7  {verdict}  \u00b7  {mode}  \u00b7  {when}"
            )
            item.setData(Qt.ItemDataRole.UserRole, entry.id)
            item.setData(Qt.ItemDataRole.UserRole + 1, level.value)
            item.setToolTip(entry.problem)
            if level != Level.CHECKED:  # only a checked answer keeps the plain, confident look
                item.setForeground(QBrush(QColor(style.verdict_colors(level, dark)[0])))
            self.list.addItem(item)
        self._update_buttons()

    def mode_names(self) -> dict[str, str]:
        return {"pot": self.tr("Program"), "cot": self.tr("Steps"), "both": self.tr("Both")}

    def _update_buttons(self) -> None:
        selected = self.list.currentItem() is not None
        self.reopen_button.setEnabled(selected)
        self.delete_button.setEnabled(selected)
        self.export_button.setEnabled(self.list.count() > 0)

    def selected_entry(self) -> HistoryEntry | None:
        item = self.list.currentItem()
        return self.store.get(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    def reopen_selected(self) -> None:
        entry = self.selected_entry()
        if entry is not None:
            self.reopen_requested.emit(entry)

    def delete_selected(self) -> None:
        entry = self.selected_entry()
        if entry is not None:
            self.store.delete(entry.id)
            self.refresh()

    def export_to(self, path: str | Path) -> int:
        ids = [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())]
        return self.store.export(path, ids)

    def export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, self.tr("Export history"), "kpdd-history.json",
            self.tr("JSON (*.json);;JSON lines (*.jsonl);;Markdown (*.md);;HTML (*.html)"),
        )  # fmt: skip
        if path:
            self.export_to(path)


def entry_level(entry: HistoryEntry) -> Level:
    """The verdict on a saved answer, worked out again from what the entry keeps."""
    try:
        return judge(SolveResult.from_dict(entry.result)).level
    except (ValueError, KeyError, TypeError):  # an entry written by a much older version
        return Level.NO_ANSWER if entry.answer is None else Level.NOT_SURE

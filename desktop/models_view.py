"""The model manager: the default model and added GGUF files; choose the active one and threads.

Reads GGUF headers only (`kpdd.models`), so it is instant and works with the network off.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.settings import ThreadsBox
from kpdd import models, paths
from kpdd.backend import BackendError


def size_text(size: int) -> str:
    if not size:
        return "?"
    return f"{size / 1e9:.2f} GB" if size >= 1e9 else f"{size / 1e6:.0f} MB"


class ModelManagerDialog(QDialog):
    models_changed = Signal()

    def __init__(self, settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.entries: list[models.ModelEntry] = []
        self.table = QTableWidget(0, 8)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().hide()
        self.add_button = QPushButton()
        self.use_button = QPushButton()
        self.remove_button = QPushButton()
        self.threads_label = QLabel()
        self.threads = ThreadsBox(settings.threads)
        self.threads_label.setBuddy(self.threads)
        self.message = QLabel()
        self.message.setWordWrap(True)
        buttons = QHBoxLayout()
        for widget in (self.add_button, self.use_button, self.remove_button):
            buttons.addWidget(widget)
        buttons.addStretch(1)
        buttons.addWidget(self.threads_label)
        buttons.addWidget(self.threads)
        self.close_box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.close_box.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addWidget(self.close_box)
        self.add_button.clicked.connect(self.add_dialog)
        self.use_button.clicked.connect(self.use_selected)
        self.remove_button.clicked.connect(self.remove_selected)
        self.threads.valueChanged.connect(self._threads_changed)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.resize(860, 360)
        self.retranslate()
        self.refresh()

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Models"))
        self.table.setHorizontalHeaderLabels([
            self.tr("Name"), self.tr("Measured"), self.tr("Size"), self.tr("Quantization"),
            self.tr("Architecture"), self.tr("Trained on KPDD"), self.tr("Status"), self.tr("File"),
        ])  # fmt: skip
        self.table.setAccessibleName(self.tr("Models"))
        self.add_button.setText(self.tr("&Add GGUF file..."))
        self.use_button.setText(self.tr("&Use selected"))
        self.remove_button.setText(self.tr("&Remove"))
        self.threads_label.setText(self.tr("CPU &threads:"))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
            self.refresh()
        super().changeEvent(event)

    def refresh(self) -> None:
        self.entries = models.list_models()
        active = paths.load_config().get("active_model")
        active_key = None
        try:
            active_key = models.active_model().key
        except BackendError:
            pass
        self.table.setRowCount(len(self.entries))
        for row, entry in enumerate(self.entries):
            trained = (
                self.tr("yes ({0})").format(entry.format_version)
                if entry.format_version
                else self.tr("no (few-shot)")
            )
            status = []
            if entry.key == active_key:
                status.append(self.tr("active"))
            if entry.is_default:
                status.append(self.tr("default"))
            if not entry.available:
                status.append(self.tr("unusable: {0}").format(entry.problem))
            cells = [entry.name, self.measured_text(entry.measured), size_text(entry.size),
                     entry.quantization or "?", entry.architecture or "?", trained, ", ".join(status),
                     str(entry.path)]  # fmt: skip
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, row)
                self.table.setItem(row, column, item)
        if not any(entry.available for entry in self.entries):  # e.g. only the student, no base yet
            self.message.setText(
                self.tr(
                    "No models yet. Run `{0}` in a terminal to install the default model, or add a GGUF file."
                ).format(models.SETUP_COMMAND)
            )
        elif active and active != active_key:
            self.message.setText(self.tr("The chosen model is not usable; the default is used instead."))
        self._update_buttons()

    def measured_text(self, measured: dict) -> str:
        """What bench/bench_models.py measured for a model, in the window's language."""
        if not measured or measured.get("accuracy") is None:
            return self.tr("not measured")
        accuracy, problems = f"{100 * measured['accuracy']:.1f}", measured.get("problems", "?")
        if measured.get("split") == "dev":
            text = self.tr("{0}% right ({1} dev-split problems)").format(accuracy, problems)
        elif measured.get("split") == "test":
            text = self.tr("{0}% right ({1} test-split problems)").format(accuracy, problems)
        else:
            text = self.tr("{0}% right ({1} problems)").format(accuracy, problems)
        if measured.get("median_s") is not None:
            text += self.tr(", {0} s to answer").format(f"{measured['median_s']:.1f}")
        # Every answer checked first: it is the default wherever the second opinion is installed.
        every = measured.get("second_opinion_every")
        if isinstance(every, dict) and every.get("accuracy") is not None:
            text += self.tr("; {0}% with every answer checked").format(f"{100 * every['accuracy']:.1f}")
            if every.get("median_s") is not None:
                text += self.tr(", {0} s to the verdict").format(f"{every['median_s']:.1f}")
        second = measured.get("second_opinion")
        if isinstance(second, dict) and second.get("accuracy") is not None:
            text += self.tr("; {0}% asking about doubtful answers only").format(
                f"{100 * second['accuracy']:.1f}"
            )
            if second.get("median_s") is not None:
                text += self.tr(", {0} s").format(f"{second['median_s']:.1f}")
        return text

    def selected(self) -> models.ModelEntry | None:
        rows = self.table.selectionModel().selectedRows()
        return self.entries[rows[0].row()] if rows else None

    def _update_buttons(self) -> None:
        entry = self.selected()
        self.use_button.setEnabled(entry is not None and entry.available)
        self.remove_button.setEnabled(entry is not None and entry.kind == "user")

    def add_file(self, path: str) -> models.ModelEntry | None:
        try:
            entry = models.add_model(path)
        except BackendError as exc:
            self.message.setText(self.tr("Not added: {0}").format(exc))
            return None
        self.message.setText(self.tr("Added {0}.").format(entry.name))
        try:
            models.active_model()
        except BackendError:
            # Nothing usable was active (no default installed): the file just added is the obvious choice.
            paths.update_config(active_model=entry.key)
            self.models_changed.emit()
        self.refresh()
        return entry

    def add_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Add a GGUF model"), "", self.tr("GGUF models (*.gguf)")
        )
        if path:
            self.add_file(path)

    def use_selected(self) -> None:
        entry = self.selected()
        if entry is not None and entry.available:
            paths.update_config(active_model=entry.key)
            self.message.setText(self.tr("{0} will be used for the next solve.").format(entry.name))
            self.refresh()
            self.models_changed.emit()

    def remove_selected(self) -> None:
        entry = self.selected()
        if entry is not None and entry.kind == "user":
            models.remove_model(entry.path)
            if paths.load_config().get("active_model") == entry.key:
                paths.update_config(active_model=None)
            self.refresh()
            self.models_changed.emit()

    def _threads_changed(self, value: int) -> None:
        self.settings.threads = value
        self.settings.save()
        self.models_changed.emit()

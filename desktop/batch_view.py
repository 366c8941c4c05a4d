"""Batch for teachers: a list of problems solved in the background, then a solution sheet.

The batch runs on the solver's worker thread (`kpdd.batch.run_batch`), so the window stays live.
Results go to a JSONL file per input file in the data folder: cancel, close the app, come back, and
Start continues with the problems not solved yet. Before solving, the dialog says how many problems it
read and lists the start of each; after, each answer's verdict (kpdd.verdict) and how many of them
are checked, so a teacher knows which to check by hand before handing a sheet out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop import presenters, style
from desktop.settings import SOLVE_MODES
from desktop.solve_request import BatchRequest
from desktop.workers import SolverThread
from kpdd.answers import format_answer
from kpdd.batch import (
    BatchProblem,
    default_results_path,
    format_eta,
    load_results,
    problem_key,
    read_problems,
    solver_identity,
    text_questions,
)
from kpdd.result import SolveResult
from kpdd.sheets import SolutionView
from kpdd.solver import AUTO_SAMPLES
from kpdd.verdict import Level, judge

# Auto, as a new user's main window: the answer a problem gets there, it gets in a sheet.
BATCH_SAMPLES = AUTO_SAMPLES


class BatchDialog(QDialog):
    batch_done = Signal(object)  # BatchOutcome

    def __init__(self, solver_thread: SolverThread, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.solver_thread = solver_thread
        self.path: Path | None = None
        self.problems: list[BatchProblem] = []
        self.request: BatchRequest | None = None
        self.outcome: Any = None
        self.results: list[dict | None] = []
        self.file_label = QLabel()
        self.file_label.setWordWrap(True)
        self.open_button = QPushButton()
        self.mode_combo = QComboBox()
        self.start_button = QPushButton()
        self.cancel_button = QPushButton()
        self.progress = QProgressBar()
        self.eta_label = QLabel()
        self.table = QTableWidget(0, 4)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        self.title_edit = QLineEdit()
        self.student_copy = QCheckBox()
        self.answer_key = QCheckBox()
        self.answer_key.setChecked(True)
        self.view_label = QLabel()
        self.view_combo = QComboBox()  # a program as worked steps, as its code, or both
        self.view_label.setBuddy(self.view_combo)
        self.summary_label = QLabel()
        self.summary_label.setWordWrap(True)
        self.export_button = QPushButton()
        self.export_label = QLabel()
        top = QHBoxLayout()
        top.addWidget(self.open_button)
        top.addWidget(self.file_label, 1)
        top.addWidget(self.mode_combo)
        run = QHBoxLayout()
        run.addWidget(self.start_button)
        run.addWidget(self.cancel_button)
        run.addWidget(self.progress, 1)
        run.addWidget(self.eta_label)
        sheet = QHBoxLayout()
        self.title_label = QLabel()
        self.title_label.setBuddy(self.title_edit)
        sheet.addWidget(self.title_label)
        sheet.addWidget(self.title_edit, 1)
        sheet.addWidget(self.view_label)
        sheet.addWidget(self.view_combo)
        sheet.addWidget(self.student_copy)
        sheet.addWidget(self.answer_key)
        sheet.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(run)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary_label)
        layout.addLayout(sheet)
        layout.addWidget(self.export_label)
        self.open_button.clicked.connect(self.open_dialog)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.export_button.clicked.connect(self.export_dialog)
        self.mode_combo.currentIndexChanged.connect(lambda _: self._load_existing())
        worker = solver_thread.worker
        self._connections = [
            worker.batch_progress.connect(self._on_progress),
            worker.batch_finished.connect(self._on_finished),
            worker.batch_failed.connect(self._on_failed),
        ]
        self.resize(900, 560)
        self.retranslate()
        self._update_state()

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Batch and solution sheets"))
        self.open_button.setText(self.tr("&Open problem list..."))
        self.open_button.setAccessibleName(self.tr("Open a list of problems"))
        if self.path is None:
            self.file_label.setText(
                self.tr(
                    "A .txt file (one problem per paragraph, or one per line when each line is a "
                    "question), a .csv or a .jsonl list."
                )
            )
        else:
            self._describe_file()
        mode = self.mode_combo.currentIndex()
        self.mode_combo.blockSignals(True)
        self.mode_combo.clear()
        self.mode_combo.addItems([self.tr("Program"), self.tr("Steps"), self.tr("Both")])
        self.mode_combo.setCurrentIndex(max(0, mode))
        self.mode_combo.blockSignals(False)
        self.mode_combo.setAccessibleName(self.tr("Solution mode"))
        self.cancel_button.setText(self.tr("&Cancel"))
        self.cancel_button.setAccessibleName(self.tr("Cancel the batch"))
        self.progress.setAccessibleName(self.tr("Batch progress"))
        self.table.setHorizontalHeaderLabels(
            [self.tr("#"), self.tr("Problem"), self.tr("Answer"), self.tr("Verdict")]
        )
        self.title_label.setText(self.tr("Sheet &title:"))
        self.title_edit.setAccessibleName(self.tr("Sheet title"))
        self.student_copy.setText(self.tr("&Student copy"))
        self.answer_key.setText(self.tr("&Answer key on the last page"))
        self.view_label.setText(self.tr("S&how:"))
        view = self.view_combo.currentIndex()
        self.view_combo.clear()
        self.view_combo.addItems([self.tr("Worked steps"), self.tr("Program"), self.tr("Both")])
        self.view_combo.setCurrentIndex(max(0, view))
        self.view_combo.setAccessibleName(self.tr("How a program's solution is shown on the sheet"))
        self.export_button.setText(self.tr("&Export sheet..."))
        self._update_state()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    # -- input --------------------------------------------------------------------------------

    def mode(self) -> str:
        return SOLVE_MODES[max(0, self.mode_combo.currentIndex())]

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Open a list of problems"), "", self.tr("Problem lists (*.txt *.csv *.jsonl)")
        )
        if path:
            self.load(path)

    def load(self, path: str | Path) -> bool:
        try:
            problems = read_problems(path)
        except (OSError, ValueError) as exc:
            self.file_label.setText(self.tr("Cannot use this file: {0}").format(exc))
            return False
        self.path, self.problems = Path(path), problems
        self._describe_file()
        if not self.title_edit.text():
            self.title_edit.setText(self.path.stem.replace("_", " ").replace("-", " ").strip().capitalize())
        self._load_existing()
        return True

    def _describe_file(self) -> None:
        """How many problems the file gave, before anything is solved, and a word where one problem
        asks several questions (perhaps several problems that were read as one)."""
        text = self.tr("Read {0} problems from {1}; the start of each is listed below.").format(
            len(self.problems), self.path.name
        )
        several = [p.index + 1 for p in self.problems if text_questions(p.question) > 1]
        if several:
            text += " " + self.tr(
                "Problem {0} asks several questions: if it holds several problems, put each on a line of "
                "its own or leave a blank line between them."
            ).format(", ".join(map(str, several)))
        self.file_label.setText(text)

    def results_path(self) -> Path:
        return default_results_path(self.path, self.mode())

    def _load_existing(self) -> None:
        """Show results finished in an earlier run, so the teacher sees what Start will skip."""
        if self.path is None:
            return
        finished = load_results(self.results_path())
        solver = self.solver_thread.worker.solver
        model = solver_identity(solver) if solver else None
        self.results = []
        for p in self.problems:
            found = None
            for item in finished.values():
                if item["result"].get("problem") == p.question and (
                    model is None or item["key"] == problem_key(p.question, self.mode(), BATCH_SAMPLES, model)
                ):
                    found = item["result"]
                    break
            self.results.append(found)
        self._fill_table()
        done = sum(r is not None for r in self.results)
        self.progress.setMaximum(max(1, len(self.problems)))
        self.progress.setValue(done)
        self.eta_label.setText(
            self.tr("{0} of {1} already solved").format(done, len(self.problems)) if done else ""
        )
        self._update_state()

    def _fill_table(self) -> None:
        dark = style.is_dark()
        self.table.setRowCount(len(self.problems))
        levels = []
        for row, problem in enumerate(self.problems):
            result = self.results[row] if row < len(self.results) else None
            answer = verdict = ""
            level = None
            if result is not None:
                answer = (
                    format_answer(result.get("answer"))
                    if result.get("answer") is not None
                    else self.tr("none")
                )
                level = judge(SolveResult.from_dict(result)).level
                levels.append(level)
                verdict = presenters.level_label(level)
            start = problem.question if len(problem.question) <= 160 else problem.question[:157] + "..."
            for column, text in enumerate((str(row + 1), start, answer, verdict)):
                item = QTableWidgetItem(text)
                if column == 1:
                    item.setToolTip(problem.question)
                if column == 3 and level is not None:
                    item.setForeground(QBrush(QColor(style.verdict_colors(level, dark)[0])))
                self.table.setItem(row, column, item)
        self.table.resizeColumnToContents(0)
        self.table.resizeColumnToContents(3)
        self._summarize(levels)

    def _summarize(self, levels: list[Level]) -> None:
        """How many answers are checked, and how many a teacher should check by hand."""
        if not levels:
            self.summary_label.clear()
            return
        checked = levels.count(Level.CHECKED)
        unsure = levels.count(Level.NOT_SURE)
        text = self.tr("{0} of {1} answers checked.").format(checked, len(levels))
        if unsure:
            text += " " + self.tr(
                "{0} to check by hand: they are marked \u201ccheck this one\u201d on the sheet."
            ).format(unsure)
        self.summary_label.setText(text)

    # -- running ------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.request is not None

    def start(self) -> None:
        if self.running or not self.problems:
            return
        self.request = BatchRequest(
            list(self.problems), self.results_path(), mode=self.mode(), samples=BATCH_SAMPLES
        )
        self.eta_label.setText(self.tr("Starting..."))
        self.solver_thread.run_batch(self.request)
        self._update_state()

    def detach(self) -> None:
        """Cut the worker's connections (the window is closing; the worker may outlive it)."""
        for connection in self._connections:
            QObject.disconnect(connection)
        self._connections = []

    def cancel(self) -> None:
        if self.request is not None:
            self.request.cancel.cancel()
            self.eta_label.setText(self.tr("Cancelling..."))

    def _on_progress(self, progress: Any) -> None:
        if self.request is None:
            return
        self.progress.setMaximum(max(1, progress.total))
        self.progress.setValue(progress.done)
        if progress.last_result is not None:
            for row, problem in enumerate(self.problems):
                if problem.question == progress.last_result.get("problem") and row < len(self.results):
                    self.results[row] = progress.last_result
            self._fill_table()
        eta = format_eta(progress.eta_s) if progress.done < progress.total else self.tr("done")
        self.eta_label.setText(self.tr("{0} of {1} solved, {2}").format(progress.done, progress.total, eta))

    def _on_finished(self, outcome: Any) -> None:
        if self.request is None:
            return
        self.request = None
        self.outcome = outcome
        self.results = list(outcome.results)
        self._fill_table()
        done = sum(r is not None for r in self.results)
        self.progress.setValue(done)
        if outcome.cancelled:
            self.eta_label.setText(
                self.tr("Cancelled: {0} of {1} solved. Start again to resume.").format(
                    done, len(self.results)
                )
            )
        else:
            self.eta_label.setText(
                self.tr("All {0} problems solved ({1} from an earlier run).").format(
                    len(self.results), outcome.resumed
                )
            )
        self._update_state()
        self.batch_done.emit(outcome)

    def _on_failed(self, message: str) -> None:
        if self.request is None:
            return
        self.request = None
        self.eta_label.setText(self.tr("The batch stopped: {0}").format(message))
        self._update_state()
        self.batch_done.emit(None)

    def _update_state(self) -> None:
        running = self.running
        done = sum(r is not None for r in self.results)
        self.start_button.setText(self.tr("&Resume") if 0 < done < len(self.problems) else self.tr("&Start"))
        self.start_button.setAccessibleName(self.start_button.text().replace("&", ""))
        self.start_button.setEnabled(bool(self.problems) and not running)
        self.cancel_button.setEnabled(running)
        self.open_button.setEnabled(not running)
        self.mode_combo.setEnabled(not running)
        self.export_button.setEnabled(done > 0 and not running)

    # -- sheets -------------------------------------------------------------------------------

    def export_to(self, path: str | Path) -> Path:
        from desktop.pdf import write_sheet
        from kpdd.sheets import SheetItem, SheetOptions

        items = [SheetItem.from_result(r) if r is not None else SheetItem(problem=p.question)
                 for p, r in zip(self.problems, self.results)]  # fmt: skip
        options = SheetOptions(
            title=self.title_edit.text() or "Math word problems",
            student_copy=self.student_copy.isChecked(),
            answer_key=self.answer_key.isChecked(),
            solution_view=list(SolutionView)[max(0, self.view_combo.currentIndex())],
        )
        written = write_sheet(items, options, path)
        self.export_label.setText(self.tr("Wrote {0}").format(written))
        return written

    def export_dialog(self) -> None:
        path, chosen = QFileDialog.getSaveFileName(
            self,
            self.tr("Export solution sheet"),
            "solution-sheet.pdf",
            self.tr("PDF (*.pdf);;HTML (*.html);;Markdown (*.md)"),
        )
        if path:
            if not Path(path).suffix:
                path += ".md" if "Markdown" in chosen else ".html" if "HTML" in chosen else ".pdf"
            self.export_to(path)

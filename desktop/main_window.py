"""The tutor's main window: a problem, three streaming panels, the answer, hints and answer checks.

A thin layer: solving happens in `kpdd.solver` on the worker thread (`desktop.workers`); what to
say about a result comes from `desktop.presenters`; history is `kpdd.history`.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QAction, QFont, QFontDatabase, QIcon, QKeySequence, QShortcut, QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop import presenters
from desktop.highlight import PythonHighlighter
from desktop.history_view import HistoryPanel
from desktop.settings import MAX_SAMPLES, SOLVE_MODES, DesktopSettings, effective_threads
from desktop.workers import SolveRequest, SolverThread
from kpdd.format import Mode, Stage, format_key_information, normalize_problem
from kpdd.history import HistoryStore, solve_result_from_dict
from kpdd.models import SETUP_COMMAND, resources_dir
from kpdd.solver import AUTO_SAMPLES, MAX_PROBLEM_CHARS

# "Open file..." reads at most this much: a solve uses the first MAX_PROBLEM_CHARS characters anyway,
# and a large file picked by mistake must not be loaded into the editor on the UI thread.
MAX_PROBLEM_FILE_BYTES = 100_000


def load_samples() -> list[dict[str, str]]:
    """Sample problems from resources/samples/problems.jsonl (written for this project)."""
    path = resources_dir() / "samples" / "problems.jsonl"
    samples = []
    try:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                samples.append({"title": item.get("title", ""), "question": item["question"]})
    except (OSError, ValueError, KeyError):
        pass
    return samples


def app_icon() -> QIcon:
    return QIcon(str(resources_dir() / "icons" / "kpdd-tutor.svg"))


class ProblemEdit(QPlainTextEdit):
    """The problem box; anything longer than the solver takes is cut here, with a notice."""

    truncated = Signal(int)  # original length
    submitted = Signal()  # Ctrl+Enter inside the box

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTabChangesFocus(True)  # Tab moves on (keyboard navigation), it is not typed
        self.textChanged.connect(self._limit)

    def keyPressEvent(self, event: Any) -> None:  # noqa: N802 (Qt override)
        # Ctrl+Enter solves even while the box has the focus (a shortcut alone may not see it).
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and (
            event.modifiers() & Qt.KeyboardModifier.ControlModifier
        ):
            self.submitted.emit()
            return
        super().keyPressEvent(event)

    def _limit(self) -> None:
        text = self.toPlainText()
        if len(text) <= MAX_PROBLEM_CHARS:
            return
        cut = text[:MAX_PROBLEM_CHARS]
        if " " in cut[-200:]:
            cut = cut[: cut.rfind(" ")]
        self.blockSignals(True)
        self.setPlainText(cut)
        self.moveCursor(QTextCursor.MoveOperation.End)
        self.blockSignals(False)
        self.truncated.emit(len(text))
        self.textChanged.emit()


class StagePanel(QGroupBox):
    """A titled panel with a text box, editable for the key-point stages."""

    def __init__(self, editable: bool, monospace: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QPlainTextEdit()
        self.edit.setReadOnly(not editable)
        self.edit.setTabChangesFocus(True)
        if monospace:
            self.edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(6, 6, 6, 6)
        self.layout_.addWidget(self.edit, 1)

    def append(self, text: str) -> None:
        cursor = self.edit.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text)
        self.edit.setTextCursor(cursor)
        self.edit.ensureCursorVisible()


class MainWindow(QMainWindow):
    """Signals for tests and the benchmark: `first_token` and `solve_finished` (the SolveResult)."""

    first_token = Signal()
    solve_finished = Signal(object)
    message_shown = Signal(str, str)

    def __init__(
        self,
        settings: DesktopSettings | None = None,
        solver_thread: SolverThread | None = None,
        history: HistoryStore | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings or DesktopSettings.load()
        self.solver_thread = solver_thread or SolverThread()
        self.history = history or HistoryStore()
        self.result: Any = None  # the SolveResult shown (or hidden in hint/check mode)
        self.result_problem = ""  # the normalized problem `result` belongs to
        self.request: SolveRequest | None = None
        self.hint: presenters.HintState | None = None
        self.pending_check = False
        self.last_message: tuple[str, str] | None = None
        self.model_name = ""
        self.model_state = "idle"  # idle | loading | ready | missing | corrupt
        self._first_token_seen = False
        self.samples = load_samples()
        self.setWindowIcon(app_icon())
        # Deleted when closed, while Qt is fully alive: left to interpreter shutdown, PySide may
        # destroy it after objects it depends on (seen as a crash at exit).
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._build()
        self._connect_worker()
        self.retranslate()
        self.mode_combo.setCurrentIndex(SOLVE_MODES.index(self.settings.mode))
        self.samples_spin.setValue(self.settings.samples)
        self._update_state()
        self.resize(1180, 780)

    # -- building -----------------------------------------------------------------------------

    def _build(self) -> None:
        central = QWidget()
        self.setCentralWidget(central)
        root = QVBoxLayout(central)
        root.setContentsMargins(10, 8, 10, 8)

        # Problem row: the text and, on its right, where it comes from.
        self.problem_label = QLabel()
        self.problem_edit = ProblemEdit()
        self.problem_edit.setMaximumHeight(120)
        self.problem_label.setBuddy(self.problem_edit)
        self.sample_combo = QComboBox()
        self.sample_combo.setMinimumWidth(220)
        self.open_button = QPushButton()
        source_col = QVBoxLayout()
        source_col.addWidget(self.sample_combo)
        source_col.addWidget(self.open_button)
        source_col.addStretch(1)
        problem_row = QHBoxLayout()
        problem_row.addWidget(self.problem_edit, 1)
        problem_row.addLayout(source_col)
        root.addWidget(self.problem_label)
        root.addLayout(problem_row)

        # Controls: mode, samples, solve/stop/hint.
        self.mode_label = QLabel()
        self.mode_combo = QComboBox()
        self.mode_label.setBuddy(self.mode_combo)
        self.samples_label = QLabel()
        self.samples_spin = QSpinBox()
        self.samples_spin.setRange(AUTO_SAMPLES, MAX_SAMPLES)  # the lowest, 0, reads "Auto"
        self.samples_label.setBuddy(self.samples_spin)
        self.solve_button = QPushButton()
        self.solve_button.setDefault(True)
        self.stop_button = QPushButton()
        self.hint_button = QPushButton()
        self.reveal_button = QPushButton()
        self.notice_label = QLabel()
        self.notice_label.setWordWrap(True)
        self.notice_label.setObjectName("notice")
        controls = QHBoxLayout()
        for widget in (self.mode_label, self.mode_combo, self.samples_label, self.samples_spin):
            controls.addWidget(widget)
        controls.addSpacing(12)
        for widget in (self.solve_button, self.stop_button, self.hint_button, self.reveal_button):
            controls.addWidget(widget)
        controls.addWidget(self.notice_label, 1)
        root.addLayout(controls)

        # The three stage panels.
        self.core_panel = StagePanel(editable=True)
        self.key_panel = StagePanel(editable=True)
        self.resolve_core_button = QPushButton()
        self.resolve_key_button = QPushButton()
        self.core_panel.layout_.addWidget(self.resolve_core_button, 0, Qt.AlignmentFlag.AlignRight)
        self.key_panel.layout_.addWidget(self.resolve_key_button, 0, Qt.AlignmentFlag.AlignRight)
        self.solution_panel = StagePanel(editable=False, monospace=True)
        self.program_edit = self.solution_panel.edit
        self.highlighter = PythonHighlighter(self.program_edit.document())
        self.sandbox_label = QLabel()
        self.sandbox_label.setWordWrap(True)
        self.sandbox_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.steps_title = QLabel()
        self.steps_edit = QPlainTextEdit()
        self.steps_edit.setReadOnly(True)
        self.steps_edit.setTabChangesFocus(True)
        self.solution_panel.layout_.addWidget(self.sandbox_label)
        self.solution_panel.layout_.addWidget(self.steps_title)
        self.solution_panel.layout_.addWidget(self.steps_edit, 1)
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.core_panel)
        left.addWidget(self.key_panel)
        left.setSizes([150, 260])
        panels = QSplitter(Qt.Orientation.Horizontal)
        panels.addWidget(left)
        panels.addWidget(self.solution_panel)
        panels.setSizes([420, 560])
        root.addWidget(panels, 1)

        # The answer, and checking the student's own answer.
        answer_frame = QFrame()
        answer_frame.setObjectName("answerFrame")
        answer_frame.setFrameShape(QFrame.Shape.StyledPanel)
        answer_row = QHBoxLayout(answer_frame)
        self.answer_title = QLabel()
        self.answer_label = QLabel()
        self.answer_label.setObjectName("answer")
        big = QFont(self.answer_label.font())
        big.setPointSizeF(max(big.pointSizeF(), 10) * 1.8)
        big.setBold(True)
        self.answer_label.setFont(big)
        self.answer_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.agreement_label = QLabel()
        self.agreement_label.setWordWrap(True)
        self.check_edit = QLineEdit()
        self.check_edit.setMaximumWidth(180)
        self.check_button = QPushButton()
        self.check_label = QLabel()
        self.check_label.setWordWrap(True)
        answer_col = QVBoxLayout()
        top = QHBoxLayout()
        top.addWidget(self.answer_title)
        top.addWidget(self.answer_label)
        top.addWidget(self.agreement_label, 1)
        answer_col.addLayout(top)
        check_row = QHBoxLayout()
        self.check_title = QLabel()
        self.check_title.setBuddy(self.check_edit)
        check_row.addWidget(self.check_title)
        check_row.addWidget(self.check_edit)
        check_row.addWidget(self.check_button)
        check_row.addWidget(self.check_label, 1)
        answer_col.addLayout(check_row)
        answer_row.addLayout(answer_col)
        root.addWidget(answer_frame)

        # History dock.
        self.history_panel = HistoryPanel(self.history)
        self.history_dock = QDockWidget()
        self.history_dock.setObjectName("historyDock")
        self.history_dock.setWidget(self.history_panel)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.history_dock)
        self.resizeDocks([self.history_dock], [270], Qt.Orientation.Horizontal)

        self._build_menus()
        self.model_status = QLabel()
        self.statusBar().addPermanentWidget(self.model_status)

        # Wiring.
        self.problem_edit.textChanged.connect(self._problem_changed)
        self.problem_edit.truncated.connect(self._problem_truncated)
        self.problem_edit.submitted.connect(self._solve_shortcut)
        self.sample_combo.activated.connect(self._sample_chosen)
        self.open_button.clicked.connect(self.open_problem_dialog)
        self.solve_button.clicked.connect(lambda: self.solve())
        self.stop_button.clicked.connect(self.stop)
        self.hint_button.clicked.connect(self.next_hint)
        self.reveal_button.clicked.connect(self.reveal_all)
        self.check_button.clicked.connect(self.check_answer)
        self.check_edit.returnPressed.connect(self.check_answer)
        self.resolve_core_button.clicked.connect(self.resolve_from_core_question)
        self.resolve_key_button.clicked.connect(self.resolve_from_key_information)
        self.history_panel.reopen_requested.connect(self.reopen)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, activated=self._solve_shortcut)
        QShortcut(QKeySequence("Escape"), self, activated=self.stop)
        QShortcut(QKeySequence("Ctrl+H"), self, activated=self.next_hint)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        self.file_menu = bar.addMenu("")
        self.open_action = QAction(
            self, shortcut=QKeySequence.StandardKey.Open, triggered=self.open_problem_dialog
        )
        self.batch_action = QAction(self, shortcut=QKeySequence("Ctrl+B"), triggered=self.open_batch)
        self.quit_action = QAction(self, shortcut=QKeySequence.StandardKey.Quit, triggered=self.close)
        self.file_menu.addActions([self.open_action, self.batch_action])
        self.file_menu.addSeparator()
        self.file_menu.addAction(self.quit_action)
        self.tools_menu = bar.addMenu("")
        self.models_action = QAction(self, shortcut=QKeySequence("Ctrl+M"), triggered=self.open_models)
        self.settings_action = QAction(self, shortcut=QKeySequence("Ctrl+,"), triggered=self.open_settings)
        self.history_action = self.history_dock.toggleViewAction()
        self.history_action.setShortcut(QKeySequence("Ctrl+Y"))
        self.tools_menu.addActions([self.models_action, self.settings_action, self.history_action])
        self.help_menu = bar.addMenu("")
        self.about_action = QAction(self, triggered=self.open_about)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)  # macOS: the application menu
        self.help_menu.addAction(self.about_action)

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("KPDD Tutor"))
        self.problem_label.setText(self.tr("&Word problem:"))
        self.problem_edit.setPlaceholderText(
            self.tr("Type or paste a math word problem here, pick a sample, or open a text file.")
        )
        self.problem_edit.setAccessibleName(self.tr("Word problem"))
        index = self.sample_combo.currentIndex()
        self.sample_combo.clear()
        self.sample_combo.addItem(self.tr("Sample problems..."))
        for sample in self.samples:
            self.sample_combo.addItem(sample["title"] or sample["question"][:40], sample["question"])
        self.sample_combo.setCurrentIndex(max(0, index))
        self.sample_combo.setAccessibleName(self.tr("Sample problems"))
        self.open_button.setText(self.tr("&Open file..."))
        self.open_button.setAccessibleName(self.tr("Open a problem from a text file"))
        self.mode_label.setText(self.tr("&Mode:"))
        mode = self.mode_combo.currentIndex()
        self.mode_combo.clear()
        self.mode_combo.addItems([self.tr("Program"), self.tr("Steps"), self.tr("Both")])
        self.mode_combo.setCurrentIndex(max(0, mode))
        self.mode_combo.setAccessibleName(self.tr("Solution mode"))
        self.mode_combo.setToolTip(
            self.tr(
                "Program: a Python program computes the answer. "
                "Steps: worked reasoning. Both: both, and whether they agree."
            )
        )
        self.samples_label.setText(self.tr("S&amples:"))
        self.samples_spin.setSpecialValueText(self.tr("Auto"))
        self.samples_spin.setAccessibleName(self.tr("Number of solutions to sample and vote on"))
        self.samples_spin.setToolTip(
            self.tr(
                "More samples vote on the answer and give a confidence. Auto writes one solution, and "
                "five to vote on when its answer looks wrong."
            )
        )
        self.solve_button.setText(self.tr("&Solve"))
        self.solve_button.setToolTip(self.tr("Solve the problem (Ctrl+Enter)"))
        self.solve_button.setAccessibleName(self.tr("Solve"))
        self.stop_button.setText(self.tr("S&top"))
        self.stop_button.setToolTip(self.tr("Stop solving (Esc)"))
        self.stop_button.setAccessibleName(self.tr("Stop"))
        self.reveal_button.setText(self.tr("Show &whole solution"))
        self.reveal_button.setAccessibleName(self.tr("Show the whole solution"))
        self._update_hint_button()
        self.core_panel.setTitle(self.tr("1. Core question"))
        self.core_panel.edit.setAccessibleName(self.tr("Core question (you can edit it)"))
        self.core_placeholder = self.tr("What the problem really asks, in one sentence.")
        self.core_panel.edit.setPlaceholderText(self.core_placeholder)
        self.key_panel.edit.setPlaceholderText(self.tr("The facts needed to answer it, one per line."))
        self.key_panel.setTitle(self.tr("2. Key information"))
        self.key_panel.edit.setAccessibleName(self.tr("Key information, one fact per line (you can edit it)"))
        self.solution_panel.setTitle(self.tr("3. Solution"))
        self.program_edit.setAccessibleName(self.tr("Program"))
        self.program_edit.setPlaceholderText(self.tr("The program or the steps appear here."))
        self.steps_title.setText(self.tr("Steps:"))
        self.steps_edit.setAccessibleName(self.tr("Worked steps"))
        self.sandbox_label.setAccessibleName(self.tr("Program result"))
        self.resolve_core_button.setText(self.tr("Solve again from this question"))
        self.resolve_core_button.setAccessibleName(self.tr("Solve again from the edited core question"))
        self.resolve_key_button.setText(self.tr("Solve again from these facts"))
        self.resolve_key_button.setAccessibleName(self.tr("Solve again from the edited key information"))
        self.answer_title.setText(self.tr("Answer:"))
        self.answer_label.setAccessibleName(self.tr("Answer"))
        self.agreement_label.setAccessibleName(self.tr("Agreement and confidence"))
        self.check_title.setText(self.tr("&Your answer:"))
        self.check_edit.setPlaceholderText(self.tr("e.g. 42"))
        self.check_edit.setAccessibleName(self.tr("Your answer"))
        self.check_button.setText(self.tr("&Check my answer"))
        self.check_button.setAccessibleName(self.tr("Check my answer"))
        self.history_dock.setWindowTitle(self.tr("History"))
        self.file_menu.setTitle(self.tr("&File"))
        self.open_action.setText(self.tr("&Open problem..."))
        self.batch_action.setText(self.tr("&Batch and solution sheets..."))
        self.quit_action.setText(self.tr("&Quit"))
        self.tools_menu.setTitle(self.tr("&Tools"))
        self.models_action.setText(self.tr("&Models..."))
        self.settings_action.setText(self.tr("&Settings..."))
        self.history_action.setText(self.tr("&History"))
        self.help_menu.setTitle(self.tr("&Help"))
        self.about_action.setText(self.tr("&About KPDD Tutor"))
        self._update_model_status()
        self._update_steps_visibility()
        self._refresh_result_texts()

    def _refresh_result_texts(self) -> None:
        """After a language switch, say again what the shown result means, in the new language."""
        result = getattr(self, "result", None)
        if result is None or self.busy or not self._has_result_for_problem():
            return
        program = result.shown_solution(Mode.POT)
        if program is not None and self.program_edit.toPlainText() == program.text:
            self._show_sandbox(program)
        if self.hint is None and self.answer_label.text() not in ("", "?"):
            self.agreement_label.setText(presenters.agreement_text(result))
        if self.check_label.property("correct") is not None and self.check_edit.text().strip():
            self._show_verdict()
        if not result.cancelled and result.answer is not None:
            self.notice_label.setText(self.tr("Solved in {0:.1f} s.").format(result.seconds))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    # -- worker -------------------------------------------------------------------------------

    def _connect_worker(self) -> None:
        worker = self.solver_thread.worker
        # Kept, so closing the window can cut them: a worker outliving the window must not call it.
        self._connections = [
            worker.model_loading.connect(self._model_loading),
            worker.model_ready.connect(self._model_ready),
            worker.model_failed.connect(self._model_failed),
            worker.event.connect(self._on_event),
            worker.finished.connect(self._on_finished),
            worker.failed.connect(self._on_failed),
        ]

    def _model_loading(self, name: str) -> None:
        self.model_state, self.model_name = "loading", name
        self._update_model_status()

    def _model_ready(self, name: str) -> None:
        self.model_state, self.model_name = "ready", name
        self._update_model_status()

    def _model_failed(self, kind: str, message: str) -> None:
        self.model_state = kind
        self._update_model_status()
        if kind == "missing":
            title = self.tr("No model yet")
            text = self.tr(
                "KPDD Tutor needs a model to solve problems, and none is installed yet.\n\n"
                "Open a terminal and run:\n\n    {0}\n\n"
                "It places the default model ({1}) in your data folder; it works offline afterwards. "
                "You can also add a GGUF file of your own in Tools > Models."
            ).format(SETUP_COMMAND, "SmolLM2-135M-Instruct, about 98 MB")
        else:
            title = self.tr("The model could not be loaded")
            text = self.tr(
                "The model file could not be opened. It may be corrupt or incomplete.\n\n{0}\n\n"
                "Choose another model in Tools > Models, or run `{1}` again."
            ).format(message, SETUP_COMMAND)
        self.show_message(title, text, QMessageBox.Icon.Warning)

    def _update_model_status(self) -> None:
        texts = {
            "idle": self.tr("Model: not loaded yet"),
            "loading": self.tr("Loading model {0}...").format(self.model_name),
            "ready": self.tr("Model: {0}").format(self.model_name),
            "missing": self.tr("No model installed: run `{0}`").format(SETUP_COMMAND),
            "corrupt": self.tr("The model could not be loaded"),
        }
        self.model_status.setText(texts.get(self.model_state, ""))

    def show_message(
        self, title: str, text: str, icon: QMessageBox.Icon = QMessageBox.Icon.Information
    ) -> None:
        """A non-blocking message box (tests read `last_message`)."""
        self.last_message = (title, text)
        box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.message_shown.emit(title, text)

    # -- solving ------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self.request is not None

    def current_mode(self) -> str:
        return SOLVE_MODES[max(0, self.mode_combo.currentIndex())]

    def _remember_mode(self, mode: str, samples: int) -> None:
        """The next start opens in the mode the student last solved in (not one a history entry
        showed: opening an entry sets the box without solving)."""
        if (mode, samples) != (self.settings.mode, self.settings.samples):
            self.settings = replace(self.settings, mode=mode, samples=samples)
            try:
                self.settings.save()
            except OSError:
                pass  # a full or read-only disk must not stop the solve; only the memory is lost

    def problem_text(self) -> str:
        return self.problem_edit.toPlainText()

    def _solve_shortcut(self) -> None:
        if self.solve_button.isEnabled():
            self.solve()

    def solve(
        self,
        core_question: str | None = None,
        key_information: str | None = None,
        purpose: str = "show",
    ) -> SolveRequest | None:
        """Start a solve on the worker thread; stages given are kept (re-solve from a stage)."""
        problem = self.problem_text()
        if self.busy or not problem.strip():
            return None
        self.request = SolveRequest(
            problem=problem,
            mode=self.current_mode(),
            samples=self.samples_spin.value(),
            core_question=core_question,
            key_information=key_information,
            purpose=purpose,
        )
        self._remember_mode(self.request.mode, self.request.samples)
        self.hint = None if purpose != "hint" else self.hint
        self._first_token_seen = False
        self._request_started = False
        self.check_label.clear()
        self._clear_panels(keep_core=core_question is not None, keep_key=key_information is not None)
        if purpose != "show":
            self._mask_panels(self.tr("The tutor is working on the problem..."))
        self.notice_label.setText(self.tr("Solving..."))
        self.solver_thread.solve(self.request)
        self._update_state()
        return self.request

    def stop(self) -> None:
        if self.request is None:
            return
        self.request.cancel.cancel()
        self.notice_label.setText(self.tr("Stopping..."))
        if not self._request_started:
            # Still queued (behind a batch or a model load): nothing to wait for. The worker drops
            # the cancelled request when it gets to it; its late signals carry a stale id.
            self.request = None
            self.core_panel.edit.setPlaceholderText(self.core_placeholder)
            self.notice_label.setText(self.tr("Stopped."))
            self._update_state()
            self.solve_finished.emit(None)

    def resolve_from_core_question(self) -> None:
        core = self.core_panel.edit.toPlainText().strip()
        if core:
            self.solve(core_question=core)

    def resolve_from_key_information(self) -> None:
        core = self.core_panel.edit.toPlainText().strip()
        key = self.key_panel.edit.toPlainText().strip()
        if core and key:
            self.solve(core_question=core, key_information=key)

    def _clear_panels(self, keep_core: bool = False, keep_key: bool = False) -> None:
        if not keep_core:
            self.core_panel.edit.clear()
        if not keep_key:
            self.key_panel.edit.clear()
        self.program_edit.clear()
        self.steps_edit.clear()
        self.sandbox_label.clear()
        self.answer_label.clear()
        self.agreement_label.clear()
        self._update_steps_visibility()

    def _mask_panels(self, text: str) -> None:
        for edit in (self.core_panel.edit, self.key_panel.edit, self.program_edit, self.steps_edit):
            edit.clear()
        self.core_panel.edit.setPlaceholderText(text)

    def _masked(self) -> bool:
        return self.request is not None and self.request.purpose != "show"

    def _on_event(self, request_id: int, event: Any) -> None:
        if self.request is None or request_id != self.request.request_id:
            return
        self._request_started = True
        if event.kind == "text" and event.text.strip() and not self._first_token_seen:
            self._first_token_seen = True
            self.first_token.emit()
        if self._masked():
            return
        stage = event.stage
        if event.kind == "stage_start":
            if stage == Stage.PROGRAM:
                self.program_edit.clear()
                self.sandbox_label.setText(self.tr("Writing the program..."))
            elif stage == Stage.STEPS:
                self.steps_edit.clear()
                self._update_steps_visibility(force_steps=True)
            elif stage == Stage.CORE_QUESTION and self.request.core_question is None:
                self.core_panel.edit.clear()
            elif stage == Stage.KEY_INFORMATION and self.request.key_information is None:
                self.key_panel.edit.clear()
        elif event.kind == "text" and (
            (stage == Stage.CORE_QUESTION and self.request.core_question is None)
            or (stage == Stage.KEY_INFORMATION and self.request.key_information is None)
        ):
            (self.core_panel if stage == Stage.CORE_QUESTION else self.key_panel).append(event.text)
        elif event.kind == "text" and stage == Stage.PROGRAM:
            self.solution_panel.append(event.text)
        elif event.kind == "text" and stage == Stage.STEPS:
            cursor = self.steps_edit.textCursor()
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.insertText(event.text)
            self.steps_edit.setTextCursor(cursor)
        elif event.kind == "recheck":
            self.notice_label.setText(
                self.tr("The first answer looked wrong: writing {0} more solutions to vote on...").format(
                    event.data - 1
                )
            )
        elif event.kind == "program_result":
            self.sandbox_label.setText(self.tr("Running the program in the sandbox..."))
            self._show_sandbox(event.data)

    def _show_sandbox(self, solution: Any) -> None:
        ok, text = presenters.sandbox_summary(solution)
        color = "#2e7d32" if ok else "#c62828"
        self.sandbox_label.setText(f'<span style="color:{color}">{_html(text)}</span>')

    def _on_finished(self, request_id: int, result: Any) -> None:
        if self.request is None or request_id != self.request.request_id:
            return
        request, self.request = self.request, None
        self.core_panel.edit.setPlaceholderText(self.core_placeholder)
        if result.cancelled:
            self.notice_label.setText(self.tr("Stopped."))
        elif result.error:
            self.notice_label.setText(self.tr("The model stopped with an error: {0}").format(result.error))
        elif result.answer is None:
            self.notice_label.setText(
                self.tr(
                    "The model did not produce a usable answer. Try Steps or Both, "
                    "or edit the key information and solve again."
                )
            )
        else:
            self.notice_label.setText(self.tr("Solved in {0:.1f} s.").format(result.seconds))
        if result.problem_truncated:
            self.notice_label.setText(
                self.notice_label.text()
                + " "
                + self.tr("The problem was long and only its first {0} characters were used.").format(
                    MAX_PROBLEM_CHARS
                )
            )
        if not result.cancelled:
            self.result = result
            self.result_problem = normalize_problem(request.problem)
            if result.solutions or result.core_question:
                self.history.add(result)
                self.history_panel.refresh()
        if request.purpose == "hint" and not result.cancelled:
            self.hint = presenters.HintState(result)
            self.next_hint()
        elif request.purpose == "check" and not result.cancelled:
            self._render_hidden()
            self._show_verdict()
        elif request.purpose == "show":
            self.render_result(result)
        self._update_state()
        self.solve_finished.emit(result)

    def _on_failed(self, request_id: int, message: str) -> None:
        if self.request is None or request_id != self.request.request_id:
            return
        self.request = None
        self.core_panel.edit.setPlaceholderText(self.core_placeholder)
        if message not in ("no model", "cancelled"):
            self.notice_label.setText(self.tr("Something went wrong: {0}").format(message))
        else:
            self.notice_label.setText("")
        self._update_state()
        self.solve_finished.emit(None)

    # -- showing a result ---------------------------------------------------------------------

    def render_result(self, result: Any) -> None:
        """Show a whole result (after a solve, or reopened from history)."""
        self.hint = None
        self.core_panel.edit.setPlainText(result.core_question)
        self.key_panel.edit.setPlainText(format_key_information(result.key_information))
        program = result.shown_solution(Mode.POT)
        steps = result.shown_solution(Mode.COT)
        self.program_edit.setPlainText(program.text if program else "")
        if program is not None:
            self._show_sandbox(program)
        else:
            self.sandbox_label.clear()
        self.steps_edit.setPlainText(steps.text if steps else "")
        self._update_steps_visibility()
        self.answer_label.setText(presenters.answer_text(result) or self.tr("no answer"))
        self.agreement_label.setText(presenters.agreement_text(result))
        self._update_hint_button()

    def _render_hidden(self) -> None:
        for edit in (self.core_panel.edit, self.key_panel.edit, self.program_edit, self.steps_edit):
            edit.clear()
        self.sandbox_label.clear()
        self.answer_label.setText("?")
        self.core_panel.edit.setPlaceholderText(
            self.tr("Hidden so you can work on it yourself: ask for a hint or show the whole solution.")
        )

    def reveal_all(self) -> None:
        if self.result is not None and not self.busy:
            self.core_panel.edit.setPlaceholderText(self.core_placeholder)
            self.render_result(self.result)
            self._update_state()

    def _update_steps_visibility(self, force_steps: bool = False) -> None:
        mode = self.current_mode() if self.result is None or self.busy else self.result.mode.value
        show_steps = force_steps or mode in ("cot", "both") or bool(self.steps_edit.toPlainText())
        show_program = mode in ("pot", "both") or bool(self.program_edit.toPlainText())
        self.steps_title.setVisible(show_steps and show_program)
        self.steps_edit.setVisible(show_steps)
        self.program_edit.setVisible(show_program)
        self.sandbox_label.setVisible(show_program)

    # -- tutoring -----------------------------------------------------------------------------

    def _has_result_for_problem(self) -> bool:
        return self.result is not None and self.result_problem == normalize_problem(self.problem_text())

    def next_hint(self) -> None:
        """Reveal the next part: core question, key information, each solution step, the answer."""
        if self.busy or not self.problem_text().strip():
            return
        if not self._has_result_for_problem():
            self.hint = None
            self.solve(purpose="hint")
            return
        if self.hint is None:
            self.hint = presenters.HintState(self.result)
            self._render_hidden()
            self.core_panel.edit.setPlaceholderText(self.core_placeholder)
        self.hint.next()
        self._render_hint()
        self._update_state()

    def _render_hint(self) -> None:
        hint = self.hint
        self.core_panel.edit.setPlaceholderText(self.core_placeholder)
        self.core_panel.edit.setPlainText("\n".join(hint.shown("core_question")))
        self.key_panel.edit.setPlainText(
            format_key_information("\n".join(hint.shown("key_information")).splitlines())
        )
        steps = hint.shown("step")
        target = self.program_edit if self.result.program else self.steps_edit
        other = self.steps_edit if target is self.program_edit else self.program_edit
        other.clear()
        target.setPlainText("\n".join(steps))
        self.sandbox_label.clear()
        answer = hint.shown("answer")
        self.answer_label.setText(answer[0] if answer else "?")
        if answer and self.result.program:
            program = self.result.shown_solution(Mode.POT)
            if program is not None:
                self._show_sandbox(program)
        self.agreement_label.setText(presenters.agreement_text(self.result) if answer else "")
        self._update_steps_visibility()
        # Hints walk through one solution; an empty box for the other one would only distract.
        other.setVisible(False)
        self.steps_title.setVisible(False)
        if other is self.program_edit:
            self.sandbox_label.setVisible(False)

    def _update_hint_button(self) -> None:
        self._set_hint_text()
        # The label grows ("Next hint (5 of 7)"): keep the whole text visible.
        self.hint_button.setMinimumWidth(self.hint_button.sizeHint().width())

    def _set_hint_text(self) -> None:
        hint = self.hint
        if hint is None or (self.result is not None and not self._has_result_for_problem()):
            self.hint_button.setText(self.tr("&Hint"))
            self.hint_button.setAccessibleName(self.tr("Hint: reveal the core question first"))
        elif hint.finished:
            self.hint_button.setText(self.tr("No more hints"))
        else:
            self.hint_button.setText(
                self.tr("Next &hint ({0} of {1})").format(hint.revealed + 1, len(hint.sequence))
            )
            self.hint_button.setAccessibleName(self.tr("Next hint"))

    def check_answer(self) -> None:
        if not self.check_edit.text().strip():
            self.check_label.setText(self.tr("Type your answer first."))
            return
        if self._has_result_for_problem():
            self._show_verdict()
            return
        if self.busy or not self.problem_text().strip():
            return
        self.solve(purpose="check")
        self.check_label.setText(self.tr("The tutor is solving the problem to check your answer..."))

    def _show_verdict(self) -> presenters.CheckVerdict:
        revealed = self.answer_label.text() not in ("", "?")
        verdict = presenters.check_answer(self.check_edit.text(), self.result, reveal=revealed)
        color = {True: "#2e7d32", False: "#b35c00", None: "#8a6d00"}[
            verdict.correct
        ]  # a mismatch is not proof
        self.check_label.setText(
            f'<span style="color:{color}; font-weight:bold">{_html(verdict.message)}</span>'
        )
        self.check_label.setProperty("correct", verdict.correct)
        return verdict

    # -- problem sources ----------------------------------------------------------------------

    def _problem_changed(self) -> None:
        if not self.busy and self.hint is not None and not self._has_result_for_problem():
            self.hint = None
        self._update_state()

    def _problem_truncated(self, original: int) -> None:
        self.notice_label.setText(
            self.tr(
                "The pasted text had {0} characters; only the first {1} are kept, "
                "which is more than a word problem needs."
            ).format(original, MAX_PROBLEM_CHARS)
        )

    def _sample_chosen(self, index: int) -> None:
        question = self.sample_combo.itemData(index)
        if question:
            self.problem_edit.setPlainText(question)
            self.sample_combo.setCurrentIndex(0)

    def open_problem_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Open a word problem"), "", self.tr("Text files (*.txt *.md);;All files (*)")
        )
        if path:
            self.open_problem(path)

    def open_problem(self, path: str | Path) -> None:
        """Put a text file's problem in the editor. A file picked by mistake (a video, a scan, a
        folder) gets a message and leaves the editor as it was; it is never read whole."""
        path = Path(path)
        if path.is_dir():
            self._cannot_open(self.tr("{0} is a folder, not a text file.").format(path.name))
            return
        try:
            size = path.stat().st_size
            with path.open("rb") as handle:
                head = handle.read(MAX_PROBLEM_FILE_BYTES + 1)
        except OSError as exc:
            self._cannot_open(exc.strerror or str(exc))
            return
        if size > MAX_PROBLEM_FILE_BYTES or b"\0" in head:
            self._cannot_open(
                self.tr("{0} is not a word problem: open a plain text file (.txt) of at most {1} KB.").format(
                    path.name, MAX_PROBLEM_FILE_BYTES // 1000
                )
            )
            return
        self.problem_edit.setPlainText(head.decode("utf-8-sig", errors="replace").strip())

    def _cannot_open(self, why: str) -> None:
        self.show_message(self.tr("Cannot open the file"), why, QMessageBox.Icon.Warning)

    def reopen(self, entry: Any) -> None:
        if self.busy:
            return
        result = solve_result_from_dict(entry.result)
        self.problem_edit.setPlainText(result.problem)
        self.mode_combo.setCurrentIndex(SOLVE_MODES.index(result.mode.value))
        self.result, self.result_problem = result, normalize_problem(result.problem)
        self.render_result(result)
        self.notice_label.setText(self.tr("Reopened from history."))
        self._update_state()

    # -- dialogs ------------------------------------------------------------------------------

    def open_models(self) -> None:
        from desktop.models_view import ModelManagerDialog

        dialog = ModelManagerDialog(self.settings, self)
        dialog.models_changed.connect(lambda: self.solver_thread.reload(effective_threads(self.settings)))
        dialog.open()
        self.models_dialog = dialog

    def open_settings(self) -> None:
        from desktop.settings import SettingsDialog, apply_settings

        dialog = SettingsDialog(self.settings, self)

        def accepted() -> None:
            new = dialog.result_settings()
            threads_changed = new.threads != self.settings.threads
            self.settings = new
            new.save()
            apply_settings(new)
            if threads_changed:
                self.solver_thread.reload(effective_threads(new))

        dialog.accepted.connect(accepted)
        dialog.open()
        self.settings_dialog = dialog

    def open_about(self) -> None:
        from desktop.about import AboutDialog

        dialog = AboutDialog(self)
        dialog.open()
        self.about_dialog = dialog

    def open_batch(self) -> None:
        from desktop.batch_view import BatchDialog

        if getattr(self, "batch_dialog", None) is None:
            self.batch_dialog = BatchDialog(self.solver_thread, self)
        self.batch_dialog.show()
        self.batch_dialog.raise_()

    # -- state --------------------------------------------------------------------------------

    def _update_state(self) -> None:
        has_problem = bool(self.problem_text().strip())
        busy = self.busy
        self.solve_button.setEnabled(has_problem and not busy)
        self.stop_button.setEnabled(busy)
        self.hint_button.setEnabled(
            has_problem and not busy and not (self.hint is not None and self.hint.finished)
        )
        self.check_button.setEnabled(has_problem and not busy)
        has_result = self._has_result_for_problem()
        # Only while part of the solution is hidden (hint mode, or after checking an answer).
        self.reveal_button.setVisible(has_result and self.answer_label.text() == "?")
        self.reveal_button.setEnabled(not busy)
        self.resolve_core_button.setEnabled(has_result and not busy and self.hint is None)
        self.resolve_key_button.setEnabled(has_result and not busy and self.hint is None)
        self.problem_edit.setReadOnly(busy)
        self.mode_combo.setEnabled(not busy)
        self.samples_spin.setEnabled(not busy)
        self._update_hint_button()

    def closeEvent(self, event: Any) -> None:  # noqa: N802 (Qt override)
        if self.request is not None:
            self.request.cancel.cancel()
        dialog = getattr(self, "batch_dialog", None)
        if dialog is not None:
            dialog.cancel()
            dialog.detach()
        self.solver_thread.shutdown()
        for connection in self._connections:
            QObject.disconnect(connection)
        self._connections = []
        self.history.close()
        super().closeEvent(event)


def _html(text: str) -> str:
    import html

    return html.escape(text, quote=False)

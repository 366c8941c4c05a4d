"""The tutor's main window: the problem, three stage cards, the answer with its verdict, hints and checks.

A thin layer: solving happens in `kpdd.solver` on the worker thread (`desktop.workers`); what to
say about a result (its verdict, worked steps, sandbox run, agreement) comes from
`desktop.presenters`; history is `kpdd.history`; the look is `desktop.style`.

Layout: a problem card (the text, where it came from, mode, samples, Solve/Stop/Hint), then the
core question and key information cards beside the solution card (a program as worked steps, the
program one click away; worked reasoning with wrong arithmetic marked), and the answer card: the
answer, its verdict (only a checked answer looks confident; a doubtful one says why and offers the
hints) and the student's own answer to check.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QAction, QFont, QFontDatabase, QIcon, QKeySequence, QShortcut, QTextCursor
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QTextBrowser,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from desktop import presenters, style
from desktop.highlight import PythonHighlighter
from desktop.history_view import HistoryPanel
from desktop.settings import MAX_SAMPLES, SOLVE_MODES, DesktopSettings, effective_threads
from desktop.workers import SolveRequest, SolverThread
from kpdd.arithmetic import arithmetic_slips
from kpdd.format import MAX_PROBLEM_CHARS, Mode, Stage, cut_problem, format_key_information, normalize_problem
from kpdd.history import HistoryStore
from kpdd.models import SETUP_COMMAND, resources_dir, setup_models_text
from kpdd.result import SolveResult, StageEvent
from kpdd.solver import AUTO_SAMPLES
from kpdd.verdict import Level
from kpdd.worked import WorkedSolution

# "Open file..." reads at most this much: a solve uses the first MAX_PROBLEM_CHARS characters anyway,
# and a large file picked by mistake must not be loaded into the editor on the UI thread.
MAX_PROBLEM_FILE_BYTES = 100_000
# What the answer card shows while there is no answer to show.
HIDDEN_ANSWER = "?"


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
        self.setObjectName("problem")
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
        cut = cut_problem(text)
        if cut == text:
            return
        self.blockSignals(True)
        self.setPlainText(cut)
        self.moveCursor(QTextCursor.MoveOperation.End)
        self.blockSignals(False)
        self.truncated.emit(len(text))
        self.textChanged.emit()


class Card(QFrame):
    """A titled card, the window's unit of content (styled by desktop.style: #card, #cardTitle)."""

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


class StagePanel(Card):
    """A stage card with a text box, editable for the key-point stages."""

    def __init__(self, editable: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QPlainTextEdit()
        self.edit.setReadOnly(not editable)
        self.edit.setTabChangesFocus(True)
        self.layout_.addWidget(self.edit, 1)

    def append(self, text: str) -> None:
        _append(self.edit, text)


def _append(edit: QPlainTextEdit | QTextEdit, text: str) -> None:
    cursor = edit.textCursor()
    cursor.movePosition(QTextCursor.MoveOperation.End)
    cursor.insertText(text)
    edit.setTextCursor(cursor)
    edit.ensureCursorVisible()


class SolutionPanel(Card):
    """The solution card: a program as worked steps or as its code (a toggle), the sandbox's word on
    it, and worked reasoning (Steps and Both modes)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.worked_button = QPushButton()
        self.program_button = QPushButton()
        self.view_group = QButtonGroup(self)
        for button in (self.worked_button, self.program_button):
            button.setObjectName("viewToggle")
            button.setCheckable(True)
            self.view_group.addButton(button)
            self.header.addWidget(button)
        self.worked_button.setChecked(True)
        self.worked_view = QTextBrowser()
        self.worked_view.setOpenLinks(False)
        self.program_edit = QPlainTextEdit()
        self.program_edit.setObjectName("program")
        self.program_edit.setReadOnly(True)
        self.program_edit.setTabChangesFocus(True)
        self.program_edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.sandbox_label = QLabel()
        self.sandbox_label.setWordWrap(True)
        self.sandbox_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.steps_title = QLabel()
        self.steps_title.setObjectName("cardTitle")
        self.steps_edit = QTextEdit()
        self.steps_edit.setReadOnly(True)
        self.steps_edit.setTabChangesFocus(True)
        for widget, stretch in ((self.worked_view, 3), (self.program_edit, 3), (self.sandbox_label, 0),
                                (self.steps_title, 0), (self.steps_edit, 2)):  # fmt: skip
            self.layout_.addWidget(widget, stretch)

    def append(self, text: str) -> None:
        _append(self.program_edit, text)


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
        self.result: SolveResult | None = None  # the result shown (or hidden in hint/check mode)
        self.result_problem = ""  # the normalized problem `result` belongs to
        self.request: SolveRequest | None = None
        self.hint: presenters.HintState | None = None
        self.last_message: tuple[str, str] | None = None
        self.model_name = ""
        self.second_model = ""  # the model that can check an answer ("" when none is loaded)
        self.result_history_id: int | None = None  # the history entry `result` is saved as
        self.protection: Any = None  # kpdd.sandbox.Protection, once the worker has looked
        self.model_state = "idle"  # idle | loading | ready | missing | corrupt
        self.worked = WorkedSolution()  # the shown program as worked steps
        # What the answer card says: empty | solving | checking | shown | hidden | stopped.
        self.answer_state = "empty"
        self.truncated_text = ""  # the problem as cut on paste, while its note stands
        self.truncated_from = 0  # how long the pasted text was
        self.check_problem = ""  # the normalized problem the student's typed answer belongs to
        self.shown_problem = ""  # the normalized problem the stage cards belong to ("" when empty)
        self._first_token_seen = False
        self._request_started = False
        self._styling = False
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
        self._apply_style()
        self._show_empty_answer()
        self._update_state()
        self.resize(1280, 820)

    # -- building -----------------------------------------------------------------------------

    def _build(self) -> None:
        central = QWidget()
        central.setObjectName("central")
        self.setCentralWidget(central)
        root = QVBoxLayout(central)
        root.setContentsMargins(12, 10, 12, 10)
        root.setSpacing(10)
        # Stays up while programs cannot run protected here (kpdd.sandbox.protection): not only in About.
        self.sandbox_banner = QLabel()
        self.sandbox_banner.setObjectName("sandboxBanner")
        self.sandbox_banner.setWordWrap(True)
        self.sandbox_banner.hide()
        root.addWidget(self.sandbox_banner)
        root.addWidget(self._build_problem_card())

        self.core_panel = StagePanel(editable=True)
        self.key_panel = StagePanel(editable=True)
        self.resolve_core_button = QPushButton()
        self.resolve_key_button = QPushButton()
        self.core_panel.layout_.addWidget(self.resolve_core_button, 0, Qt.AlignmentFlag.AlignRight)
        self.key_panel.layout_.addWidget(self.resolve_key_button, 0, Qt.AlignmentFlag.AlignRight)
        self.solution_panel = SolutionPanel()
        panel = self.solution_panel
        self.worked_view, self.program_edit = panel.worked_view, panel.program_edit
        self.sandbox_label, self.steps_title, self.steps_edit = (
            panel.sandbox_label,
            panel.steps_title,
            panel.steps_edit,
        )
        self.highlighter = PythonHighlighter(self.program_edit.document(), style.is_dark())
        left = QSplitter(Qt.Orientation.Vertical)
        left.setChildrenCollapsible(False)
        left.addWidget(self.core_panel)
        left.addWidget(self.key_panel)
        left.setSizes([120, 240])
        self.panels = QSplitter(Qt.Orientation.Horizontal)
        self.panels.setChildrenCollapsible(False)
        self.panels.setHandleWidth(10)
        left.setHandleWidth(10)
        self.panels.addWidget(left)
        self.panels.addWidget(self.solution_panel)
        self.panels.setStretchFactor(0, 2)
        self.panels.setStretchFactor(1, 3)
        root.addWidget(self.panels, 1)
        root.addWidget(self._build_answer_card())

        # History dock.
        self.history_panel = HistoryPanel(self.history)
        self.history_dock = QDockWidget()
        self.history_dock.setObjectName("historyDock")
        self.history_dock.setWidget(self.history_panel)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.history_dock)
        self.resizeDocks([self.history_dock], [250], Qt.Orientation.Horizontal)

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
        self.hint_path_button.clicked.connect(self.start_hints)
        self.second_check_button.clicked.connect(self.check_with_second_model)
        self.check_button.clicked.connect(self.check_answer)
        self.check_edit.returnPressed.connect(self.check_answer)
        self.check_edit.textEdited.connect(self._answer_typed)
        self.resolve_core_button.clicked.connect(self.resolve_from_core_question)
        self.resolve_key_button.clicked.connect(self.resolve_from_key_information)
        self.solution_panel.view_group.buttonClicked.connect(lambda _button: self._update_solution_view())
        self.history_panel.reopen_requested.connect(self.reopen)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, activated=self._solve_shortcut)
        QShortcut(QKeySequence("Escape"), self, activated=self.stop)
        QShortcut(QKeySequence("Ctrl+H"), self, activated=self.next_hint)

    def _build_problem_card(self) -> Card:
        """The problem, where it came from, and how to solve it."""
        card = Card()
        self.problem_card = card
        self.problem_label = card.title_label
        self.problem_edit = ProblemEdit()
        self.problem_edit.setMinimumHeight(64)
        self.problem_edit.setMaximumHeight(96)
        self.problem_label.setBuddy(self.problem_edit)
        self.sample_combo = QComboBox()
        self.sample_combo.setMinimumWidth(220)
        self.open_button = QPushButton()
        card.header.addWidget(self.sample_combo)
        card.header.addWidget(self.open_button)
        card.layout_.addWidget(self.problem_edit)
        # Shown before solving, and as long as the cut text is in the box: not after the answer.
        self.problem_note = QLabel()
        self.problem_note.setObjectName("problemNote")
        self.problem_note.setWordWrap(True)
        self.problem_note.hide()
        card.layout_.addWidget(self.problem_note)

        self.mode_label = QLabel()
        self.mode_combo = QComboBox()
        self.mode_label.setBuddy(self.mode_combo)
        self.samples_label = QLabel()
        self.samples_spin = QSpinBox()
        self.samples_spin.setRange(AUTO_SAMPLES, MAX_SAMPLES)  # the lowest, 0, reads "Auto"
        self.samples_label.setBuddy(self.samples_spin)
        self.solve_button = QPushButton()
        self.solve_button.setObjectName("solve")
        self.solve_button.setDefault(True)
        self.stop_button = QPushButton()
        self.hint_button = QPushButton()
        self.reveal_button = QPushButton()
        self.notice_label = QLabel()
        self.notice_label.setWordWrap(True)
        self.notice_label.setObjectName("notice")
        self.notice_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        controls = QHBoxLayout()
        controls.setSpacing(8)
        for widget in (self.mode_label, self.mode_combo, self.samples_label, self.samples_spin):
            controls.addWidget(widget)
        controls.addSpacing(16)
        for widget in (self.solve_button, self.stop_button, self.hint_button, self.reveal_button):
            controls.addWidget(widget)
        controls.addWidget(self.notice_label, 1)
        card.layout_.addLayout(controls)
        return card

    def _build_answer_card(self) -> Card:
        """The answer with its verdict, the way on for a doubtful one, and the student's own answer."""
        card = Card()
        self.answer_card = card
        self.answer_title = card.title_label
        self.verdict_badge = QLabel()
        self.verdict_badge.setObjectName("verdictBadge")
        card.header.insertWidget(1, self.verdict_badge)
        card.header.insertSpacing(1, 8)
        self.answer_label = QLabel()
        self.answer_label.setObjectName("answer")
        self.answer_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.answer_label.setMinimumWidth(120)
        self.answer_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.verdict_label = QLabel()
        self.verdict_label.setObjectName("verdictText")
        self.verdict_label.setWordWrap(True)
        self.verdict_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.agreement_label = QLabel()
        self.agreement_label.setObjectName("agreement")
        self.agreement_label.setWordWrap(True)
        self.hint_path_button = QPushButton()
        # The default asks the second model only about answers that look wrong; a student can ask
        # it about any other "not sure" answer.
        self.second_check_button = QPushButton()
        self.second_check_button.setObjectName("secondCheck")
        ways_on = QHBoxLayout()
        ways_on.setSpacing(8)
        ways_on.addWidget(self.second_check_button)
        ways_on.addWidget(self.hint_path_button)
        ways_on.addStretch(1)
        verdict_col = QVBoxLayout()
        verdict_col.setSpacing(4)
        verdict_col.addWidget(self.verdict_label)
        verdict_col.addWidget(self.agreement_label)
        verdict_col.addLayout(ways_on)
        verdict_col.addStretch(1)

        self.check_title = QLabel()
        self.check_edit = QLineEdit()
        self.check_edit.setMaximumWidth(180)
        self.check_title.setBuddy(self.check_edit)
        self.check_button = QPushButton()
        self.check_label = QLabel()
        self.check_label.setWordWrap(True)
        check_row = QHBoxLayout()
        check_row.addWidget(self.check_title)
        check_row.addWidget(self.check_edit)
        check_row.addWidget(self.check_button)
        check_col = QVBoxLayout()
        check_col.addLayout(check_row)
        check_col.addWidget(self.check_label)
        check_col.addStretch(1)
        check_box = QWidget()
        check_box.setLayout(check_col)
        check_box.setMaximumWidth(460)

        row = QHBoxLayout()
        row.setSpacing(18)
        row.addWidget(self.answer_label, 0, Qt.AlignmentFlag.AlignTop)
        row.addLayout(verdict_col, 1)
        separator = QFrame()
        separator.setFrameShape(QFrame.Shape.VLine)
        separator.setObjectName("separator")
        row.addWidget(separator)
        row.addWidget(check_box)
        card.layout_.addLayout(row)
        return card

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
        """Every text of the window in the current language (at start and on a language switch)."""
        self.setWindowTitle(self.tr("KPDD Tutor"))
        self._retranslate_problem_bar()
        self._retranslate_panels()
        self._retranslate_answer_and_menus()
        self._update_model_status()
        self._show_problem_note()
        self._refresh_result_texts()
        self._show_protection()

    def _protection_known(self, protection: Any) -> None:
        self.protection = protection
        self._show_protection()

    def _show_protection(self) -> None:
        """The banner, and Program and Both mode off where programs may not run (Steps still works)."""
        protection = self.protection
        if protection is None or protection.protected:
            self.sandbox_banner.hide()
        elif protection.allowed:
            self.sandbox_banner.setText(self.tr(
                "Programs run unprotected on this computer: it has no operating-system sandbox for them, "
                "and Settings lets them run anyway. Only the tutor's own checks stand between a program "
                "and your files."
            ))  # fmt: skip
            self.sandbox_banner.show()
        else:
            self.sandbox_banner.setText(self.tr(
                "Programs cannot run safely on this computer: it has no operating-system sandbox for "
                "them, so Program and Both mode are off. Steps mode works. Settings can let programs run "
                "unprotected."
            ))  # fmt: skip
            self.sandbox_banner.show()
        allowed = protection is None or protection.allowed
        model = self.mode_combo.model()
        for mode in ("pot", "both"):
            model.item(SOLVE_MODES.index(mode)).setEnabled(allowed)
        if not allowed and self.current_mode() != "cot":
            self.mode_combo.setCurrentIndex(SOLVE_MODES.index("cot"))

    def _retranslate_problem_bar(self) -> None:
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
                "Program: a Python program computes the answer (right most often). "
                "Steps: worked reasoning, its arithmetic checked. Both: both, and whether they agree."
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

    def _retranslate_panels(self) -> None:
        self.core_panel.setTitle(self.tr("1. Core question"))
        self.core_panel.edit.setAccessibleName(self.tr("Core question (you can edit it)"))
        self.core_placeholder = self.tr("What the problem really asks, in one sentence.")
        self.core_panel.edit.setPlaceholderText(self.core_placeholder)
        self.key_panel.edit.setPlaceholderText(self.tr("The facts needed to answer it, one per line."))
        self.key_panel.setTitle(self.tr("2. Key information"))
        self.key_panel.edit.setAccessibleName(self.tr("Key information, one fact per line (you can edit it)"))
        self.solution_panel.setTitle(self.tr("3. Solution"))
        self.solution_panel.worked_button.setText(self.tr("Worked steps"))
        self.solution_panel.worked_button.setAccessibleName(self.tr("Show the program as worked steps"))
        self.solution_panel.program_button.setText(self.tr("Program"))
        self.solution_panel.program_button.setAccessibleName(self.tr("Show the program itself"))
        self.worked_view.setAccessibleName(self.tr("Worked steps"))
        self.worked_view.setPlaceholderText(self.tr("The solution appears here, step by step."))
        self.program_edit.setAccessibleName(self.tr("Program"))
        self.program_edit.setPlaceholderText(self.tr("The program or the steps appear here."))
        self.steps_title.setText(self.tr("Reasoning steps"))
        self.steps_edit.setAccessibleName(self.tr("Worked steps"))
        self.sandbox_label.setAccessibleName(self.tr("Program result"))
        self.resolve_core_button.setText(self.tr("Solve again from this question"))
        self.resolve_core_button.setAccessibleName(self.tr("Solve again from the edited core question"))
        self.resolve_key_button.setText(self.tr("Solve again from these facts"))
        self.resolve_key_button.setAccessibleName(self.tr("Solve again from the edited key information"))

    def _retranslate_answer_and_menus(self) -> None:
        self.answer_title.setText(self.tr("Answer"))
        self.answer_label.setAccessibleName(self.tr("Answer"))
        self.verdict_badge.setAccessibleName(self.tr("How sure the tutor is"))
        self.verdict_label.setAccessibleName(self.tr("Why the tutor is sure or not"))
        self.agreement_label.setAccessibleName(self.tr("Agreement and confidence"))
        self.hint_path_button.setText(self.tr("Work through it with &hints"))
        self.hint_path_button.setAccessibleName(self.tr("Work through the problem with hints"))
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

    def _refresh_result_texts(self) -> None:
        """After a language or theme switch, show the result again in the new words and colours."""
        if self.answer_state == "empty":
            self._show_empty_answer()
        elif self.answer_state == "stopped":
            self._show_stopped()
        result = self.result
        if result is None or self.busy or not self._has_result_for_problem():
            self._update_solution_view()
            return
        if self.hint is not None:
            self._render_hint()
        elif self.answer_state == "shown":
            self._render_solution(result)
            self._render_answer(result)
        elif self.answer_state == "hidden":
            self._show_hidden_answer()
        if self.check_label.property("correct") is not None and self.check_edit.text().strip():
            self._show_verdict()
        if not result.cancelled and result.answer is not None and self.answer_state == "shown":
            self.notice_label.setText(self.tr("Solved in {0:.1f} s.").format(result.seconds))

    # A new theme or font size (desktop.settings applies them to the whole app).
    _RESTYLE_EVENTS = (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange, QEvent.Type.FontChange,
                       QEvent.Type.ApplicationFontChange)  # fmt: skip

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        elif event.type() in self._RESTYLE_EVENTS and not self._styling:
            self._apply_style()
            self._refresh_result_texts()
        super().changeEvent(event)

    # -- style --------------------------------------------------------------------------------

    @property
    def dark(self) -> bool:
        return style.is_dark()

    def _apply_style(self) -> None:
        """Cards, readable type and the verdict colours for the theme and font size in use."""
        self._styling = True
        try:
            base = QApplication.font().pointSizeF()
            base = base if base > 0 else 10.0
            self.setStyleSheet(style.stylesheet(self.dark, base))
            self.highlighter.set_dark(self.dark)
            big = QFont(self.font())
            big.setPointSizeF(base * style.ANSWER_SCALE)
            self.answer_label.setFont(big)
        finally:
            self._styling = False

    # -- worker -------------------------------------------------------------------------------

    def _connect_worker(self) -> None:
        worker = self.solver_thread.worker
        # Kept, so closing the window can cut them: a worker outliving the window must not call it.
        self._connections = [
            worker.model_loading.connect(self._model_loading),
            worker.model_ready.connect(self._model_ready),
            worker.second_model_ready.connect(self._second_model_ready),
            worker.model_failed.connect(self._model_failed),
            worker.event.connect(self._on_event),
            worker.finished.connect(self._on_finished),
            worker.failed.connect(self._on_failed),
            worker.protection_known.connect(self._protection_known),
        ]

    def _model_loading(self, name: str) -> None:
        self.model_state, self.model_name = "loading", name
        self.second_model = ""
        self._update_second_check_button()
        self._update_model_status()

    def _model_ready(self, name: str) -> None:
        self.model_state, self.model_name = "ready", name
        self._update_model_status()

    def _second_model_ready(self, name: str) -> None:
        self.second_model = name
        if self.answer_state == "shown" and self.result is not None:
            self._render_answer(self.result)  # its advice may now point at the second model
        self._update_second_check_button()

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
            ).format(SETUP_COMMAND, setup_models_text())
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
        self.check_label.setProperty("correct", None)
        self._clear_panels(keep_core=core_question is not None, keep_key=key_information is not None)
        if purpose != "show":
            self._mask_panels(self.tr("The tutor is working on the problem..."))
        self._show_solving()
        self.shown_problem = normalize_problem(problem)
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
            request, self.request = self.request, None
            self.core_panel.edit.setPlaceholderText(self.core_placeholder)
            self.notice_label.setText(self.tr("Stopped."))
            if request.to_check is not None:
                self.notice_label.setText(self.tr("Check stopped: the answer is as it was."))
                self._render_answer(request.to_check)
            else:
                self._show_stopped()
            self._update_state()
            self.solve_finished.emit(None)

    def can_check_with_second_model(self) -> bool:
        """A "not sure" answer on show that the loaded second model has not checked yet."""
        result = self.result
        if not self.second_model or self.busy or result is None or self.answer_state != "shown":
            return False
        if result.second_opinion or result.answer is None or not self._has_result_for_problem():
            return False
        verdict = presenters.verdict_of(result)
        return verdict is not None and verdict.level == Level.NOT_SURE

    def _update_second_check_button(self) -> None:
        self.second_check_button.setText(self.tr("Check it with {0}").format(self.second_model))
        self.second_check_button.setAccessibleName(
            self.tr("Have a second model, {0}, solve the problem to check this answer").format(
                self.second_model
            )
        )
        self.second_check_button.setVisible(self.can_check_with_second_model())

    def check_with_second_model(self) -> SolveRequest | None:
        """Have the second model solve the problem too, to check the answer shown: its answer joins
        the vote and the verdict is worked out again (what checking every answer does for each)."""
        if not self.can_check_with_second_model():
            return None
        first = self.result
        assert first is not None
        self.request = SolveRequest(problem=first.problem, mode=first.mode.value, to_check=first)
        self._first_token_seen = False
        self._request_started = False
        self.notice_label.setText(self.tr("Checking the answer with {0}...").format(self.second_model))
        self._show_checking(first, self.second_model)
        self.solver_thread.solve(self.request)
        self._update_state()
        return self.request

    def _check_finished(self, request: SolveRequest, result: SolveResult) -> None:
        """A second model's check is over: the checked result replaces the shown one (in history
        too); stopped or failed, the answer stays as it was."""
        first = request.to_check
        if result.cancelled or result.error:
            self.notice_label.setText(
                self.tr("Check stopped: the answer is as it was.")
                if result.cancelled
                else self.tr("The second model stopped with an error: {0}").format(result.error)
            )
            self._render_answer(first)
            return
        self.result = result
        if self.result_history_id is None or not self.history.replace(self.result_history_id, result):
            self.result_history_id = self.history.add(result)
        self.history_panel.refresh()
        self.render_result(result)
        self.notice_label.setText(
            self.tr("Checked with {0} in {1:.1f} s.").format(
                result.second_opinion, result.seconds - first.seconds
            )
        )

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
        self.worked_view.clear()
        self.worked = WorkedSolution()
        self.steps_edit.clear()
        self.sandbox_label.clear()
        self.agreement_label.clear()
        self._update_solution_view()

    def _mask_panels(self, text: str) -> None:
        for edit in (self.core_panel.edit, self.key_panel.edit, self.program_edit, self.steps_edit):
            edit.clear()
        self.worked_view.clear()
        self.core_panel.edit.setPlaceholderText(text)

    def _masked(self) -> bool:
        return self.request is not None and self.request.purpose != "show"

    def _on_event(self, request_id: int, event: StageEvent) -> None:
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
                self._update_solution_view()
            elif stage == Stage.STEPS:
                self.steps_edit.clear()
                self._update_solution_view(force_steps=True)
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
            _append(self.steps_edit, event.text)
        elif event.kind == "second_opinion" and getattr(event.data, "every_answer", False):
            self.notice_label.setText(self.tr("Checking the answer with {0}...").format(event.text))
            self._show_checking(event.data.first, event.text)
        elif event.kind == "second_opinion":
            self.notice_label.setText(
                self.tr("The answer looks doubtful: asking {0} for a second opinion...").format(event.text)
            )
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
        # The run is a fact, not a verdict on the answer: a plain colour, red only when it failed.
        color = style.palette(self.dark).muted if ok else style.palette(self.dark).slip
        self.sandbox_label.setText(f'<span style="color:{color}">{_html(text)}</span>')

    def _on_finished(self, request_id: int, result: SolveResult) -> None:
        if self.request is None or request_id != self.request.request_id:
            return
        request, self.request = self.request, None
        self.core_panel.edit.setPlaceholderText(self.core_placeholder)
        if request.to_check is not None:
            self._check_finished(request, result)
            self._update_state()
            self.solve_finished.emit(result)
            return
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
        elif (
            request.cancel.cancelled and result.first_answer_seconds is not None and not result.second_opinion
        ):
            # Stopped while the second model checked it: the first answer stands, unchecked.
            self.notice_label.setText(self.tr("Check stopped: the answer is not checked."))
        else:
            self.notice_label.setText(self.tr("Solved in {0:.1f} s.").format(result.seconds))
        if result.cancelled:
            # What streamed stays on screen; the answer card says Stopped, not "no answer".
            self._show_stopped()
            if not any(s.execution is not None for s in result.solutions):
                self.sandbox_label.clear()  # "Writing the program..." is over: it was never run
            self._update_solution_view()
        else:
            self.result = result
            self.result_problem = normalize_problem(request.problem)
            self.result_history_id = None
            if result.solutions or result.core_question:
                self.result_history_id = self.history.add(result)
                self.history_panel.refresh()
            if request.purpose == "hint":
                self.hint = presenters.HintState(result)
                self.next_hint()
            elif request.purpose == "check":
                self._render_hidden()
                self._show_verdict()
            else:
                self.render_result(result)
        self._update_state()
        self.solve_finished.emit(result)

    def _on_failed(self, request_id: int, message: str) -> None:
        if self.request is None or request_id != self.request.request_id:
            return
        request, self.request = self.request, None
        self.core_panel.edit.setPlaceholderText(self.core_placeholder)
        if message == "no second model":
            self.notice_label.setText(
                self.tr("No second model is loaded: turn it on in Settings > Second opinion.")
            )
        elif message not in ("no model", "cancelled"):
            self.notice_label.setText(self.tr("Something went wrong: {0}").format(message))
        else:
            self.notice_label.setText("")
        if request.to_check is not None:  # the answer a check was asked about stays on show
            self._render_answer(request.to_check)
        else:
            self._show_empty_answer()
        self._update_state()
        self.solve_finished.emit(None)

    # -- showing a result ---------------------------------------------------------------------

    def render_result(self, result: SolveResult) -> None:
        """Show a whole result (after a solve, or reopened from history)."""
        self.hint = None
        self.shown_problem = normalize_problem(result.problem)
        self.core_panel.edit.setPlainText(result.core_question)
        self.key_panel.edit.setPlainText(format_key_information(result.key_information))
        self._render_solution(result)
        # A program that ran opens as worked steps; the program itself is one click away.
        self.solution_panel.worked_button.setChecked(bool(self.worked.steps))
        self.solution_panel.program_button.setChecked(not self.worked.steps)
        self._update_solution_view()
        self._render_answer(result)
        self._update_hint_button()

    def _render_solution(self, result: SolveResult) -> None:
        program = result.shown_solution(Mode.POT)
        steps = result.shown_solution(Mode.COT)
        self.program_edit.setPlainText(program.text if program else "")
        if program is not None:
            self._show_sandbox(program)
        else:
            self.sandbox_label.clear()
        self.worked = presenters.worked_of(result)
        if self.worked.steps:
            self.worked_view.setHtml(presenters.worked_html(self.worked, result.problem, self.dark))
        else:
            self.worked_view.clear()
        if steps is not None:
            slips = arithmetic_slips(steps.text)
            self.steps_edit.setHtml(presenters.marked_steps_html(steps.text, slips, self.dark))
        else:
            self.steps_edit.clear()
        self._update_solution_view()

    def _render_answer(self, result: SolveResult) -> None:
        """The answer card for a shown result: the answer, its verdict in words, the way on."""
        verdict = presenters.verdict_of(result)
        self.answer_state = "shown"
        if verdict is None or verdict.level == Level.NO_ANSWER:
            sentences = presenters.verdict_sentences(verdict) if verdict else []
            sentences.append(self.tr("Try Steps or Both, or edit the key information and solve again."))
            self._set_answer(
                self.tr("No answer"), Level.NO_ANSWER, presenters.join_sentences(sentences), badge=""
            )
            self.agreement_label.clear()
            return
        advice = None
        if self.can_check_with_second_model():  # the button beside it is the better way on
            advice = self.tr(
                "Have {0} solve it too, to check this answer, or work through it with the hints."
            )
            advice = advice.format(self.second_model)
        elif self.protection is not None and not self.protection.allowed and verdict.level == Level.NOT_SURE:
            advice = self.tr("Work through it with the hints.")  # Both mode is off here: no program runs
        sentences = presenters.verdict_sentences(verdict, advice)
        self._set_answer(presenters.answer_text(result), verdict.level, presenters.join_sentences(sentences))
        self.agreement_label.setText(presenters.agreement_text(result))

    def _set_answer(
        self, answer: str, level: Level | None, verdict_text: str = "", badge: str | None = None
    ) -> None:
        """Draw the answer card: only a checked answer is bold in the confident colour."""
        checked = level == Level.CHECKED
        font = QFont(self.answer_label.font())
        font.setBold(checked)
        if level is None or level == Level.NO_ANSWER:
            font.setPointSizeF(max(1.0, QApplication.font().pointSizeF() * style.ANSWER_SCALE * 0.6))
        else:
            font.setPointSizeF(max(1.0, QApplication.font().pointSizeF() * style.ANSWER_SCALE))
        self.answer_label.setFont(font)
        color = (
            style.verdict_colors(level, self.dark)[0] if level is not None else style.palette(self.dark).muted
        )
        if level == Level.NOT_SURE:
            color = style.palette(self.dark).text  # plain: no colour that reads as "right"
        self.answer_label.setStyleSheet(f"color: {color};")
        self.answer_label.setText(answer)
        title = badge if badge is not None else (presenters.level_title(level) if level is not None else "")
        self.verdict_badge.setText(title)
        self.verdict_badge.setVisible(bool(title))
        self.verdict_badge.setStyleSheet(style.badge_style(level, self.dark))
        self.answer_card.setStyleSheet(style.answer_card_style(level, self.dark))
        self.verdict_label.setText(verdict_text)
        self.hint_path_button.setVisible(level == Level.NOT_SURE and self.hint is None)
        self._update_second_check_button()

    def _show_empty_answer(self) -> None:
        self.answer_state = "empty"
        self._set_answer("", None, self.tr("The answer appears here, with how sure the tutor is of it."))
        self.agreement_label.clear()

    def _show_solving(self) -> None:
        self.answer_state = "solving"
        self._set_answer("", None, "", badge=self.tr("Solving..."))
        self.agreement_label.clear()

    def _show_checking(self, first: SolveResult, model: str) -> None:
        """The first model's answer while the second model checks it: shown, plainly not checked yet."""
        if first.answer is None:
            return
        self.answer_state = "checking"
        self._set_answer(
            presenters.answer_text(first),
            Level.NOT_SURE,
            self.tr("Not checked yet: {0} is solving the problem too, to check this answer.").format(model),
            badge=self.tr("Checking..."),
        )
        self.hint_path_button.setVisible(False)
        self.agreement_label.clear()

    def _show_stopped(self) -> None:
        self.answer_state = "stopped"
        self._set_answer(self.tr("Stopped"), None, self.tr("Solving was stopped before it found an answer. "
                                                         "Press Solve to start again."))  # fmt: skip
        self.agreement_label.clear()

    def _show_hidden_answer(self) -> None:
        self.answer_state = "hidden"
        self._set_answer(
            HIDDEN_ANSWER,
            None,
            self.tr("Hidden while you work on it: ask for a hint or show the whole solution."),
        )
        self.agreement_label.clear()

    def _render_hidden(self) -> None:
        for edit in (self.core_panel.edit, self.key_panel.edit, self.program_edit, self.steps_edit):
            edit.clear()
        self.worked_view.clear()
        self.sandbox_label.clear()
        self._show_hidden_answer()
        self.core_panel.edit.setPlaceholderText(
            self.tr("Hidden so you can work on it yourself: ask for a hint or show the whole solution.")
        )
        if self.check_label.property("correct") is not None and self.check_edit.text().strip():
            self._show_verdict()  # said again without naming the tutor's answer, now hidden

    def reveal_all(self) -> None:
        if self.result is not None and not self.busy:
            self.core_panel.edit.setPlaceholderText(self.core_placeholder)
            self.render_result(self.result)
            self._update_state()

    def _update_solution_view(self, force_steps: bool = False) -> None:
        """Which parts of the solution card show: worked steps or the program (the toggle), and the
        reasoning steps."""
        streaming = self.busy
        mode = self.current_mode() if self.result is None or streaming else self.result.mode.value
        has_steps = bool(self.steps_edit.toPlainText())
        show_steps = force_steps or mode in ("cot", "both") or has_steps
        show_program = mode in ("pot", "both") or bool(self.program_edit.toPlainText())
        worked = bool(self.worked.steps) and not streaming
        nothing = not streaming and not self.program_edit.toPlainText() and not has_steps
        as_worked = nothing or (worked and self.solution_panel.worked_button.isChecked())
        self.solution_panel.worked_button.setVisible(worked and show_program)
        self.solution_panel.program_button.setVisible(worked and show_program)
        self.worked_view.setVisible(show_program and as_worked)
        self.program_edit.setVisible(show_program and not as_worked)
        self.sandbox_label.setVisible(show_program and not nothing)
        self.steps_title.setVisible(show_steps and show_program and not nothing)
        self.steps_edit.setVisible(show_steps and not nothing)

    # -- tutoring -----------------------------------------------------------------------------

    def _has_result_for_problem(self) -> bool:
        return self.result is not None and self.result_problem == normalize_problem(self.problem_text())

    def start_hints(self) -> None:
        """The way on from a doubtful answer: hide it and walk through the solution step by step."""
        if self.busy or not self._has_result_for_problem():
            return
        self.hint = None
        self.next_hint()

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
        result = self.result
        self.core_panel.edit.setPlaceholderText(self.core_placeholder)
        self.core_panel.edit.setPlainText("\n".join(hint.shown("core_question")))
        self.key_panel.edit.setPlainText(
            format_key_information("\n".join(hint.shown("key_information")).splitlines())
        )
        steps = hint.shown("step")
        self.worked = presenters.worked_of(result)
        as_worked = bool(result.program) and self.worked.ran and bool(self.worked.steps)
        self.program_edit.clear()
        self.steps_edit.clear()
        self.worked_view.clear()
        if as_worked:
            if steps:
                self.worked_view.setHtml(
                    presenters.worked_html(self.worked, result.problem, self.dark, len(steps))
                )
        elif result.program:
            self.program_edit.setPlainText("\n".join(steps))
        else:
            self.steps_edit.setPlainText("\n".join(steps))
        self.sandbox_label.clear()
        answer = hint.shown("answer")
        if answer:
            program = result.shown_solution(Mode.POT)
            if program is not None:
                self._show_sandbox(program)
            self._render_answer(result)
        else:
            self._show_hidden_answer()
        # Hints walk through one solution; an empty box for the other one would only distract.
        self.solution_panel.worked_button.setVisible(False)
        self.solution_panel.program_button.setVisible(False)
        self.worked_view.setVisible(as_worked)
        self.program_edit.setVisible(bool(result.program) and not as_worked)
        self.sandbox_label.setVisible(bool(answer) and bool(result.program))
        self.steps_title.setVisible(False)
        self.steps_edit.setVisible(not result.program)

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
        self.check_problem = normalize_problem(self.problem_text())
        if self._has_result_for_problem():
            self._show_verdict()
            return
        if self.busy or not self.problem_text().strip():
            return
        self.solve(purpose="check")
        self.check_label.setText(self.tr("The tutor is solving the problem to check your answer..."))

    def _show_verdict(self) -> presenters.CheckVerdict:
        revealed = self.answer_state == "shown"
        verdict = presenters.check_answer(self.check_edit.text(), self.result, reveal=revealed)
        colors = style.palette(self.dark)
        # A mismatch is not proof that the student is wrong: amber, never red.
        color = {True: colors.checked, False: colors.unsure, None: colors.muted}[verdict.correct]
        self.check_label.setText(
            f'<span style="color:{color}; font-weight:bold">{_html(verdict.message)}</span>'
        )
        self.check_label.setProperty("correct", verdict.correct)
        return verdict

    def _answer_typed(self, _text: str) -> None:
        self.check_problem = normalize_problem(self.problem_text())

    # -- problem sources ----------------------------------------------------------------------

    def _problem_changed(self) -> None:
        if not self.busy and self.hint is not None and not self._has_result_for_problem():
            self.hint = None
        current = normalize_problem(self.problem_text())
        # "Your answer" belongs to one problem: another problem starts with an empty box.
        if self.check_edit.text() and current != self.check_problem:
            self.check_edit.clear()
            self.check_label.clear()
            self.check_label.setProperty("correct", None)
        if self.truncated_text and self.problem_text() != self.truncated_text:
            self.truncated_text = ""
            self._show_problem_note()
        if not self.busy and self.shown_problem and current != self.shown_problem:
            # Another problem: what is on screen belongs to the last one.
            self.shown_problem = ""
            self.hint = None
            self._clear_panels()
            self.notice_label.clear()
            self._show_empty_answer()
        self._update_state()

    def _problem_truncated(self, original: int) -> None:
        self.truncated_text, self.truncated_from = self.problem_text(), original
        self._show_problem_note()

    def _show_problem_note(self) -> None:
        """The note that a pasted problem was cut, under the box, before anything is solved."""
        if not self.truncated_text:
            self.problem_note.hide()
            return
        self.problem_note.setText(
            self.tr(
                "The pasted text had {0} characters; only the first {1} are kept, "
                "which is more than a word problem needs."
            ).format(self.truncated_from, MAX_PROBLEM_CHARS)
        )
        self.problem_note.show()

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

    def reopen(self, entry: Any) -> None:  # a kpdd.history.HistoryEntry
        if self.busy:
            return
        result = SolveResult.from_dict(entry.result)
        self.problem_edit.setPlainText(result.problem)
        self.mode_combo.setCurrentIndex(SOLVE_MODES.index(result.mode.value))
        self.result, self.result_problem = result, normalize_problem(result.problem)
        self.result_history_id = entry.id
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
            from kpdd import models

            new = dialog.result_settings()
            reload = new.threads != self.settings.threads
            second = dialog.second_opinion_choice()
            if second is not None and second != models.second_opinion_use():
                # Turned on or off, the second model loads or goes; "doubtful" <-> "every" needs no reload.
                reload = reload or (models.SecondOpinionUse.OFF in (second, models.second_opinion_use()))
                models.set_second_opinion_use(second)
            self.settings = new
            new.save()
            apply_settings(new)
            if reload:
                self.solver_thread.reload(effective_threads(new))
            from kpdd import paths, sandbox

            unsafe = dialog.unsafe_programs_choice()
            if unsafe != sandbox.unprotected_allowed():
                paths.update_config(**{sandbox.UNPROTECTED_SETTING: "on" if unsafe else "off"})
                self.solver_thread.check_protection()

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
        self.reveal_button.setVisible(has_result and self.answer_state == "hidden")
        self.reveal_button.setEnabled(not busy)
        self.resolve_core_button.setEnabled(has_result and not busy and self.hint is None)
        self.resolve_key_button.setEnabled(has_result and not busy and self.hint is None)
        self.problem_edit.setReadOnly(busy)
        self.mode_combo.setEnabled(not busy)
        self.samples_spin.setEnabled(not busy)
        self._update_hint_button()
        self._update_second_check_button()

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

"""The tutor's main window: it lays out the cards, wires input to the tutor session and draws what
the session says changed.

What a solve is (solving, stopping, hints, the second model's check, the student's own answer,
history) is `desktop.session.TutorSession`, plain Python; the cards (`desktop.cards`) draw it; what
to say about a result comes from `desktop.presenters`; the model runs on the worker thread
(`desktop.workers`); the look is `desktop.style`.

Layout: the problem card, then the core question and key information beside the solution, then the
answer card; history in a dock on the left.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QAction, QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop import style
from desktop.cards.answer import AnswerCard
from desktop.cards.problem import ProblemCard
from desktop.cards.solution import SolutionCard
from desktop.cards.stages import StagesPane
from desktop.history_view import HistoryPanel
from desktop.machine_status import ModelStatus, SandboxBanner
from desktop.session import (
    MAX_PROBLEM_FILE_BYTES,
    Change,
    Panels,
    ProblemFileError,
    TutorSession,
    load_samples,
    read_problem_file,
)
from desktop.settings import DesktopSettings, effective_threads
from desktop.workers import OnUiThread, SolverThread
from kpdd.history import HistoryStore


class MainWindow(QMainWindow):
    """Signals for tests and the benchmark: `first_token` and `solve_finished` (the SolveResult)."""

    first_token = Signal()
    solve_finished = Signal(object)
    message_shown = Signal(str, str)

    def __init__(self, settings: DesktopSettings | None = None, solver_thread: SolverThread | None = None,
                 history: HistoryStore | None = None) -> None:  # fmt: skip
        super().__init__()
        self.settings = settings or DesktopSettings.load()
        self.solver_thread = solver_thread or SolverThread()
        self.session = TutorSession(history or HistoryStore(), self.solver_thread.solve,
                                    self.settings.mode, self.settings.samples)  # fmt: skip
        self.last_message: tuple[str, str] | None = None
        self._styling = False
        self.setWindowIcon(style.app_icon())
        # Deleted when closed, while Qt is fully alive: left to interpreter shutdown, PySide may
        # destroy it after objects it depends on (seen as a crash at exit).
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._build()
        self._wire()
        self.session.listeners.append(self._changed)
        self._apply_style()  # before the first drawing: the answer card sizes its text from it
        self.retranslate()
        self.problem_card.samples_spin.setValue(self.settings.samples)
        self.resize(1280, 820)

    # -- building -----------------------------------------------------------------------------

    def _build(self) -> None:
        central = QWidget()
        central.setObjectName("central")
        self.setCentralWidget(central)
        root = QVBoxLayout(central)
        root.setContentsMargins(12, 10, 12, 10)
        root.setSpacing(10)
        self.sandbox_banner = SandboxBanner()
        root.addWidget(self.sandbox_banner)
        self.problem_card = ProblemCard(load_samples())
        root.addWidget(self.problem_card)
        self.stages = StagesPane()
        self.solution_card = SolutionCard()
        self.panels = QSplitter(Qt.Orientation.Horizontal)
        self.panels.setChildrenCollapsible(False)
        self.panels.setHandleWidth(10)
        self.panels.addWidget(self.stages)
        self.panels.addWidget(self.solution_card)
        self.panels.setStretchFactor(0, 2)
        self.panels.setStretchFactor(1, 3)
        root.addWidget(self.panels, 1)
        self.answer_card = AnswerCard()
        root.addWidget(self.answer_card)

        self.history_panel = HistoryPanel(self.session.history)
        self.history_dock = QDockWidget()
        self.history_dock.setObjectName("historyDock")
        self.history_dock.setWidget(self.history_panel)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.history_dock)
        self.resizeDocks([self.history_dock], [250], Qt.Orientation.Horizontal)
        self._build_menus()
        self.model_status = ModelStatus()
        self.statusBar().addPermanentWidget(self.model_status)

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

    def _wire(self) -> None:
        """Input goes to the session; the worker's answers too."""
        session, problem, stages, answer = self.session, self.problem_card, self.stages, self.answer_card
        problem.edit.textChanged.connect(lambda: session.set_problem(problem.text()))
        problem.edit.submitted.connect(self._solve_shortcut)
        problem.open_button.clicked.connect(self.open_problem_dialog)
        problem.mode_combo.currentIndexChanged.connect(lambda: session.set_mode(problem.mode()))
        problem.samples_spin.valueChanged.connect(lambda value: session.set_mode(session.mode, value))
        problem.solve_button.clicked.connect(lambda: session.solve())
        problem.stop_button.clicked.connect(session.stop)
        problem.hint_button.clicked.connect(session.next_hint)
        problem.reveal_button.clicked.connect(session.reveal_all)
        stages.core.resolve_button.clicked.connect(
            lambda: session.solve_from_core_question(stages.core.text())
        )
        stages.key.resolve_button.clicked.connect(
            lambda: session.solve_from_key_information(stages.core.text(), stages.key.text())
        )
        self.solution_card.view_group.buttonClicked.connect(
            lambda _button: self.solution_card.update_view(session)
        )
        answer.hint_path_button.clicked.connect(session.start_hints)
        answer.second_check_button.clicked.connect(session.check_with_second_model)
        answer.check_button.clicked.connect(lambda: session.check_answer(answer.check_edit.text()))
        answer.check_edit.returnPressed.connect(lambda: session.check_answer(answer.check_edit.text()))
        answer.check_edit.textEdited.connect(session.answer_typed)
        self.history_panel.reopen_requested.connect(session.reopen)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, activated=self._solve_shortcut)
        QShortcut(QKeySequence("Escape"), self, activated=session.stop)
        QShortcut(QKeySequence("Ctrl+H"), self, activated=session.next_hint)
        worker = self.solver_thread.worker

        def on_ui_thread(call: Any) -> Any:
            return OnUiThread(call, self).run

        # Kept, so closing the window can cut them: a worker outliving the window must not call it.
        self._connections = [
            worker.model_loading.connect(on_ui_thread(session.model_loading)),
            worker.model_ready.connect(on_ui_thread(session.model_ready)),
            worker.second_model_ready.connect(on_ui_thread(session.second_model_ready)),
            worker.model_failed.connect(self.report_model_failure),
            worker.event.connect(on_ui_thread(session.on_event)),
            worker.finished.connect(on_ui_thread(session.on_finished)),
            worker.named.connect(on_ui_thread(session.on_named)),
            worker.failed.connect(on_ui_thread(session.on_failed)),
            worker.protection_known.connect(on_ui_thread(session.protection_known)),
        ]

    def _solve_shortcut(self) -> None:
        if self.problem_card.solve_button.isEnabled():
            self.session.solve()

    # -- drawing what changed -----------------------------------------------------------------

    def _changed(self, change: Change, data: Any) -> None:
        session = self.session
        if change == Change.STAGE_TEXT:  # the most frequent, first
            stage, text = data
            self.stages.append(stage, text)
            self.solution_card.append(stage, text)
        elif change == Change.STAGE_STARTED:
            self.stages.stage_started(data)
            self.solution_card.stage_started(data, session)
        elif change == Change.PROGRAM_RAN:
            self.solution_card.show_sandbox(data)
        elif change == Change.PANELS:
            self.stages.draw(session)
            self.solution_card.draw(session)
        elif change == Change.ANSWER:
            self.answer_card.draw(session)
        elif change == Change.STUDENT:
            self.answer_card.draw_student(session)
        elif change == Change.NOTICE:
            self.problem_card.draw_notice(session)
        elif change == Change.STATE:
            self.problem_card.draw_state(session)
            self.stages.draw_state(session)
            self.answer_card.draw_state(session)
        elif change in (Change.MODE, Change.PROTECTION):
            self.problem_card.draw_mode(session)
            self.sandbox_banner.draw(session)
        elif change == Change.PROBLEM and self.problem_card.text() != session.problem:
            self.problem_card.edit.setPlainText(session.problem)
        elif change == Change.MODEL:
            self.model_status.draw(session)
        elif change == Change.HISTORY:
            self.history_panel.refresh()
        elif change == Change.SOLVE_STARTED:
            self._remember_mode(data.mode, data.samples)
        elif change == Change.FIRST_TOKEN:
            self.first_token.emit()
        elif change == Change.FINISHED:
            self.solve_finished.emit(data)

    def _redraw(self) -> None:
        """Everything in the current language, theme and font size (a streaming solve keeps its text)."""
        session = self.session
        if session.panels in (Panels.RESULT, Panels.HINT, Panels.HIDDEN) and not session.busy:
            self.solution_card.draw(session, restyle=True)
        self.stages.draw_placeholder(session)
        self.solution_card.update_view(session)
        for change in (
            Change.ANSWER,
            Change.STUDENT,
            Change.NOTICE,
            Change.STATE,
            Change.PROTECTION,
            Change.MODEL,
        ):
            self._changed(change, None)

    def report_model_failure(self, kind: str, message: str) -> None:
        self.session.model_failed(kind)
        self.show_message(*self.model_status.failure_message(kind, message), QMessageBox.Icon.Warning)

    def show_message(
        self, title: str, text: str, icon: QMessageBox.Icon = QMessageBox.Icon.Information
    ) -> None:
        """A non-blocking message box (tests read `last_message`)."""
        self.last_message = (title, text)
        box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.message_shown.emit(title, text)

    def _remember_mode(self, mode: str, samples: int) -> None:
        """The next start opens in the mode the student last solved in (not one a history entry
        showed: opening an entry sets the box without solving)."""
        if (mode, samples) != (self.settings.mode, self.settings.samples):
            self.settings = replace(self.settings, mode=mode, samples=samples)
            try:
                self.settings.save()
            except OSError:
                pass  # a full or read-only disk must not stop the solve; only the memory is lost

    # -- language and look --------------------------------------------------------------------

    def retranslate(self) -> None:
        """Every text of the window in the current language (at start and on a language switch)."""
        self.setWindowTitle(self.tr("KPDD Tutor"))
        for card in (self.problem_card, self.stages, self.solution_card, self.answer_card):
            card.retranslate()
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
        self._redraw()

    # A new theme or font size (desktop.settings applies them to the whole app).
    _RESTYLE_EVENTS = (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange, QEvent.Type.FontChange,
                       QEvent.Type.ApplicationFontChange)  # fmt: skip

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        elif event.type() in self._RESTYLE_EVENTS and not self._styling:
            self._apply_style()
            self._redraw()
        super().changeEvent(event)

    def _apply_style(self) -> None:
        """Cards, readable type and the verdict colours for the theme and font size in use."""
        self._styling = True
        try:
            base = QApplication.font().pointSizeF()
            base = base if base > 0 else 10.0
            self.setStyleSheet(style.stylesheet(style.is_dark(), base))
            self.solution_card.set_dark(style.is_dark())
            big = QFont(self.font())
            big.setPointSizeF(base * style.ANSWER_SCALE)
            self.answer_card.answer_label.setFont(big)
        finally:
            self._styling = False

    # -- files and dialogs --------------------------------------------------------------------

    def open_problem_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Open a word problem"), "", self.tr("Text files (*.txt *.md);;All files (*)")
        )
        if path:
            self.open_problem(path)

    def open_problem(self, path: str | Path) -> None:
        """Put a text file's problem in the editor; a file that is not one gets a message and leaves
        the editor as it was."""
        try:
            self.problem_card.edit.setPlainText(read_problem_file(path))
        except ProblemFileError as exc:
            why = {
                "folder": self.tr("{0} is a folder, not a text file.").format(exc.name),
                "not_text": self.tr("{0} is not a word problem: open a plain text file (.txt) of at most {1} KB.").format(
                    exc.name, MAX_PROBLEM_FILE_BYTES // 1000
                ),
            }.get(exc.reason, exc.detail)  # fmt: skip
            self.show_message(self.tr("Cannot open the file"), why, QMessageBox.Icon.Warning)

    def open_models(self) -> None:
        from desktop.models_view import ModelManagerDialog

        dialog = ModelManagerDialog(self.settings, self)
        dialog.models_changed.connect(lambda: self.solver_thread.reload(effective_threads(self.settings)))
        dialog.open()
        self.models_dialog = dialog

    def open_settings(self) -> None:
        from desktop.settings import SettingsDialog

        dialog = SettingsDialog(self.settings, self)

        def accepted() -> None:
            self.settings = dialog.apply(self.settings, self.solver_thread)

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

    def closeEvent(self, event: Any) -> None:  # noqa: N802 (Qt override)
        if self.session.request is not None:
            self.session.request.cancel.cancel()  # the worker stops at once: the shutdown need not wait
        dialog = getattr(self, "batch_dialog", None)
        if dialog is not None:
            dialog.cancel()
            dialog.detach()
        self.solver_thread.shutdown()
        for connection in self._connections:
            QObject.disconnect(connection)
        self._connections = []
        self.session.close()
        super().closeEvent(event)

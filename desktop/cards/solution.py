"""The solution card: a program as worked steps or as its code (a toggle), the sandbox's word on it,
and worked reasoning with its wrong arithmetic marked (Steps and Both modes)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QButtonGroup,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTextBrowser,
    QTextEdit,
    QWidget,
)

from desktop import presenters, style
from desktop.cards.card import Card, append_text, html_text
from desktop.highlight import PythonHighlighter
from desktop.session import HintState, Panels, TutorSession, worked_of
from kpdd.arithmetic import arithmetic_slips
from kpdd.format import Mode, Stage
from kpdd.result import SolveResult
from kpdd.worked import WorkedSolution


class SolutionCard(Card):
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
        self.highlighter = PythonHighlighter(self.program_edit.document(), style.is_dark())
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
        self.worked = WorkedSolution()  # the shown program as worked steps

    def retranslate(self) -> None:
        self.setTitle(self.tr("3. Solution"))
        self.worked_button.setText(self.tr("Worked steps"))
        self.worked_button.setAccessibleName(self.tr("Show the program as worked steps"))
        self.program_button.setText(self.tr("Program"))
        self.program_button.setAccessibleName(self.tr("Show the program itself"))
        self.worked_view.setAccessibleName(self.tr("Worked steps"))
        self.worked_view.setPlaceholderText(self.tr("The solution appears here, step by step."))
        self.program_edit.setAccessibleName(self.tr("Program"))
        self.program_edit.setPlaceholderText(self.tr("The program or the steps appear here."))
        self.steps_title.setText(self.tr("Reasoning steps"))
        self.steps_edit.setAccessibleName(self.tr("Worked steps"))
        self.sandbox_label.setAccessibleName(self.tr("Program result"))

    def set_dark(self, dark: bool) -> None:
        self.highlighter.set_dark(dark)

    # -- drawing the session ------------------------------------------------------------------

    def draw(self, session: TutorSession, restyle: bool = False) -> None:
        """Draw the panels' state; `restyle`: the same result again in new words or colours (the
        student's choice of worked steps or program stays)."""
        panels, result = session.panels, session.result
        if panels == Panels.RESULT and result is not None:
            self._draw_result(result)
            if not restyle:  # a program that ran opens as worked steps; the program is one click away
                self.worked_button.setChecked(bool(self.worked.steps))
                self.program_button.setChecked(not self.worked.steps)
        elif panels == Panels.HINT and result is not None and session.hint is not None:
            self._draw_hint(session.hint, result)
            return
        elif panels == Panels.STOPPED:
            stopped = session.stopped_result
            if stopped is None or not any(s.execution is not None for s in stopped.solutions):
                self.sandbox_label.clear()  # "Writing the program..." is over: it was never run
        else:
            self._clear()
        self.update_view(session)

    def stage_started(self, stage: Stage, session: TutorSession) -> None:
        if stage == Stage.PROGRAM:
            self.program_edit.clear()
            self.sandbox_label.setText(self.tr("Writing the program..."))
            self.update_view(session)
        elif stage == Stage.STEPS:
            self.steps_edit.clear()
            self.update_view(session, force_steps=True)

    def append(self, stage: Stage, text: str) -> None:
        if stage == Stage.PROGRAM:
            append_text(self.program_edit, text)
        elif stage == Stage.STEPS:
            append_text(self.steps_edit, text)

    def show_sandbox(self, solution: Any) -> None:
        ok, text = presenters.sandbox_summary(solution)
        # The run is a fact, not a verdict on the answer: a plain colour, red only when it failed.
        colors = style.palette(style.is_dark())
        self.sandbox_label.setText(
            f'<span style="color:{colors.muted if ok else colors.slip}">{html_text(text)}</span>'
        )

    def update_view(self, session: TutorSession, force_steps: bool = False) -> None:
        """Which parts show: worked steps or the program (the toggle), and the reasoning steps."""
        if session.panels == Panels.HINT:
            return  # the hint drew its own
        streaming = session.busy
        result = session.result
        mode = session.mode if result is None or streaming else result.mode.value
        has_steps = bool(self.steps_edit.toPlainText())
        show_steps = force_steps or mode in ("cot", "both") or has_steps
        show_program = mode in ("pot", "both") or bool(self.program_edit.toPlainText())
        worked = bool(self.worked.steps) and not streaming
        nothing = not streaming and not self.program_edit.toPlainText() and not has_steps
        as_worked = nothing or (worked and self.worked_button.isChecked())
        self.worked_button.setVisible(worked and show_program)
        self.program_button.setVisible(worked and show_program)
        self.worked_view.setVisible(show_program and as_worked)
        self.program_edit.setVisible(show_program and not as_worked)
        self.sandbox_label.setVisible(show_program and not nothing)
        self.steps_title.setVisible(show_steps and show_program and not nothing)
        self.steps_edit.setVisible(show_steps and not nothing)

    def _clear(self) -> None:
        for edit in (self.program_edit, self.steps_edit, self.worked_view):
            edit.clear()
        self.sandbox_label.clear()
        self.worked = WorkedSolution()

    def _draw_result(self, result: SolveResult) -> None:
        dark = style.is_dark()
        program = result.shown_solution(Mode.POT)
        steps = result.shown_solution(Mode.COT)
        self.program_edit.setPlainText(program.text if program else "")
        if program is not None:
            self.show_sandbox(program)
        else:
            self.sandbox_label.clear()
        self.worked = worked_of(result)
        if self.worked.steps:
            self.worked_view.setHtml(presenters.worked_html(self.worked, result.problem, dark))
        else:
            self.worked_view.clear()
        if steps is not None:
            self.steps_edit.setHtml(
                presenters.marked_steps_html(steps.text, arithmetic_slips(steps.text), dark)
            )
        else:
            self.steps_edit.clear()

    def _draw_hint(self, hint: HintState, result: SolveResult) -> None:
        """The steps revealed so far of one solution; an empty box for the other would only distract."""
        self._clear()
        steps = hint.shown("step")
        self.worked = worked_of(result)
        as_worked = bool(result.program) and self.worked.ran and bool(self.worked.steps)
        if as_worked:
            if steps:
                self.worked_view.setHtml(
                    presenters.worked_html(self.worked, result.problem, style.is_dark(), len(steps))
                )
        elif result.program:
            self.program_edit.setPlainText("\n".join(steps))
        else:
            self.steps_edit.setPlainText("\n".join(steps))
        program = result.shown_solution(Mode.POT)
        if hint.answer_shown and program is not None:
            self.show_sandbox(program)
        self.worked_button.setVisible(False)
        self.program_button.setVisible(False)
        self.worked_view.setVisible(as_worked)
        self.program_edit.setVisible(bool(result.program) and not as_worked)
        self.sandbox_label.setVisible(hint.answer_shown and bool(result.program))
        self.steps_title.setVisible(False)
        self.steps_edit.setVisible(not result.program)

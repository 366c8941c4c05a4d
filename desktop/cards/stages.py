"""The key-point stages: the core question and the key information, one card each, stacked. The
student can edit either and solve again from there."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPlainTextEdit, QPushButton, QSplitter, QWidget

from desktop.cards.card import Card, append_text
from desktop.session import Panels, TutorSession
from kpdd.format import Stage, format_key_information


class StageCard(Card):
    """A stage's text, editable, with the button that solves again from it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QPlainTextEdit()
        self.edit.setTabChangesFocus(True)
        self.layout_.addWidget(self.edit, 1)
        self.resolve_button = QPushButton()
        self.layout_.addWidget(self.resolve_button, 0, Qt.AlignmentFlag.AlignRight)

    def text(self) -> str:
        return self.edit.toPlainText()


class StagesPane(QSplitter):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Vertical, parent)
        self.setChildrenCollapsible(False)
        self.setHandleWidth(10)
        self.core = StageCard()
        self.key = StageCard()
        self.addWidget(self.core)
        self.addWidget(self.key)
        self.setSizes([120, 240])

    def retranslate(self) -> None:
        self.core.setTitle(self.tr("1. Core question"))
        self.core.edit.setAccessibleName(self.tr("Core question (you can edit it)"))
        self.key.setTitle(self.tr("2. Key information"))
        self.key.edit.setPlaceholderText(self.tr("The facts needed to answer it, one per line."))
        self.key.edit.setAccessibleName(self.tr("Key information, one fact per line (you can edit it)"))
        self.core.resolve_button.setText(self.tr("Solve again from this question"))
        self.core.resolve_button.setAccessibleName(self.tr("Solve again from the edited core question"))
        self.key.resolve_button.setText(self.tr("Solve again from these facts"))
        self.key.resolve_button.setAccessibleName(self.tr("Solve again from the edited key information"))

    def draw_placeholder(self, session: TutorSession) -> None:
        """The empty core question says why it is empty while the tutor works or hides the solution."""
        if session.panels == Panels.MASKED:
            text = self.tr("The tutor is working on the problem...")
        elif session.panels == Panels.HIDDEN:
            text = self.tr(
                "Hidden so you can work on it yourself: ask for a hint or show the whole solution."
            )
        else:
            text = self.tr("What the problem really asks, in one sentence.")
        self.core.edit.setPlaceholderText(text)

    def draw(self, session: TutorSession) -> None:
        panels, request, result = session.panels, session.request, session.result
        self.draw_placeholder(session)
        if panels == Panels.STREAMING and request is not None:  # a re-solve keeps the stages it was given
            if request.core_question is None:
                self.core.edit.clear()
            if request.key_information is None:
                self.key.edit.clear()
        elif panels in (Panels.EMPTY, Panels.MASKED, Panels.HIDDEN):
            self.core.edit.clear()
            self.key.edit.clear()
        elif panels == Panels.RESULT and result is not None:
            self.core.edit.setPlainText(result.core_question)
            self.key.edit.setPlainText(format_key_information(result.key_information))
        elif panels == Panels.HINT and session.hint is not None:
            hint = session.hint
            self.core.edit.setPlainText("\n".join(hint.shown("core_question")))
            key = "\n".join(hint.shown("key_information")).splitlines()
            self.key.edit.setPlainText(format_key_information(key))

    def stage_started(self, stage: Stage) -> None:
        if stage in (Stage.CORE_QUESTION, Stage.KEY_INFORMATION):
            self._card(stage).edit.clear()

    def append(self, stage: Stage, text: str) -> None:
        if stage in (Stage.CORE_QUESTION, Stage.KEY_INFORMATION):
            append_text(self._card(stage).edit, text)

    def draw_state(self, session: TutorSession) -> None:
        open_ = session.has_result_for_problem() and not session.busy and session.hint is None
        self.core.resolve_button.setEnabled(open_)
        self.key.resolve_button.setEnabled(open_)

    def _card(self, stage: Stage) -> StageCard:
        return self.core if stage == Stage.CORE_QUESTION else self.key

"""The answer card: the answer with its verdict (only a checked answer looks confident; a doubtful one
says why and offers the way on), and the student's own answer to check."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop import presenters, style
from desktop.cards.card import Card, html_text
from desktop.session import Answer, Student, TutorSession
from kpdd.verdict import Level

# What the answer card shows while the answer is kept from the student.
HIDDEN_ANSWER = "?"


class AnswerCard(Card):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.verdict_badge = QLabel()
        self.verdict_badge.setObjectName("verdictBadge")
        self.header.insertWidget(1, self.verdict_badge)
        self.header.insertSpacing(1, 8)
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
        for widget in (self.verdict_label, self.agreement_label):
            verdict_col.addWidget(widget)
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
        for widget in (self.check_title, self.check_edit, self.check_button):
            check_row.addWidget(widget)
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
        self.layout_.addLayout(row)
        self.correct: bool | None = None  # the student's answer, as last judged (None: not judged)
        self.level: Level | None = None  # the verdict's level drawn

    def retranslate(self) -> None:
        self.setTitle(self.tr("Answer"))
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

    # -- drawing the session ------------------------------------------------------------------

    def draw(self, session: TutorSession) -> None:
        state = session.answer
        if state == Answer.SHOWN and session.result is not None:
            self._draw_verdict(session)
        elif state == Answer.CHECKING and session.checking is not None:
            first, model = session.checking
            self._set(presenters.answer_text(first), Level.NOT_SURE,
                      self.tr("Not checked yet: {0} is solving the problem too, to check this answer.").format(model),
                      badge=self.tr("Checking..."))  # fmt: skip
        elif state == Answer.SOLVING:
            self._set("", None, "", badge=self.tr("Solving..."))
        elif state == Answer.HIDDEN:
            self._set(
                HIDDEN_ANSWER,
                None,
                self.tr("Hidden while you work on it: ask for a hint or show the whole solution."),
            )
        elif state == Answer.STOPPED:
            self._set(self.tr("Stopped"), None, self.tr("Solving was stopped before it found an answer. "
                                                        "Press Solve to start again."))  # fmt: skip
        else:
            self._set("", None, self.tr("The answer appears here, with how sure the tutor is of it."))
        if state != Answer.SHOWN:
            self.agreement_label.clear()
        # The way on from a doubtful answer, while it is on show.
        self.hint_path_button.setVisible(
            state == Answer.SHOWN and self.level == Level.NOT_SURE and session.hint is None
        )
        self.draw_state(session)
        if session.student == Student.VERDICT:
            self.draw_student(session)  # a hidden answer is not named in the verdict on the student's

    def _draw_verdict(self, session: TutorSession) -> None:
        """A shown result: the answer, its verdict in words, the way on."""
        result = session.result
        verdict = presenters.verdict_of(result)
        if verdict is None or verdict.level == Level.NO_ANSWER:
            sentences = presenters.verdict_sentences(verdict) if verdict else []
            sentences.append(self.tr("Try Steps or Both, or edit the key information and solve again."))
            self._set(self.tr("No answer"), Level.NO_ANSWER, presenters.join_sentences(sentences), badge="")
            self.agreement_label.clear()
            return
        advice = None
        if session.can_check_with_second_model():  # the button beside it is the better way on
            advice = self.tr(
                "Have {0} solve it too, to check this answer, or work through it with the hints."
            )
            advice = advice.format(session.second_model)
        elif not session.programs_allowed() and verdict.level == Level.NOT_SURE:
            advice = self.tr("Work through it with the hints.")  # Both mode is off here: no program runs
        sentences = presenters.verdict_sentences(verdict, advice)
        self._set(presenters.answer_text(result), verdict.level, presenters.join_sentences(sentences))
        self.agreement_label.setText(presenters.agreement_text(result))

    def _set(
        self, answer: str, level: Level | None, verdict_text: str = "", badge: str | None = None
    ) -> None:
        """Only a checked answer is bold in the confident colour; a doubtful one is plain."""
        dark = style.is_dark()
        font = QFont(self.answer_label.font())
        font.setBold(level == Level.CHECKED)
        scale = style.ANSWER_SCALE * (0.6 if level is None or level == Level.NO_ANSWER else 1.0)
        font.setPointSizeF(max(1.0, QApplication.font().pointSizeF() * scale))
        self.answer_label.setFont(font)
        color = style.verdict_colors(level, dark)[0] if level is not None else style.palette(dark).muted
        if level == Level.NOT_SURE:
            color = style.palette(dark).text  # plain: no colour that reads as "right"
        self.answer_label.setStyleSheet(f"color: {color};")
        self.answer_label.setText(answer)
        title = badge if badge is not None else (presenters.level_title(level) if level is not None else "")
        self.verdict_badge.setText(title)
        self.verdict_badge.setVisible(bool(title))
        self.verdict_badge.setStyleSheet(style.badge_style(level, dark))
        self.setStyleSheet(style.answer_card_style(level, dark))
        self.verdict_label.setText(verdict_text)
        self.level = level

    def draw_student(self, session: TutorSession) -> None:
        """The student's own answer: what the tutor makes of it (amber for a mismatch, never red)."""
        if self.check_edit.text() != session.typed_answer and not session.typed_answer:
            self.check_edit.clear()  # another problem: "your answer" belonged to the last one
        self.correct = None
        if session.student == Student.TYPE_FIRST:
            self.check_label.setText(self.tr("Type your answer first."))
        elif session.student == Student.SOLVING:
            self.check_label.setText(self.tr("The tutor is solving the problem to check your answer..."))
        elif session.student == Student.VERDICT:
            verdict = presenters.check_answer(session.checked_answer, session.result,
                                              reveal=session.answer == Answer.SHOWN)  # fmt: skip
            colors = style.palette(style.is_dark())
            color = {True: colors.checked, False: colors.unsure, None: colors.muted}[verdict.correct]
            self.check_label.setText(
                f'<span style="color:{color}; font-weight:bold">{html_text(verdict.message)}</span>'
            )
            self.correct = verdict.correct
        else:
            self.check_label.clear()

    def draw_state(self, session: TutorSession) -> None:
        self.check_button.setEnabled(bool(session.problem.strip()) and not session.busy)
        model = session.second_model
        self.second_check_button.setText(self.tr("Check it with {0}").format(model))
        self.second_check_button.setAccessibleName(
            self.tr("Have a second model, {0}, solve the problem to check this answer").format(model)
        )
        self.second_check_button.setVisible(session.can_check_with_second_model())

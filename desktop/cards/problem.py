"""The problem card: the problem, where it came from (a sample, a file), how to solve it, and the
line that says what the tutor is doing."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QSpinBox, QWidget

from desktop.cards.card import Card
from desktop.session import Notice, TutorSession
from desktop.settings import MAX_SAMPLES, SOLVE_MODES
from kpdd.format import MAX_PROBLEM_CHARS, cut_problem
from kpdd.solver import AUTO_SAMPLES


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


class ProblemCard(Card):
    def __init__(self, samples: list[dict[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.samples = samples
        self.edit = ProblemEdit()
        self.edit.setMinimumHeight(64)
        self.edit.setMaximumHeight(96)
        self.title_label.setBuddy(self.edit)
        self.sample_combo = QComboBox()
        self.sample_combo.setMinimumWidth(220)
        self.open_button = QPushButton()
        self.header.addWidget(self.sample_combo)
        self.header.addWidget(self.open_button)
        self.layout_.addWidget(self.edit)
        # Shown before solving, and as long as the cut text is in the box: not after the answer.
        self.note = QLabel()
        self.note.setObjectName("problemNote")
        self.note.setWordWrap(True)
        self.note.hide()
        self.layout_.addWidget(self.note)
        self.truncated_text = ""  # the problem as cut on paste, while its note stands
        self.truncated_from = 0  # how long the pasted text was

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
        self.layout_.addLayout(controls)

        self.edit.truncated.connect(self._truncated)
        self.edit.textChanged.connect(self._text_changed)
        self.sample_combo.activated.connect(self._sample_chosen)

    def text(self) -> str:
        return self.edit.toPlainText()

    def mode(self) -> str:
        return SOLVE_MODES[max(0, self.mode_combo.currentIndex())]

    def retranslate(self) -> None:
        self.setTitle(self.tr("&Word problem:"))
        self.edit.setPlaceholderText(
            self.tr("Type or paste a math word problem here, pick a sample, or open a text file.")
        )
        self.edit.setAccessibleName(self.tr("Word problem"))
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
        self.mode_combo.blockSignals(True)  # the mode does not change with the words
        self.mode_combo.clear()
        self.mode_combo.addItems([self.tr("Program"), self.tr("Steps"), self.tr("Both")])
        self.mode_combo.setCurrentIndex(max(0, mode))
        self.mode_combo.blockSignals(False)
        self.mode_combo.setAccessibleName(self.tr("Solution mode"))
        self.mode_combo.setToolTip(self.tr(
            "Program: a Python program computes the answer (right most often). "
            "Steps: worked reasoning, its arithmetic checked. Both: both, and whether they agree."
        ))  # fmt: skip
        self.samples_label.setText(self.tr("S&amples:"))
        self.samples_spin.setSpecialValueText(self.tr("Auto"))
        self.samples_spin.setAccessibleName(self.tr("Number of solutions to sample and vote on"))
        self.samples_spin.setToolTip(self.tr(
            "More samples vote on the answer and give a confidence. Auto writes one solution, and "
            "five to vote on when its answer looks wrong."
        ))  # fmt: skip
        self.solve_button.setText(self.tr("&Solve"))
        self.solve_button.setToolTip(self.tr("Solve the problem (Ctrl+Enter)"))
        self.solve_button.setAccessibleName(self.tr("Solve"))
        self.stop_button.setText(self.tr("S&top"))
        self.stop_button.setToolTip(self.tr("Stop solving (Esc)"))
        self.stop_button.setAccessibleName(self.tr("Stop"))
        self.reveal_button.setText(self.tr("Show &whole solution"))
        self.reveal_button.setAccessibleName(self.tr("Show the whole solution"))
        self._show_note()

    # -- drawing the session ------------------------------------------------------------------

    def draw_mode(self, session: TutorSession) -> None:
        """The mode in use; Program and Both are off where programs may not run."""
        model = self.mode_combo.model()
        for mode in ("pot", "both"):
            model.item(SOLVE_MODES.index(mode)).setEnabled(session.programs_allowed())
        self.mode_combo.setCurrentIndex(SOLVE_MODES.index(session.mode))

    def draw_notice(self, session: TutorSession) -> None:
        if session.notice is None:
            self.notice_label.clear()
            return
        notice, args = session.notice
        texts = {
            Notice.SOLVING: self.tr("Solving..."),
            Notice.STOPPING: self.tr("Stopping..."),
            Notice.STOPPED: self.tr("Stopped."),
            Notice.SOLVED: self.tr("Solved in {0:.1f} s."),
            Notice.MODEL_ERROR: self.tr("The model stopped with an error: {0}"),
            Notice.NO_ANSWER: self.tr("The model did not produce a usable answer. Try Steps or Both, "
                                      "or edit the key information and solve again."),
            Notice.CHECK_STOPPED: self.tr("Check stopped: the answer is as it was."),
            Notice.CHECK_STOPPED_UNCHECKED: self.tr("Check stopped: the answer is not checked."),
            Notice.SECOND_ERROR: self.tr("The second model stopped with an error: {0}"),
            Notice.CHECKING: self.tr("Checking the answer with {0}..."),
            Notice.DOUBTFUL: self.tr("The answer looks doubtful: asking {0} for a second opinion..."),
            Notice.RECHECK: self.tr("The first answer looked wrong: writing {0} more solutions to vote on..."),
            Notice.CHECKED: self.tr("Checked with {0} in {1:.1f} s."),
            Notice.NO_SECOND_MODEL: self.tr("No second model is loaded: turn it on in Settings > Second opinion."),
            Notice.WENT_WRONG: self.tr("Something went wrong: {0}"),
            Notice.REOPENED: self.tr("Reopened from history."),
        }  # fmt: skip
        self.notice_label.setText(texts[notice].format(*args))

    def draw_state(self, session: TutorSession) -> None:
        has_problem = bool(session.problem.strip())
        busy = session.busy
        hint = session.hint
        self.solve_button.setEnabled(has_problem and not busy)
        self.stop_button.setEnabled(busy)
        self.hint_button.setEnabled(has_problem and not busy and not (hint is not None and hint.finished))
        # Only while part of the solution is hidden (hint mode, or after checking an answer).
        self.reveal_button.setVisible(session.has_result_for_problem() and session.answer == "hidden")
        self.reveal_button.setEnabled(not busy)
        self.edit.setReadOnly(busy)
        self.mode_combo.setEnabled(not busy)
        self.samples_spin.setEnabled(not busy)
        if hint is None or (session.result is not None and not session.has_result_for_problem()):
            self.hint_button.setText(self.tr("&Hint"))
            self.hint_button.setAccessibleName(self.tr("Hint: reveal the core question first"))
        elif hint.finished:
            self.hint_button.setText(self.tr("No more hints"))
        else:
            self.hint_button.setText(
                self.tr("Next &hint ({0} of {1})").format(hint.revealed + 1, len(hint.sequence))
            )
            self.hint_button.setAccessibleName(self.tr("Next hint"))
        # The label grows ("Next hint (5 of 7)"): keep the whole text visible.
        self.hint_button.setMinimumWidth(self.hint_button.sizeHint().width())

    # -- the box's own business ---------------------------------------------------------------

    def _truncated(self, original: int) -> None:
        self.truncated_text, self.truncated_from = self.text(), original
        self._show_note()

    def _text_changed(self) -> None:
        if self.truncated_text and self.text() != self.truncated_text:
            self.truncated_text = ""
            self._show_note()

    def _show_note(self) -> None:
        """The note that a pasted problem was cut, under the box, before anything is solved."""
        if not self.truncated_text:
            self.note.hide()
            return
        self.note.setText(self.tr(
            "The pasted text had {0} characters; only the first {1} are kept, "
            "which is more than a word problem needs."
        ).format(self.truncated_from, MAX_PROBLEM_CHARS))  # fmt: skip
        self.note.show()

    def _sample_chosen(self, index: int) -> None:
        question = self.sample_combo.itemData(index)
        if question:
            self.edit.setPlainText(question)
            self.sample_combo.setCurrentIndex(0)

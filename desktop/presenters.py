"""What the tutor shows, worked out without widgets (so it is tested without a screen).

View-model helpers: sandbox results in plain words, the answer line with agreement and confidence,
hint steps, and the check-my-answer verdict. Strings go through Qt's translation system
(`QCoreApplication.translate`), which works without a QApplication too (it returns the source).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QCoreApplication

from kpdd.answers import answers_match, extract_answer, format_answer
from kpdd.solver import vote


def tr(text: str) -> str:
    return QCoreApplication.translate("Tutor", text)


def sandbox_summary(solution: Any) -> tuple[bool, str]:
    """(ok, a sentence) for a PoT solution's sandbox run, for students who do not read tracebacks."""
    execution = getattr(solution, "execution", None)
    if execution is not None and execution.ok:
        value = getattr(solution, "answer", None)
        shown = format_answer(value) if value is not None else repr(execution.answer)
        text = QCoreApplication.translate("Tutor", "The program ran and computed answer = {0}.").format(shown)
        if getattr(solution, "answer_source", None) == "last_assignment":
            text = QCoreApplication.translate(
                "Tutor",
                "The program ran but never set answer; its last result, {0} = {1}, is taken as the answer.",
            ).format(solution.answer_variable or "?", shown)
        if execution.stdout.strip():
            text += " " + QCoreApplication.translate("Tutor", "It printed: {0}").format(
                execution.stdout.strip()[:200]
            )
        if value is None:
            return False, QCoreApplication.translate(
                "Tutor", "The program ran, but its answer is not a number: {0}"
            ).format(repr(execution.answer)[:100])
        return True, text
    kind = getattr(solution, "error_kind", None) or "runtime"
    detail = (getattr(solution, "error", None) or "").strip()
    messages = {
        "syntax": QCoreApplication.translate(
            "Tutor", "The program is not valid Python, so it could not run."
        ),
        "forbidden": QCoreApplication.translate(
            "Tutor", "The program tried to do something the tutor does not allow (files, network or imports)."
        ),
        "timeout": QCoreApplication.translate("Tutor", "The program ran too long and was stopped."),
        "memory": QCoreApplication.translate("Tutor", "The program used too much memory and was stopped."),
        "runtime": QCoreApplication.translate("Tutor", "The program stopped with an error while running."),
        "no_answer": QCoreApplication.translate(
            "Tutor", "The program ran but did not set a number called answer."
        ),
    }
    text = messages.get(kind, messages["runtime"])
    if detail:
        text += " (" + detail.splitlines()[-1][:200] + ")"
    return False, text


def answer_text(result: Any) -> str:
    if result is None or result.answer is None:
        return ""
    return format_answer(result.answer)


def agreement_text(result: Any) -> str:
    """Agreement and confidence, shown for mode Both and for several samples."""
    if result is None or result.answer is None:
        return ""
    parts = []
    if result.agree:
        parts.append(
            QCoreApplication.translate(
                "Tutor", "The program and the steps agree: more likely right, but still check it."
            )
        )
    elif result.stepped_past:
        parts.append(
            QCoreApplication.translate(
                "Tutor",
                "The program and the steps disagree. The program worked out this answer on the way, "
                "then went a step further, so the steps' answer is shown: double-check this one.",
            )
        )
    elif result.agree is False:
        parts.append(
            QCoreApplication.translate("Tutor", "The program and the steps disagree: double-check this one.")
        )
    if result.rechecked:
        parts.append(
            QCoreApplication.translate(
                "Tutor", "The first answer looked wrong, so {0} solutions were written to vote on."
            ).format(len(result.solutions))
        )
    if len(result.solutions) > 1:
        parts.append(
            QCoreApplication.translate("Tutor", "Confidence: {0}% of {1} solutions give this answer.").format(
                round(100 * result.confidence), len(result.solutions)
            )
        )
        if result.agree is None and vote(result.solutions)[1] > result.confidence:
            parts.append(
                QCoreApplication.translate(
                    "Tutor",
                    "Another answer had more votes, but they looked wrong for a word problem (negative, "
                    "not whole, or from a program using numbers the problem does not give), so they counted less.",
                )
            )
    return " ".join(parts)


@dataclass
class CheckVerdict:
    correct: bool | None  # None: the student's answer had no number
    message: str


def check_answer(student_text: str, result: Any, reveal: bool = False) -> CheckVerdict:
    """Compare a typed answer with the tutor's, tolerant of format ("$1,200.00", "72 clips", "1/2").

    `reveal`: the tutor's solution is on screen, so a mismatch may name the tutor's answer. A small
    model is often wrong, so a mismatch never claims the student is: it says the two differ.
    """
    value = extract_answer(student_text or "")
    if value is None:
        return CheckVerdict(
            None, QCoreApplication.translate("Tutor", "I could not find a number in your answer.")
        )
    if result is None or result.answer is None:
        return CheckVerdict(
            None,
            QCoreApplication.translate(
                "Tutor", "The tutor has no answer of its own for this problem yet, so it cannot check yours."
            ),
        )
    if answers_match(value, result.answer):
        return CheckVerdict(
            True,
            QCoreApplication.translate("Tutor", "Correct: {0} matches the tutor's answer.").format(
                format_answer(value)
            ),
        )
    if reveal:
        text = QCoreApplication.translate(
            "Tutor",
            "{0} differs from the tutor's answer, {1}. The tutor can be wrong too: "
            "compare your work with its key information and solution.",
        )
        return CheckVerdict(False, text.format(format_answer(value), format_answer(result.answer)))
    text = QCoreApplication.translate(
        "Tutor",
        "Not quite: {0} is not what the tutor found. Try again, or ask for a hint (the tutor can be wrong too).",
    )
    return CheckVerdict(False, text.format(format_answer(value)))


def solution_steps(result: Any) -> list[str]:
    """The solution cut into steps for hint mode: program lines or sentences/lines of the steps."""
    steps: list[str] = []
    program = result.program if result is not None else ""
    text = result.steps if result is not None else ""
    if program:
        steps += [line for line in program.splitlines() if line.strip()]
    elif text:
        for line in text.splitlines():
            steps += [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9])", line) if s.strip()]
    return steps


@dataclass
class HintState:
    """Hint mode: core question, then key information, then the solution one step at a time, then the answer."""

    result: Any
    revealed: int = 0  # how many of `sequence` are shown
    sequence: list[tuple[str, str]] = field(default_factory=list)  # (part, text)

    def __post_init__(self) -> None:
        r = self.result
        self.sequence = [
            ("core_question", r.core_question),
            ("key_information", "\n".join(r.key_information)),
        ]
        self.sequence += [("step", step) for step in solution_steps(r)]
        self.sequence.append(("answer", answer_text(r)))

    @property
    def finished(self) -> bool:
        return self.revealed >= len(self.sequence)

    def next(self) -> tuple[str, str] | None:
        if self.finished:
            return None
        self.revealed += 1
        return self.sequence[self.revealed - 1]

    def shown(self, part: str) -> list[str]:
        return [text for p, text in self.sequence[: self.revealed] if p == part]

    def steps_total(self) -> int:
        return sum(1 for p, _ in self.sequence if p == "step")

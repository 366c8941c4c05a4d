"""What the tutor shows, worked out without widgets (so it is tested without a screen).

View-model helpers: sandbox results in plain words, the answer's verdict (kpdd.verdict) in the
student's language, a program as worked steps and steps with their wrong arithmetic marked (as
HTML for the solution card), the answer line with agreement and confidence, and the
check-my-answer verdict. Strings go through Qt's translation system (`QCoreApplication.translate`),
which works without a QApplication too (it returns the source); the verdict's words are
kpdd.verdict's own texts, translated in its context "Verdict".
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QCoreApplication

from desktop.style import palette
from kpdd.answers import answers_match, extract_answer, format_answer, numbers_in_text
from kpdd.arithmetic import ArithmeticCheck
from kpdd.format import Mode
from kpdd.judgement import vote
from kpdd.verdict import (
    LEVEL_LABELS,
    LEVEL_TITLES,
    NOTE_TEXTS,
    TRANSLATION_CONTEXT,
    Finding,
    Level,
    Note,
    Verdict,
    judge,
)
from kpdd.worked import WorkedSolution


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
    """The details under the verdict: how program and steps disagree, a recheck, the vote's share."""
    if result is None or result.answer is None:
        return ""
    parts = []
    # That the program and the steps agree is the verdict's to say (kpdd.verdict); the details of
    # a disagreement are said here.
    if result.stepped_past:
        parts.append(
            QCoreApplication.translate(
                "Tutor",
                "The program and the steps disagree. The program worked out this answer on the way, "
                "then went a step further, so the steps' answer is shown: double-check this one.",
            )
        )
    if result.rechecked:
        parts.append(
            QCoreApplication.translate(
                "Tutor", "The first answer looked wrong, so {0} solutions were written to vote on."
            ).format(len(result.solutions))
        )
    second = result.shown_from_second_opinion()
    if second is not None:  # the solution on the card is the second model's: say whose, and the first's
        first = result.first_model_answer
        parts.append(
            QCoreApplication.translate(
                "Tutor", "The solution shown is {0}'s. The first model, {1}, answered {2}."
            ).format(second.model, result.model, format_answer(first) if first is not None else "nothing")
        )
    # Program and steps of one sample are the verdict's "agree" or "differ": no share to add. A count,
    # not a percentage: a share of votes must never read as a certainty the verdict denies.
    if len(result.solutions) > 1 and not (result.mode == Mode.BOTH and len(result.solutions) == 2):
        parts.append(
            QCoreApplication.translate("Tutor", "{0} of {1} solutions give this answer.").format(
                result.agreeing_solutions, len(result.solutions)
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
    return join_sentences(parts)


# -- verdicts ---------------------------------------------------------------------------------


def verdict_of(result: Any) -> Verdict | None:
    """The verdict on a result's answer (None without a result)."""
    return judge(result) if result is not None else None


def finding_text(finding: Finding) -> str:
    return QCoreApplication.translate(TRANSLATION_CONTEXT, NOTE_TEXTS[finding.note]).format(*finding.args)


def level_title(level: Level) -> str:
    return QCoreApplication.translate(TRANSLATION_CONTEXT, LEVEL_TITLES[level])


def level_label(level: Level) -> str:
    """The short word for lists: "checked", "check this one", "no answer"."""
    return QCoreApplication.translate(TRANSLATION_CONTEXT, LEVEL_LABELS[level])


def join_sentences(sentences: list[str]) -> str:
    """Sentences as one text: a space after a Western full stop, none after a Chinese one."""
    text = ""
    for sentence in sentences:
        if text and not text.endswith(("\u3002", "\uff1a", "\uff01", "\uff1f")):
            text += " "
        text += sentence
    return text


def verdict_sentences(verdict: Verdict, advice: str | None = None) -> list[str]:
    """What checked the answer, or why the tutor is not sure (and what to do: `advice`, translated,
    where the caller knows a better way on than the verdict's own), in sentences."""
    findings = verdict.support if verdict.level == Level.CHECKED else verdict.doubts
    # The program's run is said beside the program; the verdict says what checked its answer.
    sentences = [finding_text(f) for f in findings if f.note != Note.PROGRAM_RAN]
    if verdict.advice:
        sentences.append(advice or QCoreApplication.translate(TRANSLATION_CONTEXT, verdict.advice))
    return sentences


# -- solutions as a student reads them ---------------------------------------------------------


def _esc(text: str) -> str:
    return html.escape(text or "", quote=False)


def worked_html(worked: WorkedSolution, problem: str, dark: bool, count: int | None = None) -> str:
    """Worked steps as numbered rows: the name and the formula in words, then the numbers and the
    value. `count`: only the first steps (hint mode). No colour says "right": that is the verdict's."""
    p = palette(dark)
    given_numbers = numbers_in_text(problem)
    from_problem = QCoreApplication.translate("Tutor", "(from the problem)")
    rows = []
    steps = worked.steps if count is None else worked.steps[:count]
    for number, step in enumerate(steps, 1):
        if step.code:
            body = f'<pre style="margin:0; color:{p.muted}">{_esc(step.code)}</pre>'
            if step.value:
                body += f"<div>\u2192 <b>{_esc(step.label)}</b> = <b>{_esc(step.value)}</b></div>"
        elif step.given:
            note = ""
            if step.value and _given_in_problem(step.value, given_numbers):
                note = f' <span style="color:{p.muted}">{_esc(from_problem)}</span>'
            body = f"<b>{_esc(step.label)}</b> = <b>{_esc(step.value)}</b>{note}"
        elif step.numbers == step.formula:  # nothing but numbers: one line, "Apples = 6 × 14 = 84"
            value = f" = <b>{_esc(step.value)}</b>" if step.value and step.value != step.formula else ""
            body = f"<b>{_esc(step.label)}</b> = {_esc(step.formula)}{value}"
        else:  # the formula in words, then with its values: "Goats = sheep × 3" / "= 17 × 3 = 51"
            body = f'<b>{_esc(step.label)}</b> = <span style="color:{p.muted}">{_esc(step.formula)}</span>'
            tail = [part for part in (step.numbers, step.value) if part and part != step.formula]
            if len(tail) == 2 and tail[0] == tail[1]:  # "answer = weeks = 7", not "= 7 = 7"
                tail = tail[1:]
            if tail:
                shown = " = ".join(_esc(t) for t in tail[:-1])
                body += "<br>= " + (shown + " = " if shown else "") + f"<b>{_esc(tail[-1])}</b>"
        rows.append(
            f'<tr><td valign="top" style="color:{p.muted}; padding:4px 10px 8px 2px">{number}</td>'
            f'<td style="padding:4px 0 8px 0">{body}</td></tr>'
        )
    text = f'<table cellspacing="0" cellpadding="0">{"".join(rows)}</table>'
    if count is None and worked.dropped_lines:
        left_out = len(worked.dropped_lines)
        text += (
            f'<p style="color:{p.muted}">'
            + _esc(
                QCoreApplication.translate(
                    "Tutor",
                    "{0} line(s) of the program are not needed for the answer and are left out: see Program.",
                ).format(left_out)
            )
            + "</p>"
        )
    return text


def _given_in_problem(value: str, given: set[float]) -> bool:
    try:
        return round(float(value), 6) in given
    except ValueError:
        return False


def marked_steps_html(
    text: str, slips: list[ArithmeticCheck] | tuple[ArithmeticCheck, ...], dark: bool
) -> str:
    """Worked steps (CoT) with each wrong result struck through and the right value beside it."""
    p = palette(dark)
    out, position = [], 0
    for slip in sorted(slips, key=lambda s: s.result_start):
        out.append(_esc(text[position : slip.result_start]))
        out.append(f"<s>{_esc(text[slip.result_start : slip.result_end])}</s> "
                   f'<b style="color:{p.slip}">{_esc(slip.correct_text)}</b>')  # fmt: skip
        position = slip.result_end
    out.append(_esc(text[position:]))
    return "<br>".join("".join(out).split("\n"))


@dataclass
class CheckVerdict:
    correct: bool | None  # None: the student's answer had no number
    message: str


def check_answer(student_text: str, result: Any, reveal: bool = False) -> CheckVerdict:
    """Compare a typed answer with the tutor's, tolerant of format ("$1,200.00", "72 clips", "1/2").

    `reveal`: the tutor's solution is on screen, so a mismatch may name the tutor's answer. A small
    model is often wrong, so a mismatch never claims the student is: it says the two differ, and
    when the tutor is not sure of its own answer (kpdd.verdict) it says that the student's may be
    the right one; a match with a doubtful answer is not called correct either.
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
    checked = judge(result).level == Level.CHECKED
    if answers_match(value, result.answer):
        if checked:
            text = QCoreApplication.translate("Tutor", "Correct: {0} matches the tutor's checked answer.")
        else:
            text = QCoreApplication.translate(
                "Tutor",
                "{0} matches the tutor's answer, but the tutor is not sure of it: "
                "go through the steps to be sure.",
            )
        return CheckVerdict(True, text.format(format_answer(value)))
    if reveal:
        if checked:
            text = QCoreApplication.translate(
                "Tutor",
                "{0} differs from the tutor's answer, {1}, which was checked. The tutor can be wrong too: "
                "compare your work with its key information and solution.",
            )
        else:
            text = QCoreApplication.translate(
                "Tutor",
                "{0} differs from the tutor's answer, {1}, but the tutor is not sure of its answer: "
                "yours may be the right one. Compare your work with its steps.",
            )
        return CheckVerdict(False, text.format(format_answer(value), format_answer(result.answer)))
    if checked:
        text = QCoreApplication.translate(
            "Tutor",
            "Not quite: {0} is not what the tutor found. Try again, or ask for a hint (the tutor can be wrong too).",
        )
    else:
        text = QCoreApplication.translate(
            "Tutor",
            "{0} is not what the tutor found, but the tutor is not sure of its own answer: yours may be "
            "right. Ask for a hint to compare the steps.",
        )
    return CheckVerdict(False, text.format(format_answer(value)))

"""Solution sheets for teachers: solved problems rendered as HTML or Markdown.

A sheet has a title, the date and numbered problems; for each, its core question, key information,
solution and answer. Every answer carries the tutor's verdict (kpdd.verdict): a checked one is
printed as such, a doubtful one is marked "check this one" with its reasons, in the solution and in
the key, and the sheet's summary counts them, so a teacher knows which answers to check by hand
before handing the key out. Wrong arithmetic in worked steps is struck through, the right value
beside it. Options:

- solution view: a program as worked steps (kpdd.worked, the default), as its code, or both;
- student copy: the problems with space to work, no solutions;
- answer key: the answers on a page of their own at the end (`page-break-before`, which both
  browsers and Qt's QTextDocument honour, so the PDF writer in `desktop/pdf.py` uses this HTML).

Numbers print as everywhere else (`kpdd.answers.format_answer`: 18, not 18.0).

The HTML sticks to the subset Qt's rich-text engine understands (tables, simple CSS, no flexbox),
so one renderer serves the browser file and the PDF. Plain Python: no Qt here.
"""

from __future__ import annotations

import datetime as _dt
import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from kpdd.answers import format_answer
from kpdd.arithmetic import arithmetic_slips
from kpdd.verdict import LEVEL_LABELS, Level, judge
from kpdd.worked import worked_steps


class SolutionView(str, Enum):
    """How a sheet shows a program's solution: as worked steps, as the program, or both."""

    STEPS = "steps"
    PROGRAM = "program"
    BOTH = "both"


@dataclass
class SheetOptions:
    title: str = "Math word problems"
    date: str = ""  # empty: today's date
    student_copy: bool = False  # problems with space to work, no solutions
    answer_key: bool = False  # answers on their own last page
    work_lines: int = 8  # height of the working space in a student copy, in lines
    # A program as worked steps a student reads (kpdd.worked), as its code, or both.
    solution_view: SolutionView = SolutionView.STEPS

    def date_text(self) -> str:
        return self.date or _dt.date.today().isoformat()


@dataclass
class SheetItem:
    """One problem of a sheet, with what the solver produced (all display-ready text)."""

    problem: str
    core_question: str = ""
    key_information: list[str] = field(default_factory=list)
    program: str = ""
    program_output: str = ""  # the sandbox's result or its error, in plain words
    worked_steps: list[str] = field(default_factory=list)  # the program as steps (kpdd.worked)
    steps: str = ""
    # Wrong calculations in `steps`: (start, end) of the stated result and the right value.
    step_slips: list[tuple[int, int, str]] = field(default_factory=list)
    answer: str = ""  # formatted; empty when the solver found none
    note: str = ""  # e.g. "program and steps disagree"
    verdict: str = ""  # a kpdd.verdict.Level value; "" when not judged (unsolved, or the list's answer)
    verdict_note: str = ""  # the verdict in words: what checked it, or why it is not sure
    # Every solution's answer was impossible (negative, part of a counted thing): the problem itself
    # may be wrong as written, which the teacher should look at before handing the sheet out.
    problem_check: bool = False

    @property
    def to_check(self) -> bool:
        """An answer the teacher should check by hand before handing the key out."""
        return self.verdict == Level.NOT_SURE.value

    @classmethod
    def from_result(cls, result: Any) -> SheetItem:
        """From a `SolveResult` or its `to_dict()` (history entries and batch lines are dicts)."""
        from kpdd.format import Mode
        from kpdd.result import SolveResult

        data = result.to_dict() if hasattr(result, "to_dict") else dict(result or {})
        solved = result if hasattr(result, "shown_solution") else SolveResult.from_dict(data)
        verdict = judge(solved)
        program = steps = output = ""
        worked: list[str] = []
        shown_program, shown_steps = solved.shown_solution(Mode.POT), solved.shown_solution(Mode.COT)
        if shown_program is not None:
            program = shown_program.text
            execution = shown_program.execution
            if execution is not None and execution.ok:
                printed = (execution.stdout or "").strip()
                value = (
                    format_answer(shown_program.answer)
                    if shown_program.answer is not None
                    else repr(execution.answer)
                )
                output = f"The program computed answer = {value}."
                if shown_program.answer_note:
                    output = f"{shown_program.answer_note} It is {value}."
                if printed:
                    output += f" It printed: {printed[:300]}"
            elif shown_program.error:
                output = f"The program failed: {shown_program.error}"
            worked = [step.text() for step in worked_steps(program, names=shown_program.names).steps]
        slips: list[tuple[int, int, str]] = []
        if shown_steps is not None:
            steps = shown_steps.text
            slips = [(c.result_start, c.result_end, c.correct_text) for c in arithmetic_slips(steps)]
        answer = data.get("answer")
        note = ""
        expected = data.get("expected_answer")
        level, verdict_note = verdict.level.value, verdict.explanation()
        if expected is not None:
            # The teacher's list gave an answer: it is the authority for the sheet and its key.
            from kpdd.answers import answers_match

            if answer is not None and not answers_match(answer, expected):
                note = f"The tutor's solution gives {format_answer(answer)}, not the {format_answer(expected)} in the list."
            elif answer is None:
                note = "The tutor found no answer; the answer shown comes from the list."
            answer = expected
            level = verdict_note = ""
        elif data.get("stepped_past"):
            note = (
                "The program and the steps disagree; the program worked out this answer on the way, "
                "then went a step further, so the answer shown is the steps'."
            )
        elif data.get("agree") is False:
            note = "The program and the steps disagree; the answer shown is the program's."
        elif data.get("cancelled"):
            note = "Solving was stopped before it finished."
        elif answer is None and data.get("error"):
            note = str(data["error"])
        if data.get("problem_truncated"):  # the sheet shows what was solved: say it is not all there was
            from kpdd.format import MAX_PROBLEM_CHARS

            cut = f"The problem in the list was longer: only its first {MAX_PROBLEM_CHARS} characters were read and solved."
            note = f"{cut} {note}".strip()
        return cls(
            problem=data.get("problem", ""),
            core_question=data.get("core_question", "") or "",
            key_information=[str(k) for k in data.get("key_information") or []],
            program=program,
            program_output=output,
            worked_steps=worked,
            steps=steps,
            step_slips=slips,
            answer=format_answer(answer) if answer is not None else "",
            note=note,
            verdict=level,
            verdict_note=verdict_note,
            problem_check=bool(level) and verdict.problem_may_be_wrong,
        )


def verdict_summary(items: Sequence[SheetItem]) -> str:
    """ "6 answers checked, 2 to check by hand, 1 without an answer" (only the parts that occur)."""
    checked = sum(item.verdict == Level.CHECKED.value for item in items)
    unsure = sum(item.to_check for item in items)
    missing = sum(not item.answer for item in items)
    given = sum(bool(item.answer) and not item.verdict for item in items)
    parts = [f"{checked} {'answer' if checked == 1 else 'answers'} checked"]
    if unsure:
        parts.append(f"{unsure} to check by hand (marked \u201c{CHECK_THIS_ONE}\u201d)")
    flagged = sum(item.problem_check for item in items)
    if flagged:
        parts.append(
            f"{flagged} whose problem may be wrong as written (marked \u201ccheck the problem itself\u201d)"
        )
    if given:
        parts.append(f"{given} from your list")
    if missing:
        parts.append(f"{missing} without an answer")
    return ", ".join(parts)


CHECK_THIS_ONE = LEVEL_LABELS[Level.NOT_SURE]
CHECK_THE_PROBLEM = "check the problem itself: no solution found a possible answer"
NO_ANSWER = "(no answer)"

_CSS = """
body { font-family: 'DejaVu Sans', Arial, sans-serif; font-size: 11pt; color: #111; }
h1 { font-size: 20pt; margin-bottom: 2px; }
p.date { color: #555; margin-top: 0; }
p.summary { color: #333; }
h2 { font-size: 14pt; margin-top: 18px; margin-bottom: 4px; }
p.problem { font-size: 11.5pt; }
h3 { font-size: 11pt; color: #1f4e79; margin-bottom: 2px; margin-top: 8px; }
pre { font-family: 'DejaVu Sans Mono', 'Courier New', monospace; font-size: 9.5pt;
      background-color: #f3f5f7; padding: 6px; }
ol.worked li { margin-bottom: 2px; }
p.answer { font-size: 12pt; font-weight: bold; color: #0b5d1e; }
p.unsure { font-size: 12pt; font-weight: bold; color: #8a4b00; }
p.verdict { color: #8a4b00; }
p.note { color: #8a4b00; font-style: italic; }
span.slip { color: #b00020; font-weight: bold; }
table.key { border-collapse: collapse; }
table.key td, table.key th { padding: 4px 10px; }
"""


def _esc(text: str) -> str:
    return html.escape(text or "", quote=False)


def _marked_steps(item: SheetItem, markdown: bool) -> str:
    """The steps with each wrong result struck through and the right value beside it."""
    out, position = [], 0
    for start, end, correct in item.step_slips:
        out.append(item.steps[position:start] if markdown else _esc(item.steps[position:start]))
        wrong = item.steps[start:end]
        out.append(f"~~{wrong}~~ **{correct}**" if markdown
                   else f'<s>{_esc(wrong)}</s> <span class="slip">{_esc(correct)}</span>')  # fmt: skip
        position = end
    out.append(item.steps[position:] if markdown else _esc(item.steps[position:]))
    text = "".join(out)
    return text if markdown else "<br>".join(text.splitlines())


def _answer_html(item: SheetItem) -> list[str]:
    if item.to_check:
        return [f'<p class="unsure">Answer: {_esc(item.answer)} &middot; {_esc(_check_label(item))}</p>',
                f'<p class="verdict">Not sure: {_esc(item.verdict_note)}</p>']  # fmt: skip
    tag = " &middot; checked" if item.verdict == Level.CHECKED.value else ""
    return [f'<p class="answer">Answer: {_esc(item.answer or NO_ANSWER)}{tag}</p>']


def _check_label(item: SheetItem) -> str:
    return CHECK_THE_PROBLEM if item.problem_check else CHECK_THIS_ONE


def _key_answer(item: SheetItem) -> str:
    if not item.answer:
        return NO_ANSWER
    return f"{item.answer} ({_check_label(item)})" if item.to_check else item.answer


def _shows(options: SheetOptions, item: SheetItem) -> tuple[bool, bool]:
    """(worked steps, program code) for a program's solution under the teacher's choice."""
    worked = options.solution_view in (SolutionView.STEPS, SolutionView.BOTH) and bool(item.worked_steps)
    code = options.solution_view in (SolutionView.PROGRAM, SolutionView.BOTH) or not item.worked_steps
    return worked, code and bool(item.program)


def render_html(items: Sequence[SheetItem], options: SheetOptions | None = None) -> str:
    """The sheet as one self-contained HTML page (also the input of the PDF writer, which keeps each
    problem on one page where it fits: desktop/pdf.py finds the `<h2>` that starts each one)."""
    options = options or SheetOptions()
    out = [
        "<!DOCTYPE html>",
        '<html><head><meta charset="utf-8">',
        f"<title>{_esc(options.title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{_esc(options.title)}</h1>",
        f'<p class="date">{_esc(options.date_text())}'
        + (" &middot; student copy" if options.student_copy else "")
        + "</p>",
    ]
    if not options.student_copy and items:
        out.append(f'<p class="summary">{_esc(verdict_summary(items))}.</p>')
    for number, item in enumerate(items, 1):
        out.append(f"<h2>Problem {number}</h2>")
        out.append(f'<p class="problem">{_esc(item.problem)}</p>')
        if options.student_copy:
            space = "<br>" * max(1, options.work_lines)
            out.append(
                '<table class="work" width="100%" border="1" cellspacing="0" cellpadding="6" '
                'style="border-color: #999; border-style: solid;">'
                f'<tr><td><span style="color:#777">Your work:</span>{space}</td></tr></table>'
                "<p>Answer: ____________________</p>"
            )
            continue
        if item.core_question:
            out.append("<h3>Core question</h3>")
            out.append(f"<p>{_esc(item.core_question)}</p>")
        if item.key_information:
            out.append("<h3>Key information</h3><ul>")
            out.extend(f"<li>{_esc(fact)}</li>" for fact in item.key_information)
            out.append("</ul>")
        worked, code = _shows(options, item)
        if worked:
            out.append('<h3>Solution (worked steps)</h3><ol class="worked">')
            out.extend(f"<li>{'<br>'.join(_esc(line) for line in step.splitlines())}</li>"
                       for step in item.worked_steps)  # fmt: skip
            out.append("</ol>")
        if code:
            out.append("<h3>Solution (program)</h3>")
            out.append(f"<pre>{_esc(item.program)}</pre>")
        if (worked or code) and item.program_output:
            out.append(f"<p>{_esc(item.program_output)}</p>")
        if item.steps:
            out.append("<h3>Solution (steps)</h3>")
            out.append(f"<p>{_marked_steps(item, markdown=False)}</p>")
        out.extend(_answer_html(item))
        if item.note:
            out.append(f'<p class="note">{_esc(item.note)}</p>')
    if options.answer_key:
        out.append('<div style="page-break-before: always"></div>')
        out.append('<h1 style="page-break-before: always">Answer key</h1>')
        out.append(f'<p class="date">{_esc(options.title)} &middot; {_esc(options.date_text())}</p>')
        if items and any(item.to_check for item in items):
            out.append(f'<p class="summary">{_esc(verdict_summary(items))}.</p>')
        out.append('<table class="key" border="1" cellspacing="0" cellpadding="4">')
        out.append("<tr><th>Problem</th><th>Answer</th></tr>")
        for number, item in enumerate(items, 1):
            answer = f"<b>{_esc(item.answer or NO_ANSWER)}</b>"
            if item.to_check:
                answer += f' <span style="color:#8a4b00">({_esc(CHECK_THIS_ONE)})</span>'
            out.append(f"<tr><td>{number}</td><td>{answer}</td></tr>")
        out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out)


def render_markdown(items: Sequence[SheetItem], options: SheetOptions | None = None) -> str:
    options = options or SheetOptions()
    out = [
        f"# {options.title}",
        "",
        f"*{options.date_text()}*" + (" · student copy" if options.student_copy else ""),
        "",
    ]
    if not options.student_copy and items:
        out += [verdict_summary(items) + ".", ""]
    for number, item in enumerate(items, 1):
        out += [f"## Problem {number}", "", item.problem, ""]
        if options.student_copy:
            out += (
                ["Your work:", ""]
                + ["&nbsp;  "] * max(1, options.work_lines)
                + ["", "Answer: ____________", ""]
            )
            continue
        if item.core_question:
            out += ["**Core question.** " + item.core_question, ""]
        if item.key_information:
            out += ["**Key information.**", ""] + [f"- {fact}" for fact in item.key_information] + [""]
        worked, code = _shows(options, item)
        if worked:
            out += ["**Solution (worked steps).**", ""]
            out += [f"{n}. " + step.replace("\n", "\n   ") for n, step in enumerate(item.worked_steps, 1)] + [
                ""
            ]
        if code:
            out += ["**Solution (program).**", "", "```python", item.program, "```", ""]
        if (worked or code) and item.program_output:
            out += [item.program_output, ""]
        if item.steps:
            out += ["**Solution (steps).**", "", _marked_steps(item, markdown=True), ""]
        if item.to_check:
            out += [
                f"**Answer: {item.answer}** · *{_check_label(item)}*",
                "",
                f"*Not sure: {item.verdict_note}*",
                "",
            ]
        else:
            tag = " · checked" if item.verdict == Level.CHECKED.value else ""
            out += [f"**Answer: {item.answer or NO_ANSWER}**{tag}", ""]
        if item.note:
            out += [f"*{item.note}*", ""]
    if options.answer_key:
        # A horizontal rule stands for the page break; Markdown has none.
        out += ["---", "", "# Answer key", "", "| Problem | Answer |", "|---:|---|"]
        out += [f"| {number} | {_key_answer(item)} |" for number, item in enumerate(items, 1)]
        out.append("")
    return "\n".join(out)

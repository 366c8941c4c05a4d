"""Solution sheets for teachers: solved problems rendered as HTML or Markdown.

A sheet has a title, the date and numbered problems; for each, its core question, key information,
solution (worked steps, or the program and what it computed) and answer. Options:

- student copy: the problems with space to work, no solutions;
- answer key: the answers on a page of their own at the end (`page-break-before`, which both
  browsers and Qt's QTextDocument honour, so the PDF writer in `desktop/pdf.py` uses this HTML).

The HTML sticks to the subset Qt's rich-text engine understands (tables, simple CSS, no flexbox),
so one renderer serves the browser file and the PDF. Plain Python: no Qt here.
"""

from __future__ import annotations

import datetime as _dt
import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kpdd.answers import format_answer


@dataclass
class SheetOptions:
    title: str = "Math word problems"
    date: str = ""  # empty: today's date
    student_copy: bool = False  # problems with space to work, no solutions
    answer_key: bool = False  # answers on their own last page
    work_lines: int = 8  # height of the working space in a student copy, in lines

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
    steps: str = ""
    answer: str = ""  # formatted; empty when the solver found none
    note: str = ""  # e.g. "program and steps disagree"

    @classmethod
    def from_result(cls, result: Any) -> SheetItem:
        """From a `SolveResult` or its `to_dict()` (history entries and batch lines are dicts)."""
        from kpdd.format import Mode
        from kpdd.history import solve_result_from_dict

        data = result.to_dict() if hasattr(result, "to_dict") else dict(result or {})
        solved = result if hasattr(result, "shown_solution") else solve_result_from_dict(data)
        program = steps = output = ""
        shown_program, shown_steps = solved.shown_solution(Mode.POT), solved.shown_solution(Mode.COT)
        if shown_program is not None:
            program = shown_program.text
            execution = shown_program.execution
            if execution is not None and execution.ok:
                printed = (execution.stdout or "").strip()
                output = f"The program computed answer = {execution.answer!r}."
                if shown_program.answer_note:
                    output = f"{shown_program.answer_note} It is {execution.answer!r}."
                if printed:
                    output += f" It printed: {printed[:300]}"
            elif shown_program.error:
                output = f"The program failed: {shown_program.error}"
        if shown_steps is not None:
            steps = shown_steps.text
        answer = data.get("answer")
        note = ""
        expected = data.get("expected_answer")
        if expected is not None:
            # The teacher's list gave an answer: it is the authority for the sheet and its key.
            from kpdd.answers import answers_match

            if answer is not None and not answers_match(answer, expected):
                note = f"The tutor's solution gives {format_answer(answer)}, not the {format_answer(expected)} in the list."
            elif answer is None:
                note = "The tutor found no answer; the answer shown comes from the list."
            answer = expected
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
        return cls(
            problem=data.get("problem", ""),
            core_question=data.get("core_question", "") or "",
            key_information=[str(k) for k in data.get("key_information") or []],
            program=program,
            program_output=output,
            steps=steps,
            answer=format_answer(answer) if answer is not None else "",
            note=note,
        )


NO_ANSWER = "(no answer)"

_CSS = """
body { font-family: 'DejaVu Sans', Arial, sans-serif; font-size: 11pt; color: #111; }
h1 { font-size: 20pt; margin-bottom: 2px; }
p.date { color: #555; margin-top: 0; }
h2 { font-size: 14pt; margin-top: 18px; margin-bottom: 4px; }
p.problem { font-size: 11.5pt; }
h3 { font-size: 11pt; color: #1f4e79; margin-bottom: 2px; margin-top: 8px; }
pre { font-family: 'DejaVu Sans Mono', 'Courier New', monospace; font-size: 9.5pt;
      background-color: #f3f5f7; padding: 6px; }
p.answer { font-size: 12pt; font-weight: bold; color: #0b5d1e; }
p.note { color: #8a4b00; font-style: italic; }
table.key { border-collapse: collapse; }
table.key td, table.key th { padding: 4px 10px; }
"""


def _esc(text: str) -> str:
    return html.escape(text or "", quote=False)


def render_html(items: Sequence[SheetItem], options: SheetOptions | None = None) -> str:
    """The sheet as one self-contained HTML page (also the input of the PDF writer)."""
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
        if item.program:
            out.append("<h3>Solution (program)</h3>")
            out.append(f"<pre>{_esc(item.program)}</pre>")
            if item.program_output:
                out.append(f"<p>{_esc(item.program_output)}</p>")
        if item.steps:
            out.append("<h3>Solution (steps)</h3>")
            out.append("<p>" + "<br>".join(_esc(line) for line in item.steps.splitlines()) + "</p>")
        out.append(f'<p class="answer">Answer: {_esc(item.answer or NO_ANSWER)}</p>')
        if item.note:
            out.append(f'<p class="note">{_esc(item.note)}</p>')
    if options.answer_key:
        out.append('<div style="page-break-before: always"></div>')
        out.append('<h1 style="page-break-before: always">Answer key</h1>')
        out.append(f'<p class="date">{_esc(options.title)} &middot; {_esc(options.date_text())}</p>')
        out.append('<table class="key" border="1" cellspacing="0" cellpadding="4">')
        out.append("<tr><th>Problem</th><th>Answer</th></tr>")
        for number, item in enumerate(items, 1):
            out.append(f"<tr><td>{number}</td><td><b>{_esc(item.answer or NO_ANSWER)}</b></td></tr>")
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
        if item.program:
            out += ["**Solution (program).**", "", "```python", item.program, "```", ""]
            if item.program_output:
                out += [item.program_output, ""]
        if item.steps:
            out += ["**Solution (steps).**", "", item.steps, ""]
        out += [f"**Answer: {item.answer or NO_ANSWER}**", ""]
        if item.note:
            out += [f"*{item.note}*", ""]
    if options.answer_key:
        # A horizontal rule stands for the page break; Markdown has none.
        out += ["---", "", "# Answer key", "", "| Problem | Answer |", "|---:|---|"]
        out += [f"| {number} | {item.answer or NO_ANSWER} |" for number, item in enumerate(items, 1)]
        out.append("")
    return "\n".join(out)

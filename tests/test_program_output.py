"""Whatever a program prints or writes, the tutor keeps going: a lone surrogate in its output
(`print(chr(0xD800))`) and an expression nested hundreds deep pass through the window, history,
batches and sheets (sandbox issue, point 3). The programs run in the real sandbox; the model is
scripted, so the program is exactly the one under test."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from kpdd.batch import read_problems, run_batch
from kpdd.format import Stage
from kpdd.history import HistoryStore
from kpdd.sheets import SheetItem, SheetOptions, render_html, render_markdown
from kpdd.solver import Solver
from tests.desktop_fixtures import PROBLEM, SCRIPT, ScriptedBackend, close_window, make_window, wait_signal

SURROGATE = "apples = 6 * 14\nprint(chr(0xD800), apples)\nanswer = apples - 20"
DEEP = "apples = 6 * 14\nanswer = apples - 20 + " + "-" * 600 + "0"
PROGRAMS = {"surrogate": SURROGATE, "deep": DEEP}


def scripted_solver(program: str) -> Solver:
    return Solver(ScriptedBackend({**SCRIPT, Stage.PROGRAM: program}, delay_s=0))


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_the_solve_keeps_its_answer_and_history_stores_it(name: str, tmp_path: Path) -> None:
    result = scripted_solver(PROGRAMS[name]).solve(PROBLEM, "pot", samples=1)
    assert result.answer == 64
    with HistoryStore(tmp_path / "history.sqlite3") as history:
        entry_id = history.add(result)
        entry = history.get(entry_id)
        assert entry is not None and entry.answer == 64
        assert history.export(tmp_path / "history.json") == 1
    json.loads((tmp_path / "history.json").read_text(encoding="utf-8"))
    if name == "surrogate":  # shown as the replacement character, not lost
        assert "\ufffd 84" in result.solutions[0].execution.stdout


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_a_batch_and_its_sheets_survive(name: str, tmp_path: Path) -> None:
    problems_file = tmp_path / "worksheet.txt"
    problems_file.write_text(PROBLEM + "\n", encoding="utf-8")
    problems = read_problems(problems_file)
    outcome = run_batch(scripted_solver(PROGRAMS[name]), problems, tmp_path / "results.jsonl")
    assert outcome.complete and outcome.results[0] is not None
    items = [SheetItem.from_result(r) for r in outcome.results]
    options = SheetOptions(title="Worksheet", answer_key=True)
    assert "64" in render_markdown(items, options) and "64" in render_html(items, options)
    from desktop.pdf import write_sheet

    pdf = write_sheet(items, options, tmp_path / "sheet.pdf")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "Answer key" in text and "64" in text


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_the_window_shows_the_answer_and_saves_it(name: str, kpdd_home: Path) -> None:
    win, _ = make_window(ScriptedBackend({**SCRIPT, Stage.PROGRAM: PROGRAMS[name]}))
    win.show()
    try:
        win.problem_card.edit.setPlainText(PROBLEM)
        assert win.session.solve() is not None
        (result,) = wait_signal(win.solve_finished, 20)
        assert result.answer == 64 and win.answer_card.answer_label.text() == "64"
        assert [e.answer for e in win.session.history.search("apples")] == [64]
        assert win.history_panel.list.count() == 1
    finally:
        close_window(win)

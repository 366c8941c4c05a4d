"""`kpdd solve` and `kpdd sheet` say how sure they are, show worked steps and what they read (the real
command functions and solver; a scripted model, so each verdict has a fixed outcome)."""

from __future__ import annotations

import json

import pytest

from kpdd import cli, cli_options
from kpdd.format import MAX_PROBLEM_CHARS, Stage
from kpdd.solver import Solver
from tests.scripted_backend import PROBLEM, SCRIPT, ScriptedBackend


@pytest.fixture
def scripted(monkeypatch):
    """`kpdd` opens a solver over the scripted model given in `scripted.script`."""

    class Holder:
        script = dict(SCRIPT)

    def open_solver(args, batch=False):
        return Solver(ScriptedBackend(Holder.script, delay_s=0))

    monkeypatch.setattr(cli_options, "open_solver", open_solver)
    return Holder


def test_solve_shows_worked_steps_and_a_not_sure_verdict(scripted, capsys):
    assert cli.main(["solve", "--samples", "1", PROBLEM]) == 0
    out = capsys.readouterr().out
    assert "-- Sandbox: answer = 64 (" in out  # 64, not 64.0
    steps = out.split("== Worked steps ==\n")[1].split("\n\n")[0].splitlines()
    assert steps == [
        "1. Apples = 6 × 14 = 84",
        "2. Given away = 20",
        "3. Answer = apples − given away = 84 − 20 = 64",
    ]
    answer = out.split("== Answer ==\n")[1].splitlines()
    assert answer[0] == "64"
    assert answer[1] == ("Not sure: Only one solution was written, so nothing checked it. "
                         "Work through it with the hints, or solve it in Both mode to have it checked.")  # fmt: skip


def test_solve_in_both_mode_is_checked_and_names_a_false_step(scripted, capsys):
    assert cli.main(["solve", "--mode", "both", PROBLEM]) == 0
    assert "\nChecked: The program and the worked steps give the same answer." in capsys.readouterr().out
    scripted.script = {**SCRIPT, Stage.STEPS: "6 * 14 = 74 apples. 74 - 10 = 64. The answer is 64."}
    assert cli.main(["solve", "--mode", "both", PROBLEM]) == 0
    out = capsys.readouterr().out
    assert "Not sure: A step gets its arithmetic wrong: 6 × 14 is 84, not 74." in out
    assert "   a step writes 6 × 14 = 74; it is 84\n" in out


def test_solve_json_carries_the_verdict_and_a_long_problem_is_said_first(scripted, capsys):
    assert cli.main(["solve", "--json", "--samples", "1", PROBLEM]) == 0
    verdict = json.loads(capsys.readouterr().out)["verdict"]
    assert verdict["level"] == "not_sure" and verdict["doubts"][0]["note"] == "one_solution"
    cli.main(["solve", "--samples", "1", PROBLEM + " and more" * 400])
    out = capsys.readouterr().out
    assert out.startswith(f"(The problem is long: only its first {MAX_PROBLEM_CHARS} characters are used.)")


def test_sheet_reads_a_list_line_by_line_says_so_first_and_counts_what_to_check(
    scripted, tmp_path, capsys, kpdd_home
):
    problems = tmp_path / "week-3.txt"
    problems.write_text(
        "\n".join(f"A farmer packs {n} baskets with 14 apples each. How many apples?" for n in range(1, 9))
    )
    out = tmp_path / "week-3.md"
    assert cli.main(["sheet", str(problems), "-o", str(out), "--answer-key", "--samples", "1"]) == 0
    captured = capsys.readouterr()
    assert captured.err.startswith("Read 8 problems from week-3.txt:\n  1. A farmer packs 1 baskets")
    assert "Wrote" in captured.out and "(8 problems; 0 answers checked, 8 to check by hand" in captured.out
    text = out.read_text()
    assert text.count("## Problem ") == 8 and "| 8 | 64 (check this one) |" in text
    assert "1. Apples = 6 × 14 = 84" in text and "```python" not in text
    shown = tmp_path / "program.md"
    assert cli.main(["sheet", str(problems), "-o", str(shown), "--show", "program", "--samples", "1"]) == 0
    assert f"```python\n{SCRIPT[Stage.PROGRAM]}\n```" in shown.read_text()
    # The same list again, with two more problems: what was kept is said before solving starts.
    problems.write_text(
        problems.read_text() + "\nA box holds 3 pens. How many pens?\nA cat has 4 legs. Legs?"
    )
    capsys.readouterr()
    assert cli.main(["sheet", str(problems), "-o", str(out), "--samples", "1"]) == 0
    err = capsys.readouterr().err
    kept = err.index("8 of 10 problems were already solved (kept in ")
    assert "solving the other 2." in err and kept < err.index("solving:") and "2/2" in err


def test_solve_says_how_to_have_a_not_sure_answer_checked_by_the_second_model(monkeypatch, capsys):
    """The default asks the installed second model only about answers that look wrong; for a lone
    plausible answer `kpdd solve` says how to have it checked."""
    script = {"answer": dict(SCRIPT)}

    def open_solver(args, batch=False):
        teacher = Solver(ScriptedBackend(delay_s=0, name="teacher"))
        return Solver(ScriptedBackend(script["answer"], delay_s=0), second_opinion=teacher)

    monkeypatch.setattr(cli_options, "open_solver", open_solver)
    assert cli.main(["solve", "--samples", "1", PROBLEM]) == 0
    out = capsys.readouterr().out
    assert out.endswith("To have teacher check this answer, solve again with --second-opinion-on every.\n")
    script["answer"] = {**SCRIPT, Stage.PROGRAM: "answer = 20 - 6 * 14"}  # negative: teacher is asked
    assert cli.main(["solve", "--samples", "1", PROBLEM]) == 0
    out = capsys.readouterr().out
    assert "teacher was asked too" in out and "--second-opinion-on every" not in out


FARMER = (
    "A farmer has 17 sheep. He has three times as many goats as sheep. He sells 12 goats. "
    "How many animals does he have now?"
)
FARMER_STUDENT = {
    Stage.CORE_QUESTION: "How many animals does the farmer have now?",
    Stage.KEY_INFORMATION: "- 17 sheep\n- three times as many goats as sheep\n- sells 12 goats",
    Stage.PROGRAM: "sheep = 17\ngoats = sheep * 3\ngoats_sold = 12\ngoats_left = goats - goats_sold\n"
    "total_animals = sheep + goats_left + goats_sold\nanswer = total_animals",  # 68: the sold goats back
    Stage.STEPS: "17 + 51 - 12 = 56. The answer is 56.",
}
FARMER_SECOND = {**FARMER_STUDENT, Stage.PROGRAM: "sheep = 17\ngoats = 3 * sheep\ngoats_left = goats - 12\n"
                 "total = sheep + goats_left"}  # fmt: skip


def test_when_the_second_model_answers_its_program_is_printed_and_the_reasons_are_about_it(
    monkeypatch, capsys
):
    def open_solver(args, batch=False):
        second = Solver(ScriptedBackend(FARMER_SECOND, delay_s=0, name="Qwen2.5-Coder-1.5B-Instruct"))
        return Solver(ScriptedBackend(FARMER_STUDENT, delay_s=0, name="KPDD student"), second_opinion=second)

    monkeypatch.setattr(cli_options, "open_solver", open_solver)
    assert cli.main(["solve", FARMER]) == 0
    out = capsys.readouterr().out
    streamed, rest = out.split(
        "== Program by Qwen2.5-Coder-1.5B-Instruct (the answer shown is this one's) ==\n"
    )
    assert "answer = total_animals" in streamed and "-- Sandbox: answer = 68" in streamed  # the student's
    second_program, after = rest.split("\n\n-- Sandbox: ", 1)
    assert second_program == FARMER_SECOND[Stage.PROGRAM]
    assert after.startswith("answer = 56")
    assert "-- The first model's answer: 68 (KPDD student, above)." in after
    answer = after.split("== Answer ==\n")[1].splitlines()
    assert answer[0] == "56  (1 of 2 solutions give it; Qwen2.5-Coder-1.5B-Instruct was asked too)"
    assert "%" not in answer[0]  # no percentage beside a "Not sure"
    assert answer[1].startswith("Not sure: This is the answer of a second model")
    # The reason names the printed program's own last result, `total`, which only the 1.5B's has.
    assert "its last result, total, was taken" in answer[1]


@pytest.mark.parametrize(
    "program, rechecked",
    [(SCRIPT[Stage.PROGRAM], False), ("apples = 6 * 14\nanswer = 20 - apples", True)],  # -64 apples left
)
def test_auto_samples_recheck_only_an_answer_that_looks_wrong(scripted, capsys, program, rechecked):
    from kpdd.result import SolveResult
    from kpdd.solver import RECHECK_SAMPLES

    scripted.script = {**SCRIPT, Stage.PROGRAM: program}
    assert cli.main(["solve", "--json", "--samples", "auto", PROBLEM]) == 0
    result = SolveResult.from_dict(json.loads(capsys.readouterr().out))
    assert result.rechecked is rechecked
    assert len(result.solutions) == (RECHECK_SAMPLES if rechecked else 1)

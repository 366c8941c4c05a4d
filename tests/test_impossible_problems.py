"""A problem that cannot be right as written (Tom has 5 apples and gives away 8): when every solution
gives an answer no word problem has, the tutor says the problem may be wrong, in the CLI, the app
and a sheet, and says too that the tutor may be the one at fault (it is, on real problems: 15 of
1200 in the default setting's records, none right)."""

from __future__ import annotations

from kpdd import cli, cli_options
from kpdd.format import Mode, Stage
from kpdd.judgement import finalize
from kpdd.result import Solution, SolveResult
from kpdd.sheets import SheetItem, SheetOptions, render_html, render_markdown
from kpdd.solver import Solver
from kpdd.verdict import Level, Note, judge
from tests.desktop_fixtures import ScriptedBackend, close_window, make_window, wait_signal

TOM = "Tom has 5 apples. He gives away 8 apples. How many apples does he have left?"
TOM_SCRIPT = {
    Stage.CORE_QUESTION: "How many apples does Tom have left?",
    Stage.KEY_INFORMATION: "- Tom has 5 apples.\n- He gives away 8 apples.",
    Stage.PROGRAM: "apples = 5\ngiven_away = 8\nanswer = apples - given_away",
    Stage.STEPS: "5 - 8 = -3. The answer is -3.",
}
MAY_BE_WRONG = "the problem may be wrong as written"


def _result(*answers: float, problem: str = TOM) -> SolveResult:
    result = SolveResult(problem, Mode.POT)
    result.solutions = [Solution(Mode.POT, f"answer = {a}", answer=a) for a in answers]
    finalize(result)
    return result


def test_every_solution_impossible_flags_the_problem_and_one_possible_answer_does_not() -> None:
    verdict = judge(_result(-3.0, -3.0, -3.0))
    assert verdict.level == Level.NOT_SURE and verdict.problem_may_be_wrong
    assert verdict.doubts[0].note == Note.ALL_NEGATIVE and MAY_BE_WRONG in verdict.explanation()
    assert "or the tutor could not solve it" in verdict.explanation()
    assert verdict.advice.startswith("Read the problem again")
    assert not judge(_result(-3.0, 3.0)).problem_may_be_wrong  # one possible answer: the tutor erred
    assert not judge(_result(-3.0)).problem_may_be_wrong  # one solution says too little
    parts = judge(_result(2.5, 1.5, problem="Three friends share 7 cookies. How many cookies does each get?"))
    assert parts.problem_may_be_wrong and parts.doubts[0].note == Note.ALL_PARTS


def test_the_cli_says_the_problem_may_be_wrong(monkeypatch, capsys) -> None:
    monkeypatch.setattr(
        cli_options, "open_solver", lambda args, batch=False: Solver(ScriptedBackend(TOM_SCRIPT, delay_s=0))
    )
    assert cli.main(["solve", TOM]) == 0  # Auto: the negative first answer draws four more
    answer = capsys.readouterr().out.split("== Answer ==\n")[1].splitlines()
    assert answer[0].startswith("-3  (5 of 5 solutions give it")
    assert (
        answer[1].startswith("Not sure: Every solution gives a negative number") and MAY_BE_WRONG in answer[1]
    )
    assert answer[1].endswith(
        "Read the problem again; if it is written as you meant it, work through it with the hints."
    )


def test_a_sheet_marks_the_problem_for_the_teacher() -> None:
    result = Solver(ScriptedBackend(TOM_SCRIPT, delay_s=0)).solve(TOM, "pot", samples=0)
    item = SheetItem.from_result(result.to_dict())  # as a batch keeps it
    assert item.problem_check and item.to_check
    options = SheetOptions(title="Worksheet", answer_key=True)
    markdown = render_markdown([item], options)
    assert "**Answer: -3** · *check the problem itself: no solution found a possible answer*" in markdown
    assert "| 1 | -3 (check the problem itself: no solution found a possible answer) |" in markdown
    assert "1 whose problem may be wrong as written" in markdown
    assert MAY_BE_WRONG in render_html([item], options)


def test_the_window_says_the_problem_may_be_wrong(kpdd_home) -> None:
    win, _ = make_window(ScriptedBackend(TOM_SCRIPT))
    win.show()
    try:
        win.problem_card.edit.setPlainText(TOM)
        win.problem_card.samples_spin.setValue(0)
        assert win.session.solve() is not None
        (result,) = wait_signal(win.solve_finished, 20)
        assert result.answer == -3
        assert MAY_BE_WRONG in win.answer_card.verdict_label.text()
        assert "Read the problem again" in win.answer_card.verdict_label.text()
    finally:
        close_window(win)

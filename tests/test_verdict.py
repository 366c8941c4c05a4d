"""kpdd.verdict: checked / not sure / no answer, from the evidence a solve already holds."""

from __future__ import annotations

from kpdd.format import Mode, Stage
from kpdd.judgement import finalize
from kpdd.result import Solution, SolveResult
from kpdd.solver import Solver
from kpdd.verdict import (
    DEFAULT_POLICY,
    Level,
    Note,
    VerdictPolicy,
    count_levels,
    judge,
    judge_record,
)
from tests.scripted_backend import PROBLEM, SCRIPT, ScriptedBackend

FARMER = (
    "A farmer has 17 sheep and 3 times as many goats. He sells 12 goats. How many animals does he have now?"
)


def notes(verdict) -> list[Note]:
    return [finding.note for finding in verdict.doubts]


def result_of(mode: Mode, *solutions: Solution, problem: str = FARMER) -> SolveResult:
    result = SolveResult(problem, mode)
    result.solutions = list(solutions)
    finalize(result)
    return result


def pot(text: str, answer: float | None, **kwargs) -> Solution:
    return Solution(Mode.POT, text, answer=answer, **kwargs)


def cot(text: str, answer: float | None) -> Solution:
    return Solution(Mode.COT, text, answer=answer)


def test_the_issues_lone_program_is_not_sure_and_says_why():
    # The farmer problem came back as a big green 75: one program, nothing checked it.
    result = result_of(Mode.POT, pot("goats = 17 * 3\nanswer = goats + 12 + 12", 75.0))
    verdict = judge(result)
    assert verdict.level == Level.NOT_SURE and notes(verdict) == [Note.ONE_SOLUTION]
    assert verdict.explanation() == (
        "Only one solution was written, so nothing checked it. "
        "Work through it with the hints, or solve it in Both mode to have it checked."
    )
    assert verdict.label == "check this one"


def test_program_and_steps_agreeing_is_checked():
    steps = "He has 17 * 3 = 51 goats. 51 - 12 = 39 goats are left. 17 + 39 = 56. The answer is 56."
    result = result_of(
        Mode.BOTH, pot("goats = 17 * 3\nleft = goats - 12\nanswer = 17 + left", 56.0), cot(steps, 56.0)
    )
    verdict = judge(result)
    assert verdict.level == Level.CHECKED and verdict.doubts == ()
    assert [f.note for f in verdict.support] == [Note.BOTH_AGREE, Note.PROGRAM_RAN, Note.ARITHMETIC_RIGHT]
    assert verdict.explanation().startswith("The program and the worked steps give the same answer.")


def test_agreeing_steps_with_false_arithmetic_are_not_sure_and_name_the_slip():
    steps = "17 sheep * 3 goats = 49 goats. 49 - 12 = 37. 17 + 37 = 54. The answer is 54."
    result = result_of(Mode.BOTH, pot("answer = 17 * 3 - 12 + 15", 54.0), cot(steps, 54.0))
    verdict = judge(result)
    assert verdict.level == Level.NOT_SURE and Note.ARITHMETIC_WRONG in notes(verdict)
    assert "A step gets its arithmetic wrong: 17 × 3 is 51, not 49." in verdict.explanation()
    assert [(s.expression, s.written) for s in verdict.slips] == [("17 × 3", "49")]


def test_disagreement_and_a_split_vote_are_not_sure():
    both = judge(result_of(Mode.BOTH, pot("answer = 17 * 3 + 17 - 12", 56.0), cot("The answer is 60.", 60.0)))
    assert both.level == Level.NOT_SURE and notes(both) == [Note.DISAGREE]
    failed = judge(
        result_of(
            Mode.BOTH, pot("answer = 17 / 0", None, error_kind="runtime"), cot("The answer is 56.", 56.0)
        )
    )
    assert notes(failed) == [Note.PROGRAM_FAILED]
    assert failed.explanation().startswith(
        "The program did not run to an answer, so nothing checked the worked steps."
    )
    no_steps = judge(
        result_of(Mode.BOTH, pot("answer = 17 * 3 + 17 - 12", 56.0), cot("I do not know.", None))
    )
    assert notes(no_steps) == [Note.STEPS_FAILED]
    split = result_of(Mode.POT, *[pot("answer = 17 + 17 * 3 - 12", 56.0)] * 2,
                      *[pot(f"answer = 17 {op} 3", 17.0 + n) for op, n in (("+", 3), ("-", -3), ("*", 34))])  # fmt: skip
    verdict = judge(split)
    assert verdict.level == Level.NOT_SURE and notes(verdict)[0] == Note.SPLIT_VOTE
    assert "Only 2 of 5 solutions give this answer." in verdict.explanation()


def test_samples_that_agree_are_checked_and_the_threshold_is_a_policy():
    result = result_of(Mode.POT, *[pot("answer = 17 + 17 * 3 - 12", 56.0)] * 3,
                       pot("answer = 17 + 3", 20.0), pot("answer = 17 * 3", 51.0))  # fmt: skip
    verdict = judge(result)
    assert verdict.level == Level.CHECKED
    assert verdict.support[0].text() == "3 of 5 solutions give this answer."
    assert judge(result, VerdictPolicy(min_share=0.8)).level == Level.NOT_SURE
    assert judge(result, VerdictPolicy(min_agreeing=4, min_share=0.5)).level == Level.NOT_SURE
    assert DEFAULT_POLICY.min_share == 0.6 and DEFAULT_POLICY.min_agreeing == 2


def test_marks_on_the_answer():
    muffins = "A baker has 12 muffins for 5 boxes. How many muffins go in each box?"
    negative = judge(result_of(Mode.POT, pot("answer = 12 - 17", -5.0)))
    assert negative.level == Level.NOT_SURE and notes(negative) == [Note.ONE_SOLUTION, Note.NEGATIVE]
    part = judge(result_of(Mode.POT, pot("answer = 12 / 5", 2.4), problem=muffins))
    assert notes(part) == [Note.ONE_SOLUTION, Note.PART_OF_A_COUNT]
    # Every solution impossible: the problem itself may be wrong (tests/test_impossible_problems.py).
    negatives = judge(result_of(Mode.POT, *[pot("answer = 12 - 17", -5.0)] * 3))
    assert negatives.level == Level.NOT_SURE and notes(negatives) == [Note.ALL_NEGATIVE]
    parts = judge(result_of(Mode.POT, *[pot("answer = 12 / 5", 2.4)] * 3, problem=muffins))
    assert notes(parts) == [Note.ALL_PARTS]
    # A fraction of a measured quantity is only doubtful: the program and the steps agreeing outweigh
    # it; samples of one model agreeing do not.
    price = "Two friends share 7 dollars equally: 2 parts. How much does each friend get?"
    agreeing = result_of(
        Mode.BOTH, pot("answer = 7 / 2", 3.5), cot("7 / 2 = 3.5. The answer is 3.5.", 3.5), problem=price
    )
    assert judge(agreeing).level == Level.CHECKED
    samples = judge(result_of(Mode.POT, *[pot("answer = 7 / 2", 3.5)] * 3, problem=price))
    assert samples.level == Level.NOT_SURE and notes(samples) == [Note.NOT_WHOLE]
    assert notes(judge(result_of(Mode.POT, pot("answer = 7 / 2", 3.5), problem=price))) == [
        Note.ONE_SOLUTION,
        Note.NOT_WHOLE,
    ]
    invented = judge(result_of(Mode.POT, pot("answer = 17 * 3 + 17 - 12 + 100", 156.0)))
    assert notes(invented) == [Note.ONE_SOLUTION, Note.UNGROUNDED]
    assert "The program uses 100, a number the problem does not give." in invented.explanation()
    # Five samples inventing the same number are one model's habit, not a check.
    five = judge(result_of(Mode.POT, *[pot("answer = 17 * 3 + 17 - 12 + 100", 156.0)] * 5))
    assert five.level == Level.NOT_SURE and notes(five) == [Note.UNGROUNDED]
    # "Half as many" gives the 2 a program divides by: five agreeing programs are checked.
    natalia = "Natalia sold 48 clips in April and half as many in May. How many clips did she sell in all?"
    halves = judge(result_of(Mode.POT, *[pot("may = 48 / 2\nanswer = 48 + may", 72.0)] * 5, problem=natalia))
    assert halves.level == Level.CHECKED and Note.UNGROUNDED not in notes(halves)


def test_an_answer_read_from_the_last_assignment_is_named():
    lone = pot("goats = 17 * 3\nanimals = goats - 12 + 17", 56.0, answer_source="last_assignment")
    verdict = judge(result_of(Mode.POT, lone))
    assert notes(verdict) == [Note.ONE_SOLUTION, Note.LAST_ASSIGNMENT]
    assert "its last result, animals, was taken" in verdict.explanation()
    # Confirmed by the steps, the way it was read no longer matters.
    both = judge(result_of(Mode.BOTH, lone, cot("17 * 3 = 51, 51 - 12 + 17 = 56. The answer is 56.", 56.0)))
    assert both.level == Level.CHECKED


def test_a_second_opinion_agreeing_or_not():
    first = pot("answer = 12 - 17 * 3 - 17", -56.0)
    other = pot("goats = 17 * 3\nanswer = 17 + goats - 12", 56.0, model="teacher")
    same = pot("goats = 17 * 3\nanswer = 17 + goats - 12", 56.0)
    differs = result_of(Mode.POT, first, other)
    differs.second_opinion = "teacher"
    verdict = judge(differs)
    # The first answer (negative) lost to the second model's: the verdict says whose answer it is.
    assert differs.answer == 56.0 and notes(verdict) == [Note.SECOND_OPINION_INSTEAD]
    assert (
        "This is the answer of a second model, teacher; the first model's answer is different."
        in verdict.explanation()
    )
    doubtful_other = pot("answer = 17 * 3 + 17 - 12 + 7", 63.0, model="teacher")  # 7: not given
    kept = result_of(Mode.POT, pot("goats = 17 * 3\nanswer = 17 + goats", 68.0), doubtful_other)
    kept.second_opinion = "teacher"
    verdict = judge(kept)
    assert kept.answer == 68.0 and notes(verdict) == [Note.SECOND_OPINION_DIFFERS]
    assert "A second model, teacher, gives a different answer." in verdict.explanation()
    agrees = result_of(Mode.POT, same, other)
    agrees.second_opinion = "teacher"
    verdict = judge(agrees)
    assert verdict.level == Level.CHECKED and Note.SECOND_OPINION_AGREES in [f.note for f in verdict.support]
    # Agreeing with a first answer that looked wrong (here it adds 7, a number the problem does not
    # give) does not make it checked: such agreements were right about two times in three.
    doubtful_first = pot("goats = 17 * 3\nanswer = 17 + goats - 12 + 7 - 7", 56.0)
    agrees_on_doubt = result_of(Mode.POT, doubtful_first, other)
    agrees_on_doubt.second_opinion = "teacher"
    verdict = judge(agrees_on_doubt)
    assert verdict.level == Level.NOT_SURE and notes(verdict) == [Note.AGREED_ON_A_DOUBTFUL_ANSWER]
    assert "so their agreement does not make it checked" in verdict.explanation()


def test_no_answer_says_why():
    stopped = SolveResult(FARMER, Mode.POT, cancelled=True)
    assert [f.note for f in judge(stopped).doubts] == [Note.STOPPED]
    failed = result_of(Mode.POT, pot("answer = 1 / 0", None, error_kind="runtime"))
    assert judge(failed).level == Level.NO_ANSWER
    assert judge(failed).explanation() == "The model did not produce a usable answer."
    broken = SolveResult(FARMER, Mode.POT, error="llama.cpp failed")
    assert judge(broken).explanation() == "The model stopped with an error: llama.cpp failed"
    assert count_levels([judge(stopped), judge(failed)]) == {Level.CHECKED: 0, Level.NOT_SURE: 0,
                                                               Level.NO_ANSWER: 2}  # fmt: skip


def test_an_eval_record_gets_the_verdict_its_result_gets():
    from kpdd.datasets import Problem
    from kpdd.evaluate import record_for

    steps = "17 * 3 = 51. 51 - 12 = 39. 17 + 39 = 56. The answer is 56."
    cases = [
        result_of(Mode.BOTH, pot("goats = 17 * 3\nanswer = 17 + goats - 12", 56.0), cot(steps, 56.0)),
        result_of(Mode.POT, pot("x = 17 * 3\ny = x + 5", 56.0, answer_source="last_assignment")),
        result_of(Mode.POT, pot("answer = (", None, error_kind="syntax")),
    ]
    for result in cases:
        record = record_for(Problem(id="p1", question=FARMER, answer=56.0, source="test"), result)
        assert judge_record(record, result.mode) == judge(result)


def test_the_real_solver_with_a_scripted_model():
    backend = ScriptedBackend(delay_s=0)
    program = Solver(backend).solve(PROBLEM, "pot")
    assert judge(program).level == Level.NOT_SURE  # one program: nothing checked it
    both = Solver(backend).solve(PROBLEM, "both")
    assert judge(both).level == Level.CHECKED  # 64 from the program and from the steps
    wrong = ScriptedBackend(
        {**SCRIPT, Stage.STEPS: "6 * 14 = 74. 74 - 10 = 64. The answer is 64."}, delay_s=0
    )
    verdict = judge(Solver(wrong).solve(PROBLEM, "both"))
    assert verdict.level == Level.NOT_SURE and "6 × 14 is 84, not 74" in verdict.explanation()


def test_each_level_has_its_own_title_and_label_in_both_languages():
    """A student tells the verdicts apart by their words: distinct in English and in Chinese."""
    from desktop.translations import ZH_CN
    from kpdd.verdict import LEVEL_LABELS, LEVEL_TITLES

    for table in (LEVEL_TITLES, LEVEL_LABELS):
        assert set(table) == set(Level)
        english = [table[level] for level in Level]
        assert len(set(english)) == len(english) and all(english)
        chinese = [ZH_CN[text] for text in english]
        assert len(set(chinese)) == len(chinese)
    assert LEVEL_TITLES[Level.CHECKED] == "Checked" and LEVEL_LABELS[Level.NOT_SURE] == "check this one"

"""A Chinese problem's worked steps name its program's variables in Chinese: the prompt and what of
the reply counts (kpdd.format), the steps drawn with the names (kpdd.worked), the names kept with
the solution (kpdd.result), and the solver asking for them only when they help (kpdd.solver)."""

from __future__ import annotations

import pytest

from kpdd.format import Mode, parse_step_names, step_names_prompt
from kpdd.result import Solution, SolveResult
from kpdd.solver import Solver
from kpdd.worked import names_to_explain, worked_steps
from tests.scripted_backend import SCRIPT, ScriptedBackend

FARMER_ZH = "一个农民把14个苹果装进每个篮子，一共装了6篮。他送出了20个苹果。他还剩多少个苹果？"
FARMER_PROGRAM = "sheep = 17\ngoats = sheep * 3\ngoats_left = goats - 12\ntotal = round(sheep + goats_left)\nanswer = total"
FARMER_NAMES = ["sheep", "goats", "goats_left", "total"]


def test_the_names_a_program_needs_are_its_variables_in_order():
    assert names_to_explain(FARMER_PROGRAM) == FARMER_NAMES  # not `answer`, not `round`
    assert names_to_explain("import math\nr = 2\narea = math.pi * r ** 2\nanswer = area") == ["r", "area"]
    assert names_to_explain("answer = (") == []  # does not parse: nothing to name


def test_the_prompt_lists_the_names_after_the_problem():
    prompt = step_names_prompt(FARMER_ZH, FARMER_NAMES)
    assert prompt.endswith(f"题目：{FARMER_ZH}\n变量：sheep, goats, goats_left, total\n")
    assert prompt.count("题目：") == 3  # two demonstrations, then the problem


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("sheep: 羊的数量\ngoats: 山羊的数量\ngoats_left：剩下的山羊。\ntotal: 动物总数",  # full-width colon, a 。
         {"sheep": "羊的数量", "goats": "山羊的数量", "goats_left": "剩下的山羊", "total": "动物总数", "answer": "答案"}),
        ("sheep: 羊的数量\ngoats: 山羊的数量\ntotal: 动物总数", {}),  # goats_left missing: none at all
        ("sheep: 羊的数量\ngoats: goats\ngoats_left: 剩下的山羊\ntotal: 动物总数", {}),  # one left in English
        ("sheep: 羊\ngoats: 山羊\ngoats_left: " + "剩" * 30 + "\ntotal: 总数", {}),  # a sentence, not a name
        ("sheep: 羊的数量\ngoats: 3倍的羊\ngoats_left: 剩下的山羊\ntotal: 动物总数", {}),  # a value in a name
        ("", {}),
    ],
)  # fmt: skip
def test_only_a_complete_set_of_short_chinese_names_counts(reply, expected):
    assert parse_step_names(reply, FARMER_NAMES) == expected


def test_worked_steps_read_in_chinese_with_the_names():
    names = parse_step_names(
        "sheep: 羊的数量\ngoats: 山羊的数量\ngoats_left: 剩下的山羊\ntotal: 动物总数", FARMER_NAMES
    )
    chinese = worked_steps(FARMER_PROGRAM, names=names)
    assert [s.text() for s in chinese.steps] == [
        "羊的数量 = 17",
        "山羊的数量 = 羊的数量 × 3 = 17 × 3 = 51",
        "剩下的山羊 = 山羊的数量 − 12 = 51 − 12 = 39",
        "动物总数 = 四舍五入 (羊的数量 + 剩下的山羊) = 四舍五入 (17 + 39) = 56",
        "答案 = 动物总数 = 56",
    ]
    english = worked_steps(FARMER_PROGRAM)  # the same program without names: its own, in English
    assert english.steps[1].text() == "Goats = sheep × 3 = 17 × 3 = 51"
    assert english.steps[-1].label == "Answer"


def test_names_are_kept_with_the_solution_and_junk_is_dropped():
    result = SolveResult(problem=FARMER_ZH, mode=Mode.POT,
                         solutions=[Solution(Mode.POT, FARMER_PROGRAM, answer=56.0, names={"sheep": "羊"})])  # fmt: skip
    again = SolveResult.from_dict(result.to_dict())
    assert again.solutions[0].names == {"sheep": "羊"}
    stored = result.to_dict()
    stored["solutions"][0]["names"] = ["not", "a", "mapping"]  # a damaged history entry
    assert SolveResult.from_dict(stored).solutions[0].names == {}


def chinese_script() -> ScriptedBackend:
    return ScriptedBackend({**SCRIPT}, delay_s=0)


def test_a_chinese_problem_gets_chinese_names_from_the_model_that_solved_it():
    backend = chinese_script()
    solver = Solver(backend)
    result = solver.solve(FARMER_ZH, "pot")
    program = result.shown_solution(Mode.POT)
    assert result.answer == 64.0 and program.names == {}  # the answer does not wait for names
    assert not any("变量：" in p for p in backend.prompts)
    solver.name_program_steps(result)
    assert program.names == {"apples": "苹果总数", "given_away": "送出的苹果", "answer": "答案"}
    assert sum("变量：apples, given_away" in p for p in backend.prompts) == 1
    solver.name_program_steps(result)  # named already: not asked again
    assert sum("变量：" in p for p in backend.prompts) == 1
    steps = [s.text() for s in worked_steps(program.text, names=program.names).steps]
    assert steps == [
        "苹果总数 = 6 × 14 = 84",
        "送出的苹果 = 20",
        "答案 = 苹果总数 − 送出的苹果 = 84 − 20 = 64",
    ]


def test_an_english_problem_is_never_asked_for_names():
    backend = chinese_script()
    solver = Solver(backend)
    result = solver.solve(SCRIPT_PROBLEM, "pot")
    assert solver.step_names(result) == {} and result.shown_solution(Mode.POT).names == {}
    assert not any("变量：" in p for p in backend.prompts)


def test_unusable_names_leave_the_programs_own_and_the_answer_as_it_was():
    backend = chinese_script()
    backend.names_reply = "apples: apples\ngiven_away: 送出的苹果"  # one name not Chinese
    solver = Solver(backend)
    result = solver.solve(FARMER_ZH, "pot")
    solver.name_program_steps(result)
    assert result.answer == 64.0 and not result.cancelled
    assert result.shown_solution(Mode.POT).names == {}


SCRIPT_PROBLEM = "A farmer packs 6 baskets with 14 apples each. He gives away 20 apples. How many apples does he have left?"


@pytest.mark.slow
def test_a_real_model_gives_all_chinese_names_or_none(smollm2_gguf):
    """SmolLM2 knows little Chinese: whatever it replies, the steps are all Chinese or all the
    program's own, never half of each, and the answer does not change."""
    from kpdd.llama_backend import LlamaBackend

    backend = LlamaBackend(smollm2_gguf, threads=2, n_ctx=2048)
    try:
        solver = Solver(backend)
        program = Solution(
            Mode.POT, "apples = 6 * 14\ngiven_away = 20\nanswer = apples - given_away", answer=64.0
        )
        result = SolveResult(problem=FARMER_ZH, mode=Mode.POT, solutions=[program], answer=64.0)
        solver.name_program_steps(result)
        labels = [s.label for s in worked_steps(program.text, names=program.names).steps]
        assert program.names == {} or labels == [program.names[n] for n in ("apples", "given_away", "answer")]
        assert result.answer == 64.0
    finally:
        backend.close()

"""The gold teacher: programs from GSM8K annotations, verified in the real sandbox."""

from __future__ import annotations

import pytest

from distill.gold import (
    annotate_bare_equations,
    build_program,
    evaluate_expression,
    extract_key_points,
    gold_rationale,
    normalize_expression,
    split_sentences,
)
from kpdd.answers import answer_from_value, answers_match
from kpdd.sandbox import run_program

NATALIA = (
    "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. "
    "How many clips did Natalia sell altogether in April and May?"
)
NATALIA_SOLUTION = (
    "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n"
    "Natalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May."
)


def test_program_names_steps_and_reuses_values_as_references() -> None:
    rationale = gold_rationale(NATALIA, NATALIA_SOLUTION, 72.0)
    assert rationale.failure is None
    lines = rationale.program.splitlines()
    # The May step is named after its words, and the last step refers to it instead of repeating 24.
    assert "clips_may = " in lines[-2]
    assert lines[-1].startswith("answer = ") and "clips_may" in lines[-1] and "24" not in lines[-1]
    result = run_program(rationale.program)
    assert result.ok and answers_match(answer_from_value(result.answer), 72.0)
    assert rationale.steps_text.endswith("The answer is 72.")
    assert "<<" not in rationale.steps_text


def test_key_points_split_question_and_conditional_clause() -> None:
    problem = (
        "Julie is reading a 120-page book. Yesterday, she was able to read 12 pages and today, she read "
        "twice as many pages as yesterday. If she wants to read half of the remaining pages tomorrow, how "
        "many pages should she read?"
    )
    kp = extract_key_points(problem)
    assert kp.core_question == "How many pages should she read?"
    assert kp.key_information[0] == "Julie is reading a 120-page book."
    assert kp.key_information[-1] == "She wants to read half of the remaining pages tomorrow."


def test_sentences_keep_prices_and_titles_whole() -> None:
    assert split_sentences("Mr. Lee pays $1.50 for tea. How much for 2 teas?") == [
        "Mr. Lee pays $1.50 for tea.",
        "How much for 2 teas?",
    ]


@pytest.mark.parametrize(
    ("raw", "value"),
    [("12 x 2", 24.0), ("20%*50", 10.0), ("1,000/4", 250.0), ("2^3", 8.0), ("$.5*4", 2.0), ("05+1", 6.0)],
)
def test_expressions_normalize_to_python(raw: str, value: float) -> None:
    assert evaluate_expression(normalize_expression(raw)) == pytest.approx(value)


def test_expressions_refuse_anything_but_arithmetic() -> None:
    for bad in ("__import__('os')", "x+1", "9**9**9", "1/0"):
        with pytest.raises(ValueError):
            evaluate_expression(normalize_expression(bad))


def test_unannotated_equations_get_annotations() -> None:
    text = annotate_bare_equations("So that's 12/48 = $0.25 a can")
    assert "<<12/48=0.25>>0.25 a can" in text


def test_wrong_annotation_chain_is_rejected_not_trusted() -> None:
    # The final value does not match gold: no program at all rather than a wrong one.
    rationale = gold_rationale(NATALIA, NATALIA_SOLUTION, 73.0)
    assert rationale.program is None and rationale.failure == "answer_mismatch"
    assert build_program(NATALIA, "No numbers here.", 72.0).failure == "no_annotations"


def test_gold_programs_verify_on_gsm8k_train_slice(data_dir) -> None:
    from kpdd.datasets import load_gsm8k

    problems = load_gsm8k(data_dir / "gsm8k", "train")[:150]
    verified = 0
    for problem in problems:
        rationale = gold_rationale(problem.question, problem.solution, problem.answer)
        if rationale.program is None:
            continue
        verified += 1
        result = run_program(rationale.program)  # independent re-check of what verify_gold kept
        assert result.ok, rationale.program
        assert answers_match(answer_from_value(result.answer), problem.answer), rationale.program
        assert rationale.key_points.core_question and rationale.key_points.key_information
    assert verified / len(problems) >= 0.9

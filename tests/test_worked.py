"""kpdd.worked: a program as worked steps a student reads, values from the real sandbox."""

from __future__ import annotations

import pytest

from kpdd.worked import label, words, worked_steps

FARMER_PROGRAM = """sheep = 17
goats = sheep * 3
days = 7
goats_sold = 12
goats_left = goats - goats_sold
answer = sheep + goats_left
print(answer)"""


def test_each_line_is_a_formula_with_its_values_and_unused_lines_are_dropped():
    worked = worked_steps(FARMER_PROGRAM)
    assert worked.ran and worked.dropped_lines == (3, 7)  # `days = 7` and the print
    assert [step.text() for step in worked.steps] == [
        "Sheep = 17",
        "Goats = sheep × 3 = 17 × 3 = 51",
        "Goats sold = 12",
        "Goats left = goats − goats sold = 51 − 12 = 39",
        "Answer = sheep + goats left = 17 + 39 = 56",
    ]
    answer = worked.steps[-1]
    assert answer.is_answer and (answer.formula, answer.numbers, answer.value) == (
        "sheep + goats left", "17 + 39", "56",
    )  # fmt: skip
    assert worked.steps[0].given and not worked.steps[1].given
    assert worked.text().splitlines()[1] == "2. Goats = sheep × 3 = 17 × 3 = 51"


@pytest.mark.parametrize(
    ("name", "spoken"),
    [("cabs_sold_cabs", "cabs sold"), ("numApples", "number of apples"), ("price_per_kg", "price per kg"),
     ("total_hrs", "total hours"), ("x", "x"), ("day2_pages", "day 2 pages")],
)  # fmt: skip
def test_names_become_words(name, spoken):
    assert words(name) == spoken
    assert label(name) == spoken[:1].upper() + spoken[1:]


def test_numbers_print_as_everywhere_else_and_augmented_lines_show_the_old_value():
    worked = worked_steps(
        "cabs_sold_cabs = 4 + 2\ntotal = cabs_sold_cabs * 3.0\ntotal += 2\nanimals = total / 4"
    )
    assert [s.text() for s in worked.steps] == [
        "Cabs sold = 4 + 2 = 6",
        "Total = cabs sold × 3 = 6 × 3 = 18",  # 18, not 18.0
        "Total = total + 2 = 18 + 2 = 20",
        "Animals = total ÷ 4 = 20 ÷ 4 = 5",
    ]
    assert worked.steps[-1].is_answer  # read by its last assignment, like the sandbox does


def test_a_solution_function_is_shown_as_its_steps_and_calls_in_words():
    program = "import math\ndef solution():\n    boxes = 26 / 5\n    full = math.ceil(boxes)\n    return full\nprint(solution())"
    worked = worked_steps(program)
    assert [s.text() for s in worked.steps] == [
        "Boxes = 26 ÷ 5 = 5.2",
        "Full = round up (boxes) = round up (5.2) = 6",
        "Answer = full = 6",
    ]


def test_a_loop_stays_as_code_with_what_it_left():
    worked = worked_steps("total = 0\nfor day in range(4):\n    total += 5\nanswer = total * 2")
    assert [s.text() for s in worked.steps] == [
        "Total = 0",
        "for day in range(4):\n    total += 5  →  Total = 20",
        "Answer = total × 2 = 20 × 2 = 40",
    ]


def test_a_program_that_fails_keeps_its_formulas_and_nonsense_gives_nothing():
    failed = worked_steps("apples = 6 * 14\nanswer = apples / 0")
    assert not failed.ran
    assert [s.text() for s in failed.steps] == ["Apples = 6 × 14", "Answer = apples ÷ 0"]
    for junk in ("", "answer = (", "print(5)", "x" * 30_000):
        assert worked_steps(junk).steps == ()

"""kpdd.arithmetic: every calculation in worked steps recomputed exactly."""

from __future__ import annotations

from fractions import Fraction

import pytest

from kpdd.arithmetic import arithmetic_slips, check_arithmetic


def test_the_issues_false_multiplication_is_caught_with_units_between_the_numbers():
    text = "There are 17 sheep * 3 goats = 49 goats. Then 24 + 2 = 26."
    checks = check_arithmetic(text)
    assert [(c.expression, c.written, c.correct_text, c.ok) for c in checks] == [
        ("17 × 3", "49", "51", False),
        ("24 + 2", "26", "26", True),  # right, and not marked
    ]
    slip = checks[0]
    assert text[slip.result_start : slip.result_end] == "49"
    assert text[slip.start : slip.end] == "17 sheep * 3 goats = 49"
    assert slip.correct == Fraction(51)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2 + 3 = 5 + 4 = 9", [("2 + 3", True), ("5 + 4", True)]),  # a running total
        ("2 + 3 = 6 + 4 = 10", [("2 + 3", False), ("6 + 4", True)]),
        ("3 * 4 = 12 * 2 = 25", [("3 × 4", True), ("12 × 2", False)]),
        ("(24 + 2) * 3 = 78", [("(24 + 2) × 3", True)]),
        ("-5 + 3 = -2", [("−5 + 3", True)]),
        ("5 - 8 = 3", [("5 − 8", False)]),  # subtracted the wrong way round
        ("3 x 4 = 13", [("3 × 4", False)]),
        ("6 times 7 = 42", [("6 × 7", True)]),
        ("12 divided by 4 = 4", [("12 ÷ 4", False)]),
        ("20% of 50 = 10", [("20% × 50", True)]),
        ("1/2 of 10 = 5", [("1 ÷ 2 × 10", True)]),
        ("$5 * 3 = $15", [("$5 × 3", True)]),
        ("1,200 + 300 = 1,500", [("1,200 + 300", True)]),
        ("10 / 3 = 3.33 dollars", [("10 ÷ 3", True)]),  # rounded to the decimals it writes
        ("10 / 3 = 3.4 dollars", [("10 ÷ 3", False)]),
        ("10 / 4 = 2 full boxes", [("10 ÷ 4", True)]),  # a remainder dropped for whole things
        ("3/4 = 0.75", [("3 ÷ 4", True)]),
        ("10 / 50 * 100 = 20%", [("10 ÷ 50 × 100", True)]),
        ("1) 17*3 = 51", [("17 × 3", True)]),  # a list number is not part of the calculation
        ("He has 5 apples and 3 + 2 = 6", [("3 + 2", False)]),
        ("x = 5. The answer is 64.", []),  # nothing computed
        ("The price is 5 dollars - a deal. 3 = 3", []),
        ("Step 1: 6 * 14 = 84 apples.\nStep 2: 84 - 20 = 64 apples.", [("6 × 14", True), ("84 − 20", True)]),
    ],
)
def test_calculations_are_found_and_recomputed(text, expected):
    assert [(c.expression, c.ok) for c in check_arithmetic(text)] == expected


def test_slips_keep_their_place_on_later_lines():
    text = "He packs 6 * 14 = 84 apples.\nHe gives away 20, so 84 - 20 = 66 are left."
    (slip,) = arithmetic_slips(text)
    assert text[slip.result_start : slip.result_end] == "66" and slip.correct_text == "64"


@pytest.mark.parametrize(
    "junk, expected",
    [
        (None, []),
        ("", []),
        (42, []),
        ("=" * 5000, []),
        ("1/0 = 5", []),  # no value to compare with: not called a slip
        ("2 ^ 999 = 1", []),  # a huge power is not grade-school arithmetic: left unjudged
        ("2 ** 99999 = 1", []),  # nor computed (it would take the UI thread's time)
        ("2 ** 3 = 9", [("2 ^ 3", False)]),  # a small one is
        ("((((1 + 2 = 3", [("1 + 2", True)]),  # the calculation inside unbalanced brackets
    ],
)
def test_junk_is_checked_without_error_and_never_marked_wrong(junk, expected):
    assert [(c.expression, c.ok) for c in check_arithmetic(junk)] == expected


def test_a_long_text_is_checked_quickly():
    import time

    text = ("He buys 12 pens * 3 boxes = 36 pens and 4 + 5 = 9. " * 400)[:19_000]
    started = time.perf_counter()
    checks = check_arithmetic(text)
    assert time.perf_counter() - started < 2.0
    assert len(checks) > 500 and all(c.ok for c in checks)

"""A number a program uses and takes back out, as the tutor finds it (kpdd.cancelling)."""

from __future__ import annotations

from kpdd.cancelling import cancelled_numbers
from kpdd.format import Mode
from kpdd.judgement import looks_wrong, plausibility
from kpdd.result import Solution
from kpdd.verdict import Note, judge
from tests.test_verdict import FARMER, notes, pot, result_of

# The farmer, as the default student really answered it: the 12 goats sold come back.
ADDED_BACK = (
    "sheep = 17\ngoats = sheep * 3\ngoats_sold = 12\ngoats_left = goats - goats_sold\n"
    "total_animals = sheep + goats_left + goats_sold\nanswer = total_animals"
)
RIGHT = "sheep = 17\ngoats = sheep * 3\ngoats_left = goats - 12\nanswer = sheep + goats_left"


def test_a_number_added_back_is_found_and_a_right_program_is_left_alone():
    assert cancelled_numbers(ADDED_BACK) == [12.0]
    assert cancelled_numbers(RIGHT) == []
    # Taken away again, read by the last assignment (no `answer =`), in one expression:
    assert cancelled_numbers("total = 43 + 12 + 44\nleft = total - 44") == [44.0]
    # A number written twice is one quantity: 9 cancels.
    assert cancelled_numbers("answer = (38 + 9) - 9 * 1") == [9.0]
    assert cancelled_numbers("remaining = 8278\ntotal = 3482 + remaining\nanswer = total - 8278") == [8278.0]


def test_what_is_not_straight_line_arithmetic_or_rightly_ignores_a_number_gives_no_finding():
    assert cancelled_numbers("kids_cost = 0\nanswer = 3 * 12 + kids_cost * 7") == []  # a given zero
    assert (
        cancelled_numbers("weeks = (150 - 45) // 15\nanswer = weeks") == []
    )  # rounding down is not cancelling
    assert cancelled_numbers("def solution():\n    return 17 + 12 - 12\nanswer = solution()") == []
    assert cancelled_numbers("for i in range(3):\n    x = i\nanswer = x") == []
    assert cancelled_numbers("answer = 1 / (4 - 4)") == []  # no division by zero here either
    assert cancelled_numbers("days = 7\nanswer = 17 * 3 - 12 + 17") == []  # unused, not cancelled
    assert cancelled_numbers("answer = (") == []
    # The problem itself takes away and adds back the same amount:
    line = "At the fair there were 10 people in line. If 2 of them left and 2 more got in line, how many are in line?"
    assert cancelled_numbers("people = 10\nanswer = people - 2 + 2", line) == []
    assert cancelled_numbers("people = 10\nanswer = people - 2 + 2") == [2.0]


def test_it_sends_the_answer_for_a_second_look_and_the_verdict_names_the_number():
    first = Solution(kind=Mode.POT, text=ADDED_BACK, answer=68.0)
    assert plausibility(first, FARMER) < 1.0 and looks_wrong(first, FARMER)
    assert not looks_wrong(Solution(kind=Mode.POT, text=RIGHT, answer=56.0), FARMER)
    verdict = judge(result_of(Mode.POT, pot(ADDED_BACK, 68.0)))
    assert Note.CANCELS in notes(verdict)
    assert "The program uses 12 and then takes it back out" in verdict.explanation()
    assert Note.CANCELS not in notes(judge(result_of(Mode.POT, pot(RIGHT, 56.0))))

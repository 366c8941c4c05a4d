"""Answer extraction, comparison, display and the gold-answer parsers."""

from __future__ import annotations

import time
from decimal import Decimal
from fractions import Fraction

import pytest

from kpdd.answers import (
    answer_from_value,
    answers_match,
    extract_answer,
    format_answer,
    gsm8k_solution_text,
    numbers_given,
    numbers_in_text,
    parse_asdiv_answer,
    parse_gsm8k_answer,
)

EXTRACT_CASES = [
    # GSM8K style wins over everything else.
    ("#### 18", 18.0),
    ("She makes 9 * 2 = $<<9*2=18>>18 every day.\n#### 18", 18.0),
    ("The answer is 5.\n#### 1,200", 1200.0),
    ("#### -10", -10.0),
    # Answer phrases; the last one that has a number wins.
    ("The answer is $1,200.50", 1200.5),
    ("answer: 3/4", 0.75),
    ("answer: 3/4.", 0.75),
    ("The final answer is -4", -4.0),
    ("The answer is 18. Then 5 more things happened.", 18.0),
    ("The answer is 7. Wait, let me recheck. The answer is 9.", 9.0),
    ("Final Answer: **42**", 42.0),
    ("The answer is: 18 dollars.", 18.0),
    ("The answer is 48/2 = 24.", 24.0),
    ("Answer = 0.5", 0.5),
    ("The answer is twelve.", 12.0),
    ("The answer is \\boxed{16}.", 16.0),
    ("The answer is 50%.", 50.0),
    ("The answer is approximately 3.14", 3.14),
    # "answer" followed by words is no answer phrase: the last number wins.
    ("To answer this, 5+3=8. Then 8*2=16.", 16.0),
    # \boxed{...}
    ("so we get \\boxed{\\frac{3}{4}}", 0.75),
    ("\\boxed{1{,}200} and then 7", 1200.0),
    ("first \\boxed{3} then \\boxed{5}", 5.0),
    ("\\boxed{\\dfrac{1}{2}}", 0.5),
    # The last number in the text.
    ("He has 3 apples and buys 4 more, so 7", 7.0),
    ("1,200", 1200.0),
    ("It costs $1,200 in total.", 1200.0),
    ("It costs €3,000.", 3000.0),
    ("It costs £12.50 now", 12.5),
    ("It costs ¥500", 500.0),
    ("50%", 50.0),
    ("3/4", 0.75),
    ("1 1/2 cups", 1.5),
    ("-4", -4.0),
    ("x = -4", -4.0),
    ("\u22127 degrees", -7.0),
    ("-$4", -4.0),
    (".5", 0.5),
    ("18 dollars", 18.0),
    ("12 cm", 12.0),
    ("The total is 18.", 18.0),
    ("16-3-4=9", 9.0),
    ("so she has 10 - 4", 4.0),  # a spaced minus is a subtraction, not a sign
    ("0.2 x 50 = 10", 10.0),
    ("1,000,000 people", 1000000.0),
    ("It is 1e6", 1000000.0),
    ("Dan had $ 3 left", 3.0),
    ("twelve", 12.0),
    ("twenty-five cookies", 25.0),
    ("on 12/25/2020", 12.0),  # a date is no fraction
    ("3 eggs", 3.0),
    ("(-2)", -2.0),
]


@pytest.mark.parametrize(("text", "expected"), EXTRACT_CASES)
def test_extract_answer(text: str, expected: float) -> None:
    assert extract_answer(text) == pytest.approx(expected)


JUNK = [
    None,
    "",
    "   ",
    "no numbers here",
    "The answer is unknown.",
    "The answer is none of these.",
    "####",
    "#### \n",
    "\\boxed{}",
    "\\boxed{x}",
    "$",
    "-",
    "...",
    "3/0",
    "9" * 5000,  # overflows a float: not an answer
    b"18",
    18,
    ["18"],
    "\x00\x01\x02",
]


@pytest.mark.parametrize("junk", JUNK, ids=lambda j: repr(j)[:30])
def test_extract_answer_junk_is_none(junk: object) -> None:
    assert extract_answer(junk) is None  # type: ignore[arg-type]


HUGE = [
    "9" * 200_000,
    "1 " * 100_000,
    "answer " * 30_000,
    "answer is " + " " * 200_000 + "x",
    "####" * 50_000,
    "\\boxed{" * 30_000,
    "1," * 100_000 + "12",
    "1/" * 100_000,
    "- " * 100_000,
    "$" * 200_000,
    "1." * 100_000,
    "answer\t" * 20_000 + "\t" * 100_000,
    "1 1/" * 50_000,
    "a" * 200_000,
]


@pytest.mark.parametrize("text", HUGE, ids=lambda t: repr(t[:12]))
def test_extract_answer_is_fast_on_huge_inputs(text: str) -> None:
    start = time.perf_counter()
    extract_answer(text)
    assert time.perf_counter() - start < 2.0


def test_extract_answer_on_a_real_gsm8k_solution() -> None:
    text = (
        "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\n"
        "She makes 9 * 2 = $<<9*2=18>>18 every day at the farmer’s market.\n#### 18"
    )
    assert extract_answer(text) == 18.0
    assert extract_answer(gsm8k_solution_text(text)) == 18.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (18, 18.0),
        (2.5, 2.5),
        (Fraction(3, 4), 0.75),
        (Decimal("1.25"), 1.25),
        ("$1,200", 1200.0),
        ("3/4", 0.75),
        ("50%", 50.0),
        ([7], 7.0),
        ((7.5,), 7.5),
        (complex(3, 0), 3.0),
        (-4, -4.0),
    ],
)
def test_answer_from_value(value: object, expected: float) -> None:
    assert answer_from_value(value) == pytest.approx(expected)


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        float("nan"),
        float("inf"),
        -float("inf"),
        Decimal("NaN"),
        10**400,
        "abc",
        [],
        [1, 2],
        {"a": 1},
        complex(1, 2),
        object(),
        [True],
    ],
    ids=repr,
)
def test_answer_from_value_rejects(value: object) -> None:
    assert answer_from_value(value) is None


def test_answer_from_value_numpy_like() -> None:
    class Scalar:  # what numpy scalars and 0-d arrays offer
        size = 1

        def item(self) -> float:
            return 4.5

    class Array:
        size = 3

        def item(self) -> float:
            raise ValueError("only one element arrays can be converted")

    class FloatLike:
        def __float__(self) -> float:
            return 2.0

    class BoolLike:  # numpy.bool_.item() gives a bool
        size = 1

        def item(self) -> bool:
            return True

    assert answer_from_value(Scalar()) == 4.5
    assert answer_from_value(Array()) is None
    assert answer_from_value(FloatLike()) == 2.0
    assert answer_from_value(BoolLike()) is None


@pytest.mark.parametrize(
    ("pred", "gold", "expected"),
    [
        (72.0, 72.0, True),
        (72, 72.0, True),
        (72.0 * (1 + 1e-12), 72.0, True),  # float rounding of the same number
        (0.1 + 0.2, 0.3, True),
        (19.99 * 3, 59.97, True),
        (71.99999, 72.0, False),  # close is not equal
        (150770.0, 150780.0, False),  # svamp-chal-559: was equal under a 1e-4 tolerance
        (1000001.0, 1000000.0, False),
        (71.0, 72.0, False),
        (None, 72.0, False),
        (72.0, None, False),
        (None, None, False),
        (float("nan"), float("nan"), False),
        (0.83, 5 / 6, True),  # a 2-decimal rounding of the gold answer
        (4 / 3, 1.33, True),  # ASDiv gold written rounded
        (10 / 3, 3.333, True),
        (0.84, 5 / 6, False),
        (18.4, 18.0, False),  # integers never round-match
        (2.54, 2.5, False),
        (0.0, 0.004, False),
        (-4.0, 4.0, False),
        (3.33, 10 / 3, True),  # a gold given to 2 decimals is matched at 2 decimals
        (3.34, 10 / 3, False),
        (3.3, 10 / 3, False),  # 1 decimal is a different answer
        (33.33, 100 / 3, True),
    ],
)
def test_answers_match(pred: float | None, gold: float | None, expected: bool) -> None:
    assert answers_match(pred, gold) is expected


def test_answers_match_rounding_can_be_turned_off() -> None:
    assert answers_match(0.83, 5 / 6)
    assert not answers_match(0.83, 5 / 6, allow_rounding=False)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (72.0, "72"),
        (72, "72"),
        (2.5, "2.5"),
        (1 / 3, "0.3333"),
        (2 / 3, "0.6667"),
        (-4.0, "-4"),
        (-0.0, "0"),
        (1200.5, "1200.5"),
        (0.000123, "0.000123"),
        (1e20, "1e+20"),
        (None, ""),
        (float("nan"), "nan"),
    ],
)
def test_format_answer(value: float | None, text: str) -> None:
    assert format_answer(value) == text


def test_format_then_extract_round_trips() -> None:
    for value in (72.0, 2.5, -4.0, 1200.5, 0.000123):
        assert extract_answer(format_answer(value)) == pytest.approx(value)


def test_parse_gsm8k_answer() -> None:
    assert parse_gsm8k_answer("Natalia sold 48/2 = <<48/2=24>>24 clips.\n#### 72") == 72.0
    assert parse_gsm8k_answer("...\n#### 1,450,000") == 1450000.0
    assert parse_gsm8k_answer("...\n#### -3") == -3.0
    with pytest.raises(ValueError, match="####"):
        parse_gsm8k_answer("no answer line")
    with pytest.raises(ValueError, match="not a number"):
        parse_gsm8k_answer("#### seven")


def test_gsm8k_solution_text() -> None:
    raw = "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nShe sold 48+24 = <<48+24=72>>72 clips.\n#### 72"
    assert gsm8k_solution_text(raw) == "Natalia sold 48/2 = 24 clips in May.\nShe sold 48+24 = 72 clips."
    kept = gsm8k_solution_text(raw, keep_annotations=True)
    assert "<<48/2=24>>" in kept and "####" not in kept


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9 (apples)", 9.0),
        ("0.46 (dollars)", 0.46),
        ("14  (seats)", 14.0),
        ("383", 383.0),
        ("5/2", 2.5),
        ("5/6 (of the cake)", 5 / 6),
        ("-(1/3)", -1 / 3),
        ("1 1/2 (cups)", 1.5),
        ("1,000 (dollars)", 1000.0),
        ("3:4", None),
        ("5:45", None),
        ("3:30 p.m.", None),
        ("8; 40", None),
        ("5 (years old); 15 (years old)", None),
        ("yes", None),
        ("Mrs. Hilt", None),
        ("6th", None),
        ("", None),
        (None, None),
        ("1/0", None),
    ],
)
def test_parse_asdiv_answer(text: str | None, expected: float | None) -> None:
    result = parse_asdiv_answer(text)
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(expected)


def test_numbers_in_text_reads_digits_and_words():
    text = (
        "A farmer has twenty-five cows, 1,200 hens and 3/4 of an acre; he sells a hundred eggs at $0.25 each."
    )
    assert numbers_in_text(text) == {25.0, 1200.0, 0.75, 100.0, 0.25}
    assert numbers_in_text("") == set() and numbers_in_text("someone") == set()  # "one" only as a word


def test_numbers_given_adds_what_the_words_imply():
    natalia = "She sold 48 clips in April, and then half as many clips in May."
    assert numbers_given(natalia) == {48.0, 2.0, 0.5}
    assert {12.0, 7.0, 100.0} <= numbers_given("A dozen eggs a week, 20% of them brown.")
    assert numbers_given("Halfway there, by the hourglass") == set()  # whole words only
    assert numbers_given("He is thirsty") == set()


# -- Chinese -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [("十七", 17), ("二十", 20), ("十", 10), ("一百二十", 120), ("一百零五", 105), ("三千五百", 3500),
     ("两万", 20000), ("三万五千", 35000), ("二〇二六", 2026), ("零", 0), ("万一", None)],
)  # fmt: skip
def test_chinese_numerals(text: str, value: float | None) -> None:
    from kpdd.answers import chinese_number

    assert chinese_number(text) == value


def test_numbers_given_in_chinese() -> None:
    farmer = "一个农民有17只羊，山羊的数量是羊的三倍。他卖掉了12只山羊。他现在一共有多少只动物？"
    assert {17.0, 3.0, 12.0} <= numbers_given(farmer)  # 17只: digits next to Chinese characters
    assert 17.0 in numbers_given("小明有１７个苹果")  # full-width digits
    given = numbers_given(
        "全班有四十人，其中百分之二十是男生，五分之三喜欢数学，一半的人骑车，还买了一打铅笔。"
    )
    assert {40.0, 20.0, 100.0, 0.2, 3.0, 5.0, 0.6, 2.0, 0.5, 12.0} <= given
    assert {0.8, 80.0, 0.2, 200.0} <= numbers_given("一件衣服原价200元，打八折后多少钱？")
    assert 12.0 not in numbers_given("一件衣服原价200元，打八折后多少钱？")  # 打 here is not a dozen
    assert 56.0 not in numbers_given(farmer)
    # A mixed number, in digits or in words: one and a half either way.
    assert {1.0, 1.5, 2.0} <= numbers_given("一半的人每人吃了1又1/2个餐包。")
    assert 2.75 in numbers_given("他跑了两又四分之三英里。")


def test_a_chinese_answer_is_read() -> None:
    assert extract_answer("所以他现在一共有56只动物。") == 56.0
    assert extract_answer("答案是56。") == 56.0


def test_a_written_fraction_gives_its_two_numbers_too():
    """A written "3/4 of the pie" gives 3 and 4: a program writing `pie * 3 / 4` uses numbers it gives."""
    from kpdd.format import Mode
    from kpdd.judgement import plausibility
    from kpdd.result import Solution

    problem = "A pie has 12 slices. She ate 3/4 of the pie. How many slices are left?"
    assert {3.0, 4.0, 0.75, 12.0} <= numbers_given(problem)
    assert numbers_given("The date was 12/2024.") >= {12.0, 2024.0}
    program = Solution(Mode.POT, "pie = 12\neaten = pie * 3 / 4\nanswer = pie - eaten", answer=3.0)
    assert plausibility(program, problem) == 1.0

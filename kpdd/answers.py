"""Numeric answers: extracting them from model output, comparing them, showing them, and parsing the
gold answers of the data sets.

Everything here is pure Python, never raises on bad input (the ``parse_gsm8k_answer`` gold parser is the
one exception: a gold answer that does not parse is a data error), and runs in linear time: the regular
expressions below have no nested unbounded repetition, and every number token can only start where the
previous character is not part of a word or number.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction
from typing import Any

__all__ = [
    "answer_from_value",
    "answers_match",
    "extract_answer",
    "format_answer",
    "gsm8k_solution_text",
    "numbers_given",
    "numbers_in_text",
    "parse_asdiv_answer",
    "parse_gsm8k_answer",
]

# One number as people and models write it: an optional minus sign (ASCII or Unicode), an optional
# currency symbol, then a mixed number ("1 1/2"), a fraction ("3/4"), an integer or decimal with
# optional thousands separators ("1,200.50"), or a bare decimal (".5"). A trailing "%" or unit word is
# simply not part of the token, so "50%" reads as 50 and "18 dollars" as 18. A sentence period is not
# taken as a decimal point because a decimal point must be followed by a digit.
_NUMBER_RE = re.compile(
    r"""
    (?<![A-Za-z0-9_./])                          # not inside a word or another number (a digit
                                                 # right after a Chinese character is a number: 有17只)
    (?P<sign>[-\u2212])?                         # no space: "10 - 4" is a subtraction
    (?:[$\u20ac\u00a3\u00a5]\ ?)?                 # $ EUR GBP JPY
    (?:
        (?P<whole>\d+)\ (?P<mnum>\d+)/(?P<mden>\d+)(?![\d/]|\.\d)   # mixed number 1 1/2
      | (?P<num>\d+)/(?P<den>\d+)(?![\d/]|\.\d)                      # fraction 3/4
      | (?P<int>\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.(?P<frac>\d+))?(?P<exp>[eE][-+]?\d{1,4}(?!\d))?  # 1,200.50 12 1e6
      | \.(?P<dec>\d+)                                         # .5
    )
    """,
    re.VERBOSE,
)

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90,
}  # fmt: skip
_WORD_NUMBER_RE = re.compile(
    r"\b(?:(?P<tens>" + "|".join(_TENS) + r")(?:[- ](?P<ones>" + "|".join(list(_UNITS)[1:10]) + r"))?"
    r"|(?P<unit>" + "|".join(_UNITS) + r")|(?P<big>hundred|thousand))\b",
    re.IGNORECASE,
)

# "#### 18" (GSM8K). The number is read from the rest of the line.
_HASHES_RE = re.compile(r"####[ \t]*([^\n]*)")
# "The answer is", "answer:", "Final answer =", "the answer would be". The number must come right after
# (allowing markup such as "**", "$" or "\boxed{"), checked in `_number_after_phrase`.
_PHRASE_RE = re.compile(
    r"\banswer\b(?:[ \t]*(?:is|was|would[ \t]+be|will[ \t]+be|should[ \t]+be|equals|of))?[ \t]*[:=]?"
    r"|答案(?:是|为|应该是)?[ \t]*[:=：]?",  # Chinese: 答案是 28。
    re.IGNORECASE,
)
_LEADING_MARKUP_RE = re.compile(
    r"[ \t*_:=(\[{\\$]{0,12}(?:boxed\{|text\{|approximately |about |exactly |equal to |\\\(|\\\[|[ \t*_{$])*",
    re.IGNORECASE,
)
_BOXED = "\\boxed{"
_FRAC_RE = re.compile(r"\\[dt]?frac\{([^{}]*)\}\{([^{}]*)\}")
_MAX_PHRASE_TAIL = 120  # characters read after "answer is" for its number


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _token_values(match: re.Match[str]) -> list[float]:
    """The values of one number token (a mixed number that is not proper reads as two numbers)."""
    sign = -1.0 if match.group("sign") else 1.0
    if match.group("whole") is not None:
        whole, num, den = (float(match.group(g)) for g in ("whole", "mnum", "mden"))
        if den != 0 and num < den:
            return [sign * (whole + num / den)]
        values = [sign * whole]
        if den != 0:
            values.append(num / den)
        return values
    if match.group("num") is not None:
        num, den = float(match.group("num")), float(match.group("den"))
        return [sign * num / den] if den != 0 else []
    if match.group("dec") is not None:
        return [sign * float("0." + match.group("dec"))]
    text = match.group("int").replace(",", "")
    if match.group("frac") is not None:
        text += "." + match.group("frac")
    if match.group("exp") is not None:
        text += match.group("exp")
    return [sign * float(text)]  # float() of a long digit string is inf, never an error


def _iter_numbers(text: str) -> Iterator[float]:
    for match in _NUMBER_RE.finditer(text):
        for value in _token_values(match):
            if math.isfinite(value):
                yield value


def _first_number(text: str) -> float | None:
    return next(_iter_numbers(text), None)


def _last_number(text: str) -> float | None:
    last = None
    for last in _iter_numbers(text):  # noqa: B007 - keep the last one
        pass
    return last


def _word_number(match: re.Match[str]) -> float:
    if match.group("tens"):
        value = _TENS[match.group("tens").lower()]
        if match.group("ones"):
            value += _UNITS[match.group("ones").lower()]
        return float(value)
    if match.group("unit"):
        return float(_UNITS[match.group("unit").lower()])
    return 100.0 if match.group("big").lower() == "hundred" else 1000.0


def _latex_to_plain(text: str) -> str:
    """Just enough LaTeX for answers: fractions, thin spaces, escaped symbols, ``{,}`` separators."""
    text = _FRAC_RE.sub(r"\1/\2", text)
    for old, new in (("{,}", ","), ("\\,", ""), ("\\!", ""), ("\\$", "$"), ("\\%", "%"), ("\\left", "")):
        text = text.replace(old, new)
    return text.replace("\\right", "")


def _number_at_start(segment: str) -> float | None:
    """The number that the text after "the answer is" starts with (after markup such as "**", "$",
    "\\boxed{"), or None when it starts with words ("To answer this, ..." is no answer phrase).
    "48/2 = 24." gives 24: an "=" in the same sentence means the value after it is the answer."""
    segment = _latex_to_plain(segment)
    rest = segment[_LEADING_MARKUP_RE.match(segment).end() :]  # type: ignore[union-attr]
    match = _NUMBER_RE.match(rest)
    if match is None:
        word = _WORD_NUMBER_RE.match(rest)
        return _word_number(word) if word else None
    values = [v for v in _token_values(match) if math.isfinite(v)]
    if not values:
        return None
    sentence = re.split(r"(?<!\d)\.(?!\d)|\n|;", rest, maxsplit=1)[0]
    if "=" in sentence:
        after = _first_number(sentence.rsplit("=", 1)[1])
        if after is not None:
            return after
    return values[0]


def _boxed_contents(text: str) -> str | None:
    """The contents of the last ``\\boxed{...}``, with nested braces balanced."""
    start = text.rfind(_BOXED)
    if start < 0:
        return None
    depth, begin = 1, start + len(_BOXED)
    for index in range(begin, len(text)):
        char = text[index]
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return text[begin:index]
    return text[begin:]


def extract_answer(text: Any) -> float | None:
    """The final numeric answer in chain-of-thought text or model output, or None if there is none.

    Priority: a GSM8K ``#### 18`` line; else the last "the answer is X" / "answer: X" phrase that is
    followed by a number; else the last ``\\boxed{...}``; else the last number in the text; else (for
    texts with no digits at all) the last small number word ("twelve", "twenty-five").
    Percentages read as written ("50%" -> 50.0), as GSM8K golds do. Never raises.
    """
    if not isinstance(text, str) or not text:
        return None
    try:
        return _extract(text)
    except (ValueError, OverflowError, ZeroDivisionError, AttributeError):  # defensive: never raise
        return None


def _extract(text: str) -> float | None:
    hashes = None
    for hashes in _HASHES_RE.finditer(text):  # noqa: B007 - keep the last one
        pass
    if hashes is not None:
        value = _first_number(_latex_to_plain(hashes.group(1)))
        if value is not None:
            return value

    phrase_value = None
    for phrase in _PHRASE_RE.finditer(text):
        value = _number_at_start(text[phrase.end() : phrase.end() + _MAX_PHRASE_TAIL])
        if value is not None:
            phrase_value = value
    if phrase_value is not None:
        return phrase_value

    boxed = _boxed_contents(text)
    if boxed is not None:
        value = _last_number(_latex_to_plain(boxed))
        if value is not None:
            return value

    value = _last_number(text)
    if value is not None:
        return value
    word = None
    for word in _WORD_NUMBER_RE.finditer(text):  # noqa: B007 - keep the last one
        pass
    return _word_number(word) if word else None


# Chinese numerals: digits, and the units they multiply (十 ten ... 亿 a hundred million).
_ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}  # fmt: skip
_ZH_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10_000, "亿": 100_000_000}
_ZH_NUMBER_RE = re.compile("[" + "".join(_ZH_DIGITS) + "".join(_ZH_UNITS) + "]+")


def chinese_number(text: str) -> float | None:
    """The value of a run of Chinese numerals ("十七" 17, "一百二十" 120, "三千五百" 3500, "两万" 20000),
    or None when it is not a number (a unit alone, "万" in 万一)."""
    total = section = 0
    digit: int | None = None
    for char in text:
        if char in _ZH_DIGITS:
            digit = _ZH_DIGITS[char] if digit is None else digit * 10 + _ZH_DIGITS[char]  # 二〇二六
        elif char in ("万", "亿"):
            if digit is None and section == 0 and total == 0:
                return None
            total += (section + (digit or 0)) * _ZH_UNITS[char]
            section, digit = 0, None
        else:  # 十 百 千: "十七" starts without its digit
            section += (1 if digit is None else digit) * _ZH_UNITS[char]
            digit = None
    value = total + section + (digit or 0)
    return float(value) if (value or "零" in text or "〇" in text) else None


def chinese_numbers(text: str) -> list[float]:
    """The numbers a text writes in Chinese numerals, in order."""
    found = (chinese_number(match.group(0)) for match in _ZH_NUMBER_RE.finditer(text or ""))
    return [value for value in found if value is not None]


def numerals_in_text(text: str) -> list[float]:
    """The numbers a text writes in digits ("1,200", "3/4"), in order, repeats kept, rounded to 6
    decimals."""
    return [round(value, 6) for value in _iter_numbers(text or "")]


def numbers_in_text(text: str) -> set[float]:
    """Every number a text gives, in digits ("1,200", "3/4") or in words ("twelve", "forty-two",
    "hundred"), rounded to 6 decimals so that a program's literals can be looked up in it."""
    values = set(numerals_in_text(text))
    values.update(round(_word_number(match), 6) for match in _WORD_NUMBER_RE.finditer(text or ""))
    values.update(round(value, 6) for value in chinese_numbers(text))
    values.update(_chinese_fractions(text or ""))
    return values


# 百分之二十 (20 per cent) and 五分之三 (three fifths): both numbers, and the value.
_ZH_PART_RE = re.compile(r"([\d一二两三四五六七八九十百千]+)分之([\d一二两三四五六七八九十百千]+)")


# A mixed number (带分数): 1又1/2 and 1又2分之1 are both one and a half.
_ZH_MIXED_RE = re.compile(
    r"([\d一二两三四五六七八九十百千]+)又(?:(\d+)/(\d+)|([\d一二两三四五六七八九十百千]+)分之([\d一二两三四五六七八九十百千]+))"
)


def _zh_value(text: str) -> float | None:
    return float(text) if text.isdigit() else chinese_number(text)


def _chinese_fractions(text: str) -> set[float]:
    values: set[float] = set()
    for match in _ZH_PART_RE.finditer(text):
        whole, part = (_zh_value(m) for m in (match.group(1), match.group(2)))
        if whole and part is not None:
            values.update({whole, part, round(part / whole, 6)})
    for match in _ZH_MIXED_RE.finditer(text):
        units = _zh_value(match.group(1))
        if match.group(2):  # 1又1/2: numerator first; 1又2分之1: denominator first
            numerator, denominator = _zh_value(match.group(2)), _zh_value(match.group(3))
        else:
            denominator, numerator = _zh_value(match.group(4)), _zh_value(match.group(5))
        if units is not None and numerator is not None and denominator:
            values.add(round(units + numerator / denominator, 6))
    return values


# Numbers a problem gives in words that are not numerals: "half as many" gives 2 (and 0.5), "a dozen"
# 12, "per week" 7, "20%" 100. A program that divides by 2 for "half" uses a number the problem gave.
IMPLIED_NUMBERS: dict[str, tuple[float, ...]] = {
    "half": (2, 0.5), "halves": (2, 0.5), "halved": (2, 0.5), "halve": (2, 0.5),
    "twice": (2,), "double": (2,), "doubled": (2,), "doubles": (2,), "pair": (2,), "pairs": (2,),
    "twins": (2,), "both": (2,), "triple": (3,), "tripled": (3,), "thrice": (3,), "third": (3,),
    "thirds": (3,), "quarter": (4, 0.25), "quarters": (4, 0.25), "fourth": (4,), "fourths": (4,),
    "fifth": (5,), "fifths": (5,), "sixth": (6,), "tenth": (10,), "tenths": (10,),
    "dozen": (12,), "dozens": (12,), "percent": (100,), "%": (100,), "cents": (100,), "cent": (100,),
    "week": (7,), "weeks": (7,), "weekly": (7,), "fortnight": (14,), "day": (24,), "days": (24,),
    "hour": (60,), "hours": (60,), "minute": (60,), "minutes": (60,), "year": (12, 52, 365),
    "years": (12, 52, 365), "month": (4, 30), "months": (4, 30), "feet": (12,), "foot": (12,),
    "yard": (3, 36), "yards": (3, 36), "pound": (16,), "pounds": (16,), "gallon": (4, 128),
    "gallons": (4, 128),
}  # fmt: skip
_IMPLIED_RE = re.compile(
    r"%|\b(?:" + "|".join(w for w in IMPLIED_NUMBERS if w != "%") + r")\b", re.IGNORECASE
)
# The same in Chinese: 一半 half, 倍 times (its number is written beside it), 一打 a dozen, 八折 80% of
# the price (a program may write 0.8, 80 / 100 or 1 - 0.2), a week, an hour ...
IMPLIED_CHINESE: dict[str, tuple[float, ...]] = {
    "半": (2, 0.5), "双": (2,), "一打": (12,), "百分之": (100,), "％": (100,),
    "周": (7,), "星期": (7,), "礼拜": (7,), "天": (24,), "小时": (60,), "钟头": (60,), "分钟": (60,),
    "年": (12, 52, 365), "月": (4, 30), "角": (10,), "分钱": (100,), "毛": (10,), "斤": (2,),
}  # fmt: skip
# 八折 / 七五折: the price times 0.8 / 0.75.
_ZH_DISCOUNT_RE = re.compile(r"([一二三四五六七八九\d])([一二三四五六七八九五\d])?折")


_WRITTEN_FRACTION_RE = re.compile(r"(?<![\d.])(\d+)\s*/\s*(\d+)(?!\d|\.\d)")


def numbers_given(problem: str) -> set[float]:
    """The numbers a problem gives a program to use: its numerals and number words
    (`numbers_in_text`) and the numbers its words imply (IMPLIED_NUMBERS)."""
    values = numbers_in_text(problem)
    # "3/4 of the pie" gives 3 and 4 as well as 0.75: a program writes `pie * 3 / 4`.
    for match in _WRITTEN_FRACTION_RE.finditer(problem or ""):
        values.update({float(match.group(1)), float(match.group(2))})
    for match in _IMPLIED_RE.finditer(problem or ""):
        values.update(float(v) for v in IMPLIED_NUMBERS[match.group(0).lower()])
    for word, implied in IMPLIED_CHINESE.items():
        if word in (problem or ""):
            values.update(float(v) for v in implied)
    for match in _ZH_DISCOUNT_RE.finditer(problem or ""):
        tenths = "".join(str(_ZH_DIGITS.get(c, c)) for c in match.group(0)[:-1])
        rate = float("0." + tenths)
        values.update(
            {rate, round(rate * 100, 6), round(1 - rate, 6), round((1 - rate) * 100, 6), 10.0, 100.0}
        )
    return values


def answer_from_value(value: Any) -> float | None:
    """The numeric answer from a program's result, or None when it is not one finite number.

    Accepted: int, float, Fraction, Decimal, numeric strings ("$1,200", "3/4", "50%"), complex numbers
    with no imaginary part, a list/tuple of exactly one such value, and numpy-like scalars (anything
    with ``__float__`` or ``__index__``). A bool is *not* an answer (None): a program that ends with
    ``answer = x > 3`` did not compute a quantity, and True must not silently score as 1.
    """
    try:
        if value is None or isinstance(value, bool):
            return None
        if isinstance(value, (int, float, Fraction, Decimal)):
            return _finite(float(value))
        if isinstance(value, str):
            return extract_answer(value) if len(value) <= 10_000 else None
        if isinstance(value, complex):
            return _finite(value.real) if value.imag == 0 else None
        if isinstance(value, (list, tuple)):
            return answer_from_value(value[0]) if len(value) == 1 else None
        item = getattr(value, "item", None)
        if callable(item) and getattr(value, "size", 1) == 1:
            # numpy/torch scalars and one-element arrays: .item() gives a Python number (or a bool,
            # which is refused as above), without numpy's deprecation warning for float(array).
            return answer_from_value(item())
        if hasattr(value, "__float__") or hasattr(value, "__index__"):
            return _finite(float(value))
    except (TypeError, ValueError, OverflowError, ArithmeticError):
        return None
    return None


# Float rounding only: two answers closer than this are the same number written by two computations.
EXACT_REL_TOL = 1e-9
EXACT_ABS_TOL = 1e-9


def _decimals(x: float) -> int:
    """How many decimals ``x`` has when written shortest (repr), e.g. 0.33 -> 2, 1/3 -> 16."""
    text = repr(float(x))
    if "e" in text or "E" in text:
        return 99
    return len(text.split(".", 1)[1].rstrip("0")) if "." in text else 0


def answers_match(pred: float | None, gold: float | None, allow_rounding: bool = True) -> bool:
    """Whether a predicted answer equals the gold answer exactly: the same number up to float
    rounding (``1e-9`` relative, so 0.1 + 0.2 is 0.3), never two different numbers that happen to be
    close (150770 is not 150780).

    None never matches. One rounding is allowed: when one of the two is written with 2 to 4 decimals
    and the other has more, the shorter one matches when it is that rounding of the longer (within
    half a unit of its last decimal): ASDiv gold 3.33 matches a computed 10/3, a student's 0.83
    matches 5/6. Integers and 1-decimal values never round-match ("18" does not match 18.4).
    ``allow_rounding=False`` turns that off. Scoring, voting and "Check my answer" all use this rule.
    """
    if pred is None or gold is None:
        return False
    try:
        pred, gold = float(pred), float(gold)
    except (TypeError, ValueError, OverflowError):
        return False
    if not (math.isfinite(pred) and math.isfinite(gold)):
        return False
    if math.isclose(pred, gold, rel_tol=EXACT_REL_TOL, abs_tol=EXACT_ABS_TOL):
        return True
    if not allow_rounding:
        return False
    pred_decimals, gold_decimals = _decimals(pred), _decimals(gold)
    if pred_decimals == gold_decimals:
        return False
    short, long, decimals = (
        (pred, gold, pred_decimals) if pred_decimals < gold_decimals else (gold, pred, gold_decimals)
    )
    return 2 <= decimals <= 4 and abs(short - long) <= 0.5 * 10.0**-decimals + 1e-12


def format_answer(x: float | None) -> str:
    """A number for display: integers without a decimal point ("72"), others rounded to 4 decimals
    with trailing zeros stripped ("2.5", "0.3333"), tiny values with 4 significant digits ("0.0001234").
    None shows as "" and NaN/infinity as "nan"/"inf"."""
    if x is None:
        return ""
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    if x == int(x) and abs(x) < 1e16:
        return str(int(x))
    if abs(x) >= 1e16:
        return f"{x:.6g}"
    if abs(x) < 1e-9:
        return f"{x:.4g}"
    if abs(x) < 1e-3:  # 4 significant digits, written out: 0.0001234
        return f"{float(f'{x:.4g}'):.15f}".rstrip("0")
    return f"{round(x, 4):.4f}".rstrip("0").rstrip(".")


def parse_gsm8k_answer(text: str) -> float:
    """The gold answer of a GSM8K solution: the number after the last ``####``, commas removed.

    Raises ValueError when there is none: a gold answer that does not parse is a data error.
    """
    marker = text.rfind("####")
    if marker < 0:
        raise ValueError(f"no '####' answer line in GSM8K solution: {text[-80:]!r}")
    tail = text[marker + 4 :].strip().replace(",", "")
    try:
        value = float(tail)
    except ValueError:
        raise ValueError(f"GSM8K answer is not a number: {tail!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"GSM8K answer is not finite: {tail!r}")
    return value


_ANNOTATION_RE = re.compile(r"<<[^<>]*>>")


def gsm8k_solution_text(text: str, keep_annotations: bool = False) -> str:
    """A GSM8K worked solution without its ``#### N`` line and (unless asked) without the calculator
    annotations ``<<48/2=24>>``: "48/2 = <<48/2=24>>24 clips" -> "48/2 = 24 clips"."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("####")]
    solution = "\n".join(lines).strip()
    return solution if keep_annotations else _ANNOTATION_RE.sub("", solution)


# "9 (apples)", "0.46 (dollars)", "14  (seats)", "5/2", "-(1/3)", "5/6 (of the cake)".
_THOUSANDS_RE = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_ASDIV_RE = re.compile(
    r"^(?P<sign>-?)\s*(?:"
    r"\((?P<pnum>\d+)/(?P<pden>\d+)\)"  # -(1/3)
    r"|(?P<whole>\d+) (?P<mnum>\d+)/(?P<mden>\d+)"  # 1 1/2
    r"|(?P<num>\d+)/(?P<den>\d+)"  # 5/2
    r"|(?P<dec>\d+(?:\.\d+)?|\.\d+)"  # 9, 0.46, .5
    r")\s*(?:\([^()]*\))?\s*$"  # optional unit in parentheses
)


def parse_asdiv_answer(text: str | None) -> float | None:
    """An ASDiv gold answer as one number, or None when it is not one number.

    ASDiv answers are like "9 (apples)"; some are ratios or times ("3:4", "5:45"), several numbers
    ("8; 40"), or words ("Yes", "Mrs. Hilt"): those give None and the loader skips the problem.
    """
    if not isinstance(text, str):
        return None
    match = _ASDIV_RE.match(_THOUSANDS_RE.sub("", text.strip()))
    if match is None:
        return None
    sign = -1.0 if match.group("sign") else 1.0
    if match.group("pnum") is not None:
        num, den = float(match.group("pnum")), float(match.group("pden"))
        value = num / den if den else math.nan
    elif match.group("whole") is not None:
        num, den = float(match.group("mnum")), float(match.group("mden"))
        value = float(match.group("whole")) + num / den if den else math.nan
    elif match.group("num") is not None:
        num, den = float(match.group("num")), float(match.group("den"))
        value = num / den if den else math.nan
    else:
        value = float(match.group("dec"))
    return _finite(sign * value)

"""Arithmetic in worked steps, recomputed exactly.

A small model's steps often take the right route with a wrong result ("17 sheep * 3 goats = 49
goats"); a student who copies them learns false arithmetic. Every `a op b = c` in a text (with
units between the numbers, chains such as `2 + 3 = 5 + 4 = 9`, parentheses, `x`/`times`, `%`) is
evaluated with exact fractions and compared with the result the text states.

Only clear errors count: a stated result that is a rounding of the exact value to the decimals it is
written with (`10 / 3 = 3.33`), or a whole number next to a fractional exact value (`10 / 4 = 2`
boxes, a remainder dropped), is accepted. Pure Python; never raises; linear in the text's length
for the regular expressions, quadratic only within one short equation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

# Longer texts are checked up to here: a solution stage is far shorter (kpdd.format.MAX_TOKENS).
MAX_TEXT_CHARS = 20_000
# Tokens read back from an "=" for its left-hand side: an equation in a step is short.
MAX_SIDE_TOKENS = 40

_TOKEN_RE = re.compile(
    r"""
    (?P<num>(?:[$\u20ac\u00a3]\ ?)?(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?(?:\ ?%)?|[$\u20ac\u00a3]?\.\d+)
  | (?P<op>\*\*|[-+*/\u00d7\u00f7\u2212\u2013^])
  | (?P<lp>\()
  | (?P<rp>\))
  | (?P<eq>=)
  | (?P<word>[A-Za-z][A-Za-z'\u2019]*)
  | (?P<sep>[^\s])
    """,
    re.VERBOSE,
)
_OPERATORS = {"*": "*", "\u00d7": "*", "/": "/", "\u00f7": "/", "+": "+", "-": "-", "\u2212": "-",
              "\u2013": "-", "^": "^", "**": "^"}  # fmt: skip
# Words that are operators when they stand between two numbers ("3 times 4", "20% of 50").
_WORD_OPERATORS = {"x": "*", "times": "*", "plus": "+", "minus": "-", "of": "*"}
_TWO_WORD_OPERATORS = {("multiplied", "by"): "*", ("divided", "by"): "/"}
SYMBOLS = {"*": "\u00d7", "/": "\u00f7", "+": "+", "-": "\u2212", "^": "^"}


@dataclass(frozen=True)
class _Token:
    kind: str  # "num" | "op" | "lp" | "rp" | "eq" | "word" | "sep"
    text: str
    start: int
    end: int
    value: Fraction | None = None
    decimals: int = 0  # for numbers: digits written after the decimal point
    percent: bool = False


@dataclass(frozen=True)
class ArithmeticCheck:
    """One `expression = result` found in a text, recomputed.

    `start`/`end` span the whole equation; `result_start`/`result_end` the stated result, where a
    display marks a slip and writes the right value."""

    start: int
    end: int
    result_start: int
    result_end: int
    expression: str  # as a student reads it: "17 × 3"
    written: str  # the stated result as the text writes it: "49", "$15", "20%"
    stated: Fraction
    correct: Fraction
    ok: bool

    @property
    def correct_text(self) -> str:
        return format_fraction(self.correct)


def format_fraction(value: Fraction) -> str:
    """A number as the answers are shown (kpdd.answers.format_answer): 51, 2.5, 0.3333."""
    from kpdd.answers import format_answer

    return format_answer(float(value))


def _number(match: re.Match[str]) -> tuple[Fraction, int, bool]:
    text = match.group("num").lstrip("$\u20ac\u00a3 ")
    percent = text.endswith("%")
    text = text.rstrip("% ").replace(",", "")
    value = Fraction(text)
    decimals = len(text.split(".")[1]) if "." in text else 0
    if percent:
        value /= 100
    return value, decimals, percent


def _tokens(line: str, offset: int) -> list[_Token]:
    raw: list[_Token] = []
    for match in _TOKEN_RE.finditer(line):
        kind = match.lastgroup or "sep"
        start, end = match.start() + offset, match.end() + offset
        if kind == "num":
            value, decimals, percent = _number(match)
            raw.append(_Token("num", match.group(), start, end, value, decimals, percent))
        elif kind == "op":
            raw.append(_Token("op", _OPERATORS[match.group()], start, end))
        else:
            raw.append(_Token(kind, match.group(), start, end))
    # Word operators count only between two numbers (or parentheses): "x" is also a name.
    tokens: list[_Token] = []
    index = 0
    while index < len(raw):
        token = raw[index]
        before = tokens[-1] if tokens else None
        pair = (token.text.lower(), raw[index + 1].text.lower()) if index + 1 < len(raw) else None
        if token.kind == "word" and pair in _TWO_WORD_OPERATORS and _operand_follows(raw, index + 2):
            if before is not None and before.kind in ("num", "rp"):
                tokens.append(_Token("op", _TWO_WORD_OPERATORS[pair], token.start, raw[index + 1].end))
                index += 2
                continue
        word = token.text.lower()
        if token.kind == "word" and word in _WORD_OPERATORS and _operand_follows(raw, index + 1):
            after_number = before is not None and before.kind in ("num", "rp")
            # "of" multiplies only after a percentage or a fraction: "20% of 50", "1/2 of 10".
            fraction = len(tokens) >= 2 and tokens[-2].kind == "op" and tokens[-2].text == "/"
            if after_number and (word != "of" or before.percent or fraction):
                tokens.append(_Token("op", _WORD_OPERATORS[word], token.start, token.end))
                index += 1
                continue
        tokens.append(token)
        index += 1
    return tokens


def _operand_follows(tokens: list[_Token], index: int) -> bool:
    return index < len(tokens) and tokens[index].kind in ("num", "lp")


class _Parser:
    """Recursive descent over numbers, operators and parentheses (units already removed)."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.position = 0

    def parse(self) -> Fraction | None:
        try:
            value = self._sum()
        except (ZeroDivisionError, OverflowError, ValueError, _Invalid):
            return None
        return value if self.position == len(self.tokens) else None

    def _peek(self) -> _Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self) -> _Token:
        token = self._peek()
        if token is None:
            raise _Invalid
        self.position += 1
        return token

    def _sum(self) -> Fraction:
        value = self._product()
        while (token := self._peek()) is not None and token.kind == "op" and token.text in "+-":
            self.position += 1
            right = self._product()
            value = value + right if token.text == "+" else value - right
        return value

    def _product(self) -> Fraction:
        value = self._power()
        while (token := self._peek()) is not None and token.kind == "op" and token.text in "*/":
            self.position += 1
            right = self._power()
            value = value * right if token.text == "*" else value / right
        return value

    def _power(self) -> Fraction:
        base = self._unary()
        token = self._peek()
        if token is not None and token.kind == "op" and token.text == "^":
            self.position += 1
            exponent = self._unary()
            if exponent.denominator != 1 or abs(exponent) > 64:
                raise _Invalid  # roots and huge powers are not grade-school arithmetic
            return base**exponent.numerator
        return base

    def _unary(self) -> Fraction:
        token = self._take()
        if token.kind == "op" and token.text == "-":
            return -self._unary()
        if token.kind == "num" and token.value is not None:
            return token.value
        if token.kind == "lp":
            value = self._sum()
            if self._take().kind != "rp":
                raise _Invalid
            return value
        raise _Invalid


class _Invalid(Exception):
    pass


def _left_side(tokens: list[_Token], eq_index: int) -> list[_Token] | None:
    """The longest run of numbers, operators and parentheses before an "=" that parses as a
    calculation with at least one operator. Unit words between them are skipped ("17 sheep * 3")."""
    span: list[_Token] = []
    index = eq_index - 1
    while index >= 0 and len(span) < MAX_SIDE_TOKENS:
        token = tokens[index]
        if token.kind in ("eq", "sep"):
            break
        span.append(token)
        index -= 1
    span.reverse()
    maths = [t for t in span if t.kind != "word"]
    for first in range(len(maths)):
        candidate = maths[first:]
        if candidate[0].kind == "op" and candidate[0].text != "-":
            continue
        operators = [t for t in candidate if t.kind == "op"]
        # A lone "-5" is a signed number, not a calculation.
        if not operators or (len(operators) == 1 and candidate[0] is operators[0]):
            continue
        if _Parser(candidate).parse() is not None:
            return candidate
    return None


def _stated(tokens: list[_Token], eq_index: int) -> tuple[_Token, _Token, Fraction] | None:
    """The number an "=" states (its sign included; "3/4" written without spaces is one number), as
    (its first token, its last token, its value); None when a number does not follow the "="."""
    index = eq_index + 1
    sign = None
    if index < len(tokens) and tokens[index].kind == "op" and tokens[index].text == "-":
        sign, index = tokens[index], index + 1
    if index >= len(tokens) or tokens[index].kind != "num" or tokens[index].value is None:
        return None
    first = last = tokens[index]
    value = first.value
    if index + 2 < len(tokens):
        slash, denominator = tokens[index + 1], tokens[index + 2]
        if (slash.kind == "op" and slash.text == "/" and slash.start == first.end
                and denominator.kind == "num" and denominator.start == slash.end and denominator.value):  # fmt: skip
            value, last = value / denominator.value, denominator
    if sign is not None:
        return _Token("num", "-" + first.text, sign.start, first.end, first.value, first.decimals,
                      first.percent), last, -value  # fmt: skip
    return first, last, value


def _display(tokens: list[_Token]) -> str:
    """A calculation as a student reads it: "17 × 3", "(24 + 2) × 3", "−5 + 3"."""
    parts: list[str] = []
    glue = True  # no space before the next token (start, after "(" or after a unary minus)
    previous: _Token | None = None
    for token in tokens:
        unary = (
            token.kind == "op" and token.text == "-" and (previous is None or previous.kind in ("op", "lp"))
        )
        text = SYMBOLS.get(token.text, token.text) if token.kind == "op" else token.text
        parts.append(text if glue or token.kind == "rp" else " " + text)
        glue = unary or token.kind == "lp"
        previous = token
    return "".join(parts)


def consistent(correct: Fraction, stated: Fraction, decimals: int, percent: bool = False) -> bool:
    """Whether a stated result is the exact value or a fair rounding of it (see the module docstring)."""
    candidates = [stated, stated * 100] if percent else [stated]
    for value in candidates:
        if value == correct:
            return True
        if decimals > 0 and abs(correct - value) <= Fraction(1, 2 * 10**decimals):
            return True
        if decimals == 0 and correct.denominator != 1 and abs(correct - value) < 1:
            return True  # 10 / 4 = 2 (whole boxes), 7 / 2 = 4 (rounded up)
    return False


def check_arithmetic(text: str) -> list[ArithmeticCheck]:
    """Every calculation with a stated result in `text`, recomputed, in order."""
    if not isinstance(text, str) or not text:
        return []
    checks: list[ArithmeticCheck] = []
    offset = 0
    for line in text[:MAX_TEXT_CHARS].split("\n"):
        tokens = _tokens(line, offset)
        for index, token in enumerate(tokens):
            if token.kind != "eq":
                continue
            left = _left_side(tokens, index)
            stated = _stated(tokens, index)
            if left is None or stated is None:
                continue
            first, last, stated_value = stated
            correct = _Parser(left).parse()
            if correct is None:
                continue
            decimals = first.decimals if first is last else max(first.decimals, 6)
            checks.append(
                ArithmeticCheck(
                    start=left[0].start,
                    end=last.end,
                    result_start=first.start,
                    result_end=last.end,
                    expression=_display(left),
                    written=line[first.start - offset : last.end - offset],
                    stated=stated_value,
                    correct=correct,
                    ok=consistent(correct, stated_value, decimals, first.percent),
                )
            )
        offset += len(line) + 1
    return checks


def arithmetic_slips(text: str) -> list[ArithmeticCheck]:
    """The calculations in `text` whose stated result is wrong."""
    return [check for check in check_arithmetic(text) if not check.ok]

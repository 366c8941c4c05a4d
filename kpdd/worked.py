"""A program shown as worked steps a student reads: each line a formula with its values.

    goats = sheep * 3        ->   Goats = sheep × 3 = 17 × 3 = 51
    cabs_sold_cabs = 4 + 2   ->   Cabs sold = 4 + 2 = 6
    days = 7                 ->   (dropped: the answer never uses it)

A KPDD-PoT program is the exact record of how the answer was computed, but it is Python, with
names a small model makes up. Here each top-level assignment that the answer depends on becomes one
step: the name in words, the formula in words, the same formula with the values it used, and the
value it gave. Values come from running the program once more in the sandbox, instrumented to report
what each line assigned (`kpdd.sandbox.run_program`, its contract unchanged). Lines the answer does
not depend on (an unused `days = 7`, a `print`) are dropped; a loop or an `if` stays as its code.
Numbers are written as everywhere else in the app (`kpdd.answers.format_answer`: 18, not 18.0).
"""

from __future__ import annotations

import ast
import builtins
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass

from kpdd.answers import format_answer
from kpdd.sandbox import last_assignment_name, run_program

# Names the instrumentation adds; the trailing underscore keeps them apart from a model's names.
_SEEN = "kpdd_seen_"
_NUMBER = "kpdd_number_"
_HELPER = f"""
def {_NUMBER}(value):
    try:
        number = float(value)
        return number if math.isfinite(number) else None
    except (TypeError, ValueError, OverflowError):
        pass
    try:
        numbers = [float(item) for item in value]
        return numbers if all(math.isfinite(n) for n in numbers) and len(numbers) <= 20 else None
    except (TypeError, ValueError, OverflowError):
        return None
{_SEEN} = []
"""
# Abbreviations small models use in names, and what a student reads instead.
ABBREVIATIONS = {
    "num": "number of", "no": "number of", "qty": "quantity", "amt": "amount", "avg": "average",
    "pct": "percent", "perc": "percent", "cnt": "count", "tot": "total", "hrs": "hours", "hr": "hours",
    "mins": "minutes", "min": "minutes", "secs": "seconds", "sec": "seconds", "yrs": "years",
    "wks": "weeks", "km": "km", "pp": "per person", "ppl": "people", "diff": "difference",
}  # fmt: skip
# Functions a program calls, in words.
FUNCTION_WORDS = {
    "round": "round", "ceil": "round up", "floor": "round down", "int": "whole part of",
    "abs": "size of", "min": "smaller of", "max": "larger of", "sum": "sum of", "sqrt": "square root of",
    "len": "number of", "float": "", "Fraction": "fraction", "Decimal": "",
}  # fmt: skip
# The same in Chinese, for steps whose names are Chinese (`names`).
FUNCTION_WORDS_ZH = {
    "round": "四舍五入", "ceil": "向上取整", "floor": "向下取整", "int": "取整数部分", "abs": "绝对值",
    "min": "较小值", "max": "较大值", "sum": "总和", "sqrt": "平方根", "len": "个数", "float": "",
    "Fraction": "分数", "Decimal": "",
}  # fmt: skip
_OPERATORS: dict[type, tuple[str, int]] = {  # symbol, precedence (higher binds tighter)
    ast.Add: ("+", 1), ast.Sub: ("\u2212", 1), ast.Mult: ("\u00d7", 2), ast.Div: ("\u00f7", 2),
    ast.FloorDiv: ("\u00f7", 2), ast.Mod: ("mod", 2), ast.Pow: ("^", 3),
}  # fmt: skip
_SUPERSCRIPTS = str.maketrans("0123456789", "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079")


@dataclass(frozen=True)
class WorkedStep:
    """One step. `formula` is in words ("goats − goats sold"), `numbers` the same with the values it
    used ("51 − 12"), `value` what it gave ("39"); each is "" where it has nothing to add."""

    name: str
    label: str  # the name in words, capitalised: "Goats left"
    formula: str = ""
    numbers: str = ""
    value: str = ""
    line: int = 0  # 1-based line of the program
    given: bool = False  # a number written into the program ("sheep = 17")
    is_answer: bool = False
    code: str = ""  # a loop or an `if`, kept as its code (no formula)

    def text(self) -> str:
        """The step on one line: "Goats left = goats − goats sold = 51 − 12 = 39"."""
        if self.code:
            return self.code + (f"  \u2192  {self.label} = {self.value}" if self.value else "")
        parts = [self.label]
        for part in (self.formula, self.numbers, self.value):
            if part and part != parts[-1]:
                parts.append(part)
        return " = ".join(parts)


@dataclass(frozen=True)
class WorkedSolution:
    steps: tuple[WorkedStep, ...] = ()
    dropped_lines: tuple[int, ...] = ()  # 1-based lines of the program the answer does not use
    ran: bool = False  # the values come from a run (False: formulas only, or nothing to show)

    def text(self) -> str:
        return "\n".join(f"{n}. {step.text()}" for n, step in enumerate(self.steps, 1))


def words(name: str) -> str:
    """A program's name as words: `cabs_sold_cabs` -> "cabs sold", `numApples` -> "number of apples"."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])", "_", name)
    out: list[str] = []
    for part in (p.lower() for p in spaced.split("_") if p):
        expanded = ABBREVIATIONS.get(part, part)
        if expanded in out:  # `cabs_sold_cabs`: the repeated word adds nothing
            continue
        out.append(expanded)
    return " ".join(out) or name


def label(name: str) -> str:
    text = words(name)
    return text[:1].upper() + text[1:]


def _inline_solution(tree: ast.Module) -> ast.Module:
    """`def solution(): ... return x` (and nothing setting `answer`) as top-level lines ending in
    `answer = x`, so its steps can be shown; other programs are returned unchanged."""
    if any(_assigns(node, "answer") for node in tree.body):
        return tree
    function = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "solution"), None)
    if function is None or function.args.args or not function.body:
        return tree
    body, last = function.body[:-1], function.body[-1]
    returns = [n for n in ast.walk(ast.Module(body=body, type_ignores=[])) if isinstance(n, ast.Return)]
    if not isinstance(last, ast.Return) or last.value is None or returns:
        return tree
    answer = ast.copy_location(ast.Assign(targets=[ast.Name("answer", ast.Store())], value=last.value), last)
    others = [n for n in tree.body if n is not function and not _calls_solution(n)]
    return ast.fix_missing_locations(ast.Module(body=others + body + [answer], type_ignores=[]))


def _calls_solution(node: ast.stmt) -> bool:
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "solution"
               for n in ast.walk(node))  # fmt: skip


def _assigns(node: ast.stmt, name: str) -> bool:
    return name in _stored(node)


def _stored(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _loaded(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _uses(node: ast.stmt) -> set[str]:
    used = _loaded(node)
    if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
        used.add(node.target.id)  # `total += 5` reads total
    return used


def _needed(body: list[ast.stmt], answer: str) -> tuple[int | None, set[int]]:
    """(index of the statement that sets the answer, indices of the statements it depends on)."""
    last = next((i for i in range(len(body) - 1, -1, -1) if _assigns(body[i], answer)), None)
    if last is None:
        return None, set()
    needed, wanted = set(), {answer}
    for index in range(last, -1, -1):
        node = body[index]
        stored = _stored(node) | (
            {a.asname or a.name.split(".")[0] for a in node.names} if isinstance(node, (ast.Import, ast.ImportFrom)) else set()
        )  # fmt: skip
        if index != last and not stored & wanted:
            continue
        needed.add(index)
        # A plain assignment replaces its names; a loop, an `if` or `+=` may keep their old values.
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            wanted -= stored
        wanted |= _uses(node)
    return last, needed


def _instrumented(body: list[ast.stmt], keep: set[int]) -> str:
    """The program with, after each kept statement, a report of the names it set."""
    lines = ["import math", _HELPER]
    for index, node in enumerate(body):
        lines.append(ast.unparse(node))
        if index in keep:
            for name in sorted(_stored(node)):
                lines.append(f"{_SEEN}.append(({index}, {name!r}, {_NUMBER}({name})))")
    lines.append(f"answer = repr({_SEEN})")
    return "\n".join(lines)


def _run_for_values(
    body: list[ast.stmt], keep: set[int], timeout_s: float
) -> list[tuple[int, str, object]] | None:
    result = run_program(_instrumented(body, keep), timeout_s)
    if not result.ok or not isinstance(result.answer, str):
        return None
    try:
        seen = ast.literal_eval(result.answer)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return [item for item in seen if isinstance(item, tuple) and len(item) == 3]


def _show_value(value: object) -> str:
    if isinstance(value, float):
        return format_answer(value)
    if isinstance(value, list):
        return "[" + ", ".join(format_answer(v) for v in value) + "]"
    return ""


class _Renderer:
    """An expression in words, or with each name replaced by its value (`values`); `names` are the
    words for a program's names in the problem's language (kpdd.format.parse_step_names)."""

    def __init__(self, values: dict[str, str] | None, names: Mapping[str, str] | None = None) -> None:
        self.values = values
        self.names = names or {}
        self.function_words = FUNCTION_WORDS_ZH if self.names else FUNCTION_WORDS

    def render(self, node: ast.expr, parent_precedence: int = 0) -> str:
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, (int, float))
            and not isinstance(node.value, bool)
        ):
            return format_answer(float(node.value))
        if isinstance(node, ast.Name):
            if self.values is not None and self.values.get(node.id):
                return self.values[node.id]
            return self.names.get(node.id) or words(node.id)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            symbol, precedence = _OPERATORS[type(node.op)]
            left = self.render(node.left, precedence)
            right = self.render(node.right, precedence + (0 if isinstance(node.op, ast.Pow) else 1))
            if isinstance(node.op, ast.Pow) and re.fullmatch(r"\d+", right):
                text = left + right.translate(_SUPERSCRIPTS)
            else:
                text = f"{left} {symbol} {right}"
            if isinstance(node.op, ast.FloorDiv):
                return f"{self.function_words['int']} ({text})" if self.names else f"whole part of ({text})"
            return f"({text})" if precedence < parent_precedence else text
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return "\u2212" + self.render(node.operand, 4)
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            arguments = ", ".join(self.render(a) for a in node.args)
            spoken = self.function_words.get(name, self.names.get(name) or (words(name) if name else ""))
            if not spoken:
                return arguments
            return f"{spoken} ({arguments})"
        if isinstance(node, (ast.List, ast.Tuple)):
            return "[" + ", ".join(self.render(e) for e in node.elts) + "]"
        if isinstance(node, ast.Attribute) and node.attr == "pi":
            return "\u03c0"
        return ast.unparse(node)


def _step(
    node: ast.stmt, answer: str, before: dict[str, str], after: dict[str, str], names: Mapping[str, str]
) -> list[WorkedStep]:
    """The steps of one statement (`a, b = 1, 2` gives two)."""

    def label_of(name: str) -> str:
        return names.get(name) or ("Answer" if name == "answer" else label(name))

    line = getattr(node, "lineno", 0)
    pairs: list[tuple[str, ast.expr]] = []
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target = node.targets[0]
        if isinstance(target, ast.Name):
            pairs = [(target.id, node.value)]
        elif (isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple)
              and len(target.elts) == len(node.value.elts) and all(isinstance(t, ast.Name) for t in target.elts)):  # fmt: skip
            pairs = [(t.id, v) for t, v in zip(target.elts, node.value.elts)]  # type: ignore[attr-defined]
    elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
        pairs = [(node.target.id, node.value)]
    elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
        pairs = [(node.target.id, ast.BinOp(ast.Name(node.target.id, ast.Load()), node.op, node.value))]
    if not pairs:  # a loop, an `if`: its code, then what it left in the names the answer needs
        stored = sorted(_stored(node))
        name = stored[-1] if stored else ""
        return [WorkedStep(name=name, label=label_of(name) if name else "", value=after.get(name, ""), line=line,
                           is_answer=name == answer, code=ast.unparse(node))]  # fmt: skip
    steps = []
    for name, value in pairs:
        given = isinstance(value, ast.Constant) or (
            isinstance(value, ast.UnaryOp) and isinstance(value.operand, ast.Constant)
        )
        formula = "" if given else _Renderer(None, names).render(value)
        numbers = "" if given else _Renderer(before, names).render(value)
        shown = after.get(name, "") or (_Renderer(None).render(value) if given else "")
        steps.append(WorkedStep(name=name, label=label_of(name), formula=formula,
                                numbers=numbers, value=shown, line=line, given=given, is_answer=name == answer))  # fmt: skip
    return steps


def _worked(program: str, timeout_s: float, names: Mapping[str, str]) -> WorkedSolution:
    try:
        tree = _inline_solution(ast.parse(program))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return WorkedSolution()
    body = tree.body
    answer = "answer" if any(_assigns(node, "answer") for node in body) else last_assignment_name(tree)
    if answer is None:
        return WorkedSolution()
    last, keep = _needed(body, answer)
    if last is None:
        return WorkedSolution()
    seen = _run_for_values(body, keep, timeout_s)
    values_at: dict[int, dict[str, str]] = {}
    for index, name, value in seen or []:
        values_at.setdefault(index, {})[name] = _show_value(value)
    steps: list[WorkedStep] = []
    current: dict[str, str] = {}
    for index in sorted(keep):
        node = body[index]
        after = {**current, **values_at.get(index, {})}
        if not isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef)):
            steps.extend(_step(node, answer, current, after, names))
        current = after
    used_lines = {line for index in keep for line in _lines(body[index])}
    all_lines = {line for node in body for line in _lines(node)}
    dropped = sorted(all_lines - used_lines)
    return WorkedSolution(tuple(steps), tuple(dropped), seen is not None)


def _lines(node: ast.stmt) -> range:
    start = getattr(node, "lineno", 0)
    return range(start, (getattr(node, "end_lineno", None) or start) + 1)


def used_numbers(program: str) -> list[float] | None:
    """The number literals in the lines a program's answer depends on (no run: the AST alone), or
    None when it does not parse. An unused `days = 7` does not count as a number the program uses."""
    try:
        tree = _inline_solution(ast.parse(program))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    answer = "answer" if any(_assigns(node, "answer") for node in tree.body) else last_assignment_name(tree)
    keep = _needed(tree.body, answer)[1] if answer else set(range(len(tree.body)))
    return [
        round(float(node.value), 6)
        for index in sorted(keep)
        for node in ast.walk(tree.body[index])
        if isinstance(node, ast.Constant)
        and isinstance(node.value, (int, float))
        and not isinstance(node.value, bool)
    ]


def worked_steps(
    program: str, timeout_s: float = 2.0, names: Mapping[str, str] | None = None
) -> WorkedSolution:
    """The program as worked steps (see the module docstring). A program that does not parse, or has
    no answer to explain, gives no steps; one that does not run gives formulas without values.
    `names`: words for the program's names in the problem's language (a `Solution`'s `names`), in
    place of the names split into English words.
    Cached: the app asks for the same program when it shows, hints and reopens it."""
    return _worked_cached(program, timeout_s, tuple(sorted((names or {}).items())))


@functools.lru_cache(maxsize=256)
def _worked_cached(program: str, timeout_s: float, names: tuple[tuple[str, str], ...]) -> WorkedSolution:
    if not isinstance(program, str) or not program.strip() or len(program) > 20_000:
        return WorkedSolution()
    try:
        return _worked(program, timeout_s, dict(names))
    except (RecursionError, MemoryError):  # an expression nested hundreds deep: no steps to show
        return WorkedSolution()


def names_to_explain(program: str) -> list[str]:
    """The variables a program's worked steps name, in order of first appearance (not `answer`,
    functions, modules or builtins): what a Chinese problem's steps need names for."""
    try:
        tree = _inline_solution(ast.parse(program))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    imported = {
        (alias.asname or alias.name).split(".")[0]
        for n in ast.walk(tree)
        if isinstance(n, (ast.Import, ast.ImportFrom))
        for alias in n.names
    }
    skip = called | imported | set(dir(builtins)) | {"answer"}
    seen: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in skip and node.id not in seen:
            seen.append(node.id)
    order = {name: min(n.lineno * 1000 + n.col_offset for n in ast.walk(tree)
                       if isinstance(n, ast.Name) and n.id == name) for name in seen}  # fmt: skip
    return sorted(seen, key=order.__getitem__)

"""Numbers a program uses and then takes back out: the answer does not depend on them.

    goats_left = goats - goats_sold
    animals = sheep + goats_left + goats_sold      # goats_sold cancels: 12 changes nothing

A small student often adds back a quantity it has just taken away, or takes away one it has just
added, and the program runs cleanly to a wrong answer. Such a program states a fact of the problem
and then cancels it, which a right solution almost never does: of the default student's first
answers to the 1200-problem seeded sample, 53 have a cancelling number and 3 of those are right
(docs/MODEL_CARD.md).
So a cancelling number counts against an answer like a number the problem does not give
(`kpdd.solver.plausibility`), which sends it to a second opinion, and the verdict says which number
cancels (`kpdd.verdict`).

How: each number on the answer's path is changed in turn (every literal of that value at once: a
number written twice is one quantity of the problem), and the program is evaluated again
here, in plain Python arithmetic over the syntax tree: only straight-line assignments of `+ - * /
//` over numbers and names, nothing called, nothing run. Any other program gives no finding.
Division is taken exactly (`//` as `/`), so rounding down does not hide a dependence. A program with a
zero in it is left alone: multiplying by a given zero ("children eat free") rightly makes other
numbers irrelevant. A number the problem states twice is left alone too: "2 left and 2 more got
in line" does take away and add back the same amount.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable

from kpdd.answers import numerals_in_text

_OPERATIONS: dict[type, Callable[[float, float], float]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: a / b,
}
_NUDGE = 1.37  # a number changed by this factor should change an answer that depends on it
_MAX_STATEMENTS = 60


class _NotArithmetic(Exception):
    """The program is not straight-line arithmetic: no finding."""


def _is_number(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, (int, float))
        and not isinstance(node.value, bool)
    )


def _evaluate(node: ast.AST, values: dict[str, float], nudged: float | None) -> float:
    if _is_number(node):
        value = float(node.value)  # type: ignore[attr-defined]
        return value * _NUDGE if value == nudged else value
    if isinstance(node, ast.Name) and node.id in values:
        return values[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATIONS:
        left, right = _evaluate(node.left, values, nudged), _evaluate(node.right, values, nudged)
        return _OPERATIONS[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _evaluate(node.operand, values, nudged)
        return -value if isinstance(node.op, ast.USub) else value
    raise _NotArithmetic


def _assignments(tree: ast.Module) -> list[tuple[str, ast.expr]]:
    """(name, expression) for each statement; anything else is not straight-line arithmetic."""
    steps = []
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
            if isinstance(target, ast.Name):
                steps.append((target.id, statement.value))
                continue
        raise _NotArithmetic
    return steps


def _answer_of(steps: list[tuple[str, ast.expr]], nudged: float | None) -> float:
    """The answer, with every literal equal to `nudged` changed (None: as written)."""
    values: dict[str, float] = {}
    for name, expression in steps:
        values[name] = _evaluate(expression, values, nudged)
    return values["answer"] if "answer" in values else values[steps[-1][0]]


def _on_the_answers_path(steps: list[tuple[str, ast.expr]]) -> list[float]:
    """The numbers written in the assignments the answer depends on (the last binding of each
    name), in the order written, each once."""
    answer = "answer" if any(name == "answer" for name, _ in steps) else steps[-1][0]
    wanted, literals = {answer}, []
    for name, expression in reversed(steps):
        if name not in wanted:
            continue
        wanted.discard(name)
        wanted |= {n.id for n in ast.walk(expression) if isinstance(n, ast.Name)}
        literals += [n for n in ast.walk(expression) if _is_number(n)]
    ordered = sorted(literals, key=lambda n: (n.lineno, n.col_offset))
    values = [float(n.value) for n in ordered]  # type: ignore[attr-defined]
    return sorted(set(values), key=values.index)


def _stated_more_than_once(number: float, problem: str) -> bool:
    return numerals_in_text(problem).count(round(number, 6)) > 1


def cancelled_numbers(program: str, problem: str = "") -> list[float]:
    """The numbers a straight-line arithmetic program uses on its answer's path that the answer does
    not depend on, in the order written, leaving out those `problem` states more than once; [] for
    any other program."""
    try:
        tree = ast.parse(program)
        steps = _assignments(tree)
        if not steps or len(steps) > _MAX_STATEMENTS:
            return []
        if any(_is_number(n) and n.value == 0 for n in ast.walk(tree)):  # type: ignore[attr-defined]
            return []
        answer = _answer_of(steps, None)
        return [
            number
            for number in _on_the_answers_path(steps)
            if not _stated_more_than_once(number, problem)
            and math.isclose(_answer_of(steps, number), answer, rel_tol=1e-9, abs_tol=1e-9)
        ]
    except (SyntaxError, ValueError, _NotArithmetic, ZeroDivisionError, OverflowError, RecursionError,
            MemoryError):  # fmt: skip
        return []

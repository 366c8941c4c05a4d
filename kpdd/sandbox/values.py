"""The values a program computes on the way to its answer, run in the sandbox: worked steps show
them, and Both mode asks whether a program passed the steps' answer on the way."""

from __future__ import annotations

import ast

from kpdd.sandbox.parent import run_program


def _is_number_literal(node: ast.expr) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float))


def computed_values(program: str, timeout_s: float = 2.0) -> list[float]:
    """The values a program computes on the way to its answer, in order; run in the sandbox.

    Each top-level assignment of an expression (not a bare number copied from the problem) to a name
    other than `answer` is recorded right after it runs. A program that does not parse or run gives [].
    """
    try:
        tree = ast.parse(program)
        body: list[ast.stmt] = [ast.parse("steps_seen_ = []").body[0]]
        for node in tree.body:
            body.append(node)
            target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None
            if isinstance(target, ast.Name) and target.id != "answer" and not _is_number_literal(node.value):
                body.append(ast.parse(f"steps_seen_.append({target.id})").body[0])
        body.append(ast.parse("answer = repr(steps_seen_)").body[0])
        instrumented = ast.unparse(ast.Module(body=body, type_ignores=[]))
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # not Python, or nested too deeply
        return []
    result = run_program(instrumented, timeout_s)
    if not result.ok or not isinstance(result.answer, str):
        return []
    try:
        values = ast.literal_eval(result.answer)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return []  # e.g. inf or nan, which repr writes as bare names
    return [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]

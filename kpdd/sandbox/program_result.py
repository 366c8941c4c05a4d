"""What running one program gave (`ProgramResult`), and how a program that never says which value is
its answer is read (`last_assignment_name`). Shared by every part of the sandbox and its callers."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any, Protocol

ERROR_KINDS = ("syntax", "forbidden", "timeout", "memory", "runtime", "no_answer")


class CancelLike(Protocol):
    @property
    def cancelled(self) -> bool: ...


@dataclass
class ProgramResult:
    """What running one program gave. ``answer`` is JSON-safe (int, float, bool or str)."""

    ok: bool
    answer: Any = None
    stdout: str = ""
    error: str = ""
    error_kind: str | None = None
    duration_s: float = 0.0
    # Where the answer came from: "answer" (the variable), "solution" (its return value), or
    # "last_assignment" (a program that set neither: its last top-level assignment, marked as such).
    answer_source: str | None = None


ANSWER_SOURCES = ("answer", "solution", "last_assignment")


def last_assignment_name(tree: ast.Module) -> str | None:
    """The name the program's last top-level assignment binds (`x = ...`, `x: int = ...`, `x += ...`).

    A program that never sets `answer` nor defines `solution()` is read by this name: small models
    often compute the result and forget the final `answer =` line (PAL-style programs print it).
    """
    for node in reversed(tree.body):
        if isinstance(node, ast.Assign):
            targets = [t for t in node.targets if isinstance(t, ast.Name)]
            if targets:
                return targets[0].id
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and isinstance(node.target, ast.Name):
            if not isinstance(node, ast.AnnAssign) or node.value is not None:
                return node.target.id
    return None


def _fallback_name(source: str) -> str | None:
    try:
        return last_assignment_name(ast.parse(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None

"""What the window asks the solver worker to do, and how one solve request is run: no Qt here.

`desktop.workers` runs these on its thread; the tutor session (`desktop.session`) builds them, and
its tests run them inline with `solve_request`, the same function the worker calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kpdd.backend import CancelToken
from kpdd.format import Mode
from kpdd.result import SolveResult, StageEvent
from kpdd.worked import worked_steps


@dataclass
class SolveRequest:
    problem: str
    mode: str = "pot"
    samples: int = 1
    core_question: str | None = None
    key_information: list[str] | str | None = None
    cancel: CancelToken = field(default_factory=CancelToken)
    purpose: str = "show"  # "show" | "hint" | "check": how the session presents the result
    request_id: int = 0
    # A result to have checked by the second model instead of solving ("Check it with ..."):
    # the worker asks that model only, and the finished result is this one with its answer added.
    to_check: SolveResult | None = None


@dataclass
class BatchRequest:
    problems: list  # list[kpdd.batch.BatchProblem]
    results_path: Path
    mode: str = "pot"
    samples: int = 1
    cancel: CancelToken = field(default_factory=CancelToken)


class RequestFailed(Exception):
    """A request that cannot run; its message is one of the session's failure words ("no second model")."""


def solve_request(solver: Any, request: SolveRequest, on_event: Callable[[StageEvent], None]) -> SolveResult:
    """Run one request on a loaded `kpdd.solver.Solver`: a solve, or the second model's check."""
    if request.to_check is not None:
        if solver.second_opinion is None:
            raise RequestFailed("no second model")
        result = solver.check(request.to_check, on_event=on_event, cancel=request.cancel)
    else:
        result = solver.solve(
            request.problem,
            request.mode,
            samples=request.samples,
            core_question=request.core_question,
            key_information=request.key_information,
            on_event=on_event,
            cancel=request.cancel,
        )
    # The shown program runs once more for its worked steps here, off the UI thread: the window
    # then finds them in kpdd.worked's cache.
    program = result.shown_solution(Mode.POT) if not result.cancelled else None
    if program is not None and program.answer is not None:
        worked_steps(program.text, names=program.names)
    return result

"""What a solve produced, and its one stored form: `SolveResult` holds the problem, the stages as
generated (`StageRecord`), every solution written (`Solution`, with its sandbox run) and the answer;
`to_dict`/`from_dict` are how history, batches and sheets keep it, and `from_record` reads a
`kpdd eval` record (kpdd.evaluate.record_for) back into the same shape, so the verdict, the bench and
the app judge an answer one way whichever place it came from. `StageEvent` is what a solve streams.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from kpdd.answers import answers_match
from kpdd.format import KeyPoints, Mode, Stage
from kpdd.sandbox import ProgramResult, last_assignment_name


@dataclass
class StageEvent:
    """One thing the solver did, for streaming UIs.

    kind: "stage_start" | "text" | "stage_end" | "program_result" | "recheck" | "answer"
    ("recheck": an Auto solve's first answer looked wrong; `data` is the number of solutions it now writes;
    "second_opinion": another model is asked, because the answer looked doubtful or because every
    answer is checked; `text` names it, `data` is a SecondOpinionAsked)
    """

    kind: str
    stage: Stage | None = None
    text: str = ""
    solution_index: int = 0
    data: Any = None


OnEvent = Callable[[StageEvent], None]


@dataclass
class SecondOpinionAsked:
    """What a "second_opinion" event carries: why the model is asked, and the first model's result as
    it stood (a copy: a window shows its answer while the second model works)."""

    model: str
    every_answer: bool  # asked because every answer is checked, not because this one looked doubtful
    first: SolveResult


@dataclass
class StageRecord:
    stage: Stage
    text: str
    solution_index: int = 0
    prompt_tokens: int = 0
    prompt_tokens_evaluated: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    first_token_seconds: float | None = None
    finish_reason: str = "given"  # "given" when the user supplied the stage's text


@dataclass
class Solution:
    """One solution attempt: a program (PoT) or worked steps (CoT), and its answer."""

    kind: Mode
    text: str
    answer: float | None = None
    execution: ProgramResult | None = None
    error: str | None = None
    error_kind: str | None = None
    sample_index: int = 0
    model: str = ""  # set when another model wrote it (a second opinion)
    # A program's answer came from "answer", "solution" or, when it set neither, its
    # "last_assignment" (shown as such: the program never said which value it meant).
    answer_source: str | None = None
    # A program's variables named in the problem's language, for its worked steps (a Chinese
    # problem: kpdd.format.parse_step_names); {} when the names are the program's own.
    names: dict[str, str] = field(default_factory=dict)

    @property
    def answer_variable(self) -> str | None:
        """The variable read as the answer of a program that never set `answer` (else None)."""
        if self.answer_source != "last_assignment":
            return None
        try:
            return last_assignment_name(ast.parse(self.text))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None

    @property
    def answer_note(self) -> str:
        """A plain sentence when the answer is not the program's own `answer` (else "")."""
        if self.answer_source != "last_assignment":
            return ""
        return f"The program never set answer, so its last result, {self.answer_variable}, was taken as the answer."


@dataclass
class SolveResult:
    problem: str
    mode: Mode
    model: str = ""
    core_question: str = ""
    key_information: list[str] = field(default_factory=list)
    solutions: list[Solution] = field(default_factory=list)
    answer: float | None = None
    confidence: float = 0.0
    agree: bool | None = None  # mode `both`: do the program and the steps give the same answer?
    # mode `both`: the program computed the steps' answer on the way and kept going, so the steps'
    # answer is shown instead of the program's
    stepped_past: bool = False
    # samples=AUTO_SAMPLES: the first solution looked wrong, so more were drawn and voted
    rechecked: bool = False
    # the model asked for a second opinion ("" when none was): because the first answer looked wrong,
    # or about every answer (Solver.check_every_answer)
    second_opinion: str = ""
    stages: list[StageRecord] = field(default_factory=list)
    seconds: float = 0.0
    first_token_seconds: float | None = None
    # when a second model was asked: seconds until the first model's answer (shown while it works)
    first_answer_seconds: float | None = None
    cancelled: bool = False
    problem_truncated: bool = False
    error: str | None = None

    @property
    def key_points(self) -> KeyPoints:
        return KeyPoints(self.core_question, list(self.key_information))

    def shown_solution(self, kind: Mode) -> Solution | None:
        """The solution of this kind to show: the first that gives the answer (with several samples,
        the vote's answer may not be the first one's), else the first of the kind."""
        candidates = [s for s in self.solutions if s.kind == kind]
        for solution in candidates:
            if self.answer is not None and answers_match(solution.answer, self.answer):
                return solution
        return candidates[0] if candidates else None

    def shown_from_second_opinion(self) -> Solution | None:
        """The solution shown (its program, else its steps) when the second model wrote it, else None:
        then that model's work is what to print, and the first model's answer is said apart."""
        shown = self.shown_solution(Mode.POT) or self.shown_solution(Mode.COT)
        return shown if shown is not None and shown.model else None

    @property
    def first_model_answer(self) -> float | None:
        """What the first model answered on its own (its first solution)."""
        first = next((s for s in self.solutions if not s.model), None)
        return first.answer if first is not None else None

    @property
    def agreeing_solutions(self) -> int:
        """How many of the solutions give the answer shown."""
        return sum(
            1 for s in self.solutions if self.answer is not None and answers_match(s.answer, self.answer)
        )

    @property
    def program(self) -> str:
        return next((s.text for s in self.solutions if s.kind == Mode.POT), "")

    @property
    def steps(self) -> str:
        return next((s.text for s in self.solutions if s.kind == Mode.COT), "")

    @property
    def execution(self) -> ProgramResult | None:
        return next((s.execution for s in self.solutions if s.kind == Mode.POT), None)

    @property
    def prompt_tokens(self) -> int:
        return sum(s.prompt_tokens for s in self.stages)

    @property
    def prompt_tokens_evaluated(self) -> int:
        return sum(s.prompt_tokens_evaluated for s in self.stages)

    @property
    def completion_tokens(self) -> int:
        return sum(s.completion_tokens for s in self.stages)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["mode"] = self.mode.value
        for stage in data["stages"]:
            stage["stage"] = stage["stage"].value
        for solution in data["solutions"]:
            solution["kind"] = solution["kind"].value
        data["prompt_tokens"] = self.prompt_tokens
        data["prompt_tokens_evaluated"] = self.prompt_tokens_evaluated
        data["completion_tokens"] = self.completion_tokens
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SolveResult:
        """Rebuild a `SolveResult` from its `to_dict()` (a history entry or a batch line)."""

        def program_result(value: Any) -> Any:
            if not isinstance(value, dict):
                return None
            try:
                return ProgramResult(**value)
            except TypeError:  # an older or newer field set: keep what the display needs
                fields = ("ok", "answer", "stdout", "error", "error_kind", "duration_s", "answer_source")
                known = {k: value.get(k) for k in fields}
                return ProgramResult(**known)

        solutions = [
            Solution(
                kind=Mode(s.get("kind", "pot")),
                text=s.get("text", ""),
                answer=s.get("answer"),
                execution=program_result(s.get("execution")),
                error=s.get("error"),
                error_kind=s.get("error_kind"),
                sample_index=int(s.get("sample_index", 0)),
                model=s.get("model", "") or "",
                answer_source=s.get("answer_source"),
                names=_names(s.get("names")),
            )
            for s in data.get("solutions", [])
        ]
        stages = []
        for s in data.get("stages", []):
            try:
                stages.append(
                    StageRecord(
                        stage=Stage(s["stage"]),
                        text=s.get("text", ""),
                        solution_index=int(s.get("solution_index", 0)),
                        prompt_tokens=int(s.get("prompt_tokens", 0)),
                        prompt_tokens_evaluated=int(s.get("prompt_tokens_evaluated", 0)),
                        completion_tokens=int(s.get("completion_tokens", 0)),
                        seconds=float(s.get("seconds", 0.0)),
                        first_token_seconds=s.get("first_token_seconds"),
                        finish_reason=s.get("finish_reason", "given"),
                    )
                )
            except (KeyError, ValueError):
                continue
        return cls(
            problem=data.get("problem", ""),
            mode=Mode(data.get("mode", "pot")),
            model=data.get("model", ""),
            core_question=data.get("core_question", ""),
            key_information=list(data.get("key_information") or []),
            solutions=solutions,
            answer=data.get("answer"),
            confidence=float(data.get("confidence") or 0.0),
            agree=data.get("agree"),
            stepped_past=bool(data.get("stepped_past")),
            rechecked=bool(data.get("rechecked")),
            second_opinion=data.get("second_opinion", "") or "",
            stages=stages,
            seconds=float(data.get("seconds") or 0.0),
            first_token_seconds=data.get("first_token_seconds"),
            first_answer_seconds=data.get("first_answer_seconds"),
            cancelled=bool(data.get("cancelled")),
            problem_truncated=bool(data.get("problem_truncated")),
            error=data.get("error"),
        )

    @classmethod
    def from_record(cls, record: dict[str, Any], mode: Mode | str) -> SolveResult:
        """A `kpdd eval` record (kpdd.evaluate.record_for: the question, the prediction, the solutions
        without their runs) as the result it was made from, through `from_dict`."""
        return cls.from_dict({
            **record,
            "problem": record.get("question", "") or "",
            "answer": record.get("prediction"),
            "mode": Mode(mode).value,
            "error": "backend error" if record.get("error_kind") == "backend_error" else None,
        })  # fmt: skip


def _names(value: Any) -> dict[str, str]:
    """A stored `Solution.names`, or {} when it is missing or not names to words."""
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, str) and v}

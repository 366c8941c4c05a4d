"""The staged KPDD solver: core question, key information, then a program or worked steps.

The solver runs the stages in order over any `kpdd.backend.Backend`. Each stage's prompt is the
previous prompt plus what the previous stage produced, so a backend with a prefix cache (llama.cpp)
evaluates the problem once and the three stages cost about one pass. Events stream to a callback so
a UI can fill one panel per stage. A user may edit the core question or the key information and
solve again from that stage (pass them in; the stages given are not generated again).

Programs run in `kpdd.sandbox`; the answer of a program is its `answer` variable. With several
samples (self-consistency), the first solution is the greedy one and the others are sampled at a
temperature. The answers vote (a tie goes to a program's answer, then to the greedy one); the share of
the winning answer is the confidence. A small student's samples at 0.7 are worse than its greedy
solution: all-sampled votes scored below greedy decoding (bench/records/smollm2-history.md).

In modes `pot` and `cot` a vote is weighed by plausibility: an answer that is negative or not a whole
number, or a program that uses a number the problem does not give, counts for less (`plausibility`).
A grade-school word problem's answer is almost never negative, and the student's samples with those
marks were almost never right; the weights were picked on SVAMP and MultiArith and then checked on
GSM8K and ASDiv (bench/records/smollm2-history.md, "Self-consistency"). In every mode, Both
included, an impossible answer (a negative quantity, part of a thing the question counts whole)
never beats a possible one, however many votes it has (`impossible`).

`samples=AUTO_SAMPLES` ("Auto" in the app) writes one solution and, only when it looks wrong (no
answer, or a plausibility below 1), draws more up to RECHECK_SAMPLES and votes: most of the accuracy
of five samples for a fraction of their time, since most first answers pass the checks. A solver
with a `second_opinion` (another, larger model) asks that model instead of drawing more samples:
with the 0.5B student and the 1.5B that measured about 10 points better than the student alone
(docs/RESULTS.md).

In mode `both` the program's answer wins a disagreement, except when the program had computed the
steps' answer on the way and then kept going: a small student trained on multi-step programs often
takes one step too many (`total = 10 + 8` then `answer = total / 2`), and then the steps are the
better answer (measured with the first student: bench/records/smollm2-history.md, "Both mode").
"""

from __future__ import annotations

import ast
import inspect
import math
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from kpdd.answers import answer_from_value, answers_match, extract_answer, numbers_given
from kpdd.backend import (
    Backend,
    BackendError,
    Cancelled,
    CancelToken,
    Generation,
    degenerate_message,
    repeated_tail,
)
from kpdd.cancelling import cancelled_numbers
from kpdd.format import (
    MAX_TOKENS,
    PLAIN_MODE,
    SOLUTION_STAGE,
    STOP_STRINGS,
    KeyPoints,
    Mode,
    Stage,
    clean_stage,
    inference_prompt,
    normalize_problem,
    parse_key_information,
)
from kpdd.sandbox import ProgramResult, computed_values, last_assignment_name, run_program

# Longer pastes are cut: a word problem is a paragraph, and the context must hold the stages too.
MAX_PROBLEM_CHARS = 2000
DEFAULT_SAMPLE_TEMPERATURE = 0.7
# How much a solution's vote counts when its answer or program looks wrong for a word problem (each
# mark multiplies). Measured on the shipped student's 5-sample records of SVAMP and MultiArith: no
# negative or fractional sample answer was right, and programs using a number the problem does not
# give were right about a tenth as often as the others. Not zero: a fractional answer can be right
# ("$3.50"), and a unanimous vote should stand.
NEGATIVE_ANSWER_WEIGHT = 0.1
FRACTIONAL_ANSWER_WEIGHT = 0.3
UNGROUNDED_PROGRAM_WEIGHT = 0.3
# A program that uses a number and takes it back out (`kpdd.cancelling`): 3 of 53 right among the
# default student's first answers to the 1200-problem seeded sample.
CANCELLING_PROGRAM_WEIGHT = 0.3
# `samples=AUTO_SAMPLES`: one solution, then RECHECK_SAMPLES in all when the first one looks wrong.
AUTO_SAMPLES = 0
RECHECK_SAMPLES = 5


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


_ANSWER_ASSIGNMENT = re.compile(r"^answer\s*=", re.MULTILINE)
_COT_CONCLUSION = re.compile(r"answer is[^\n]*\d", re.IGNORECASE)


# A line written this many times in a row means a small model is looping under greedy decoding.
LOOP_REPEATS = 3


def _stuck_in_a_loop(head: str) -> bool:
    lines = head.split("\n")[-LOOP_REPEATS:]
    return len(lines) == LOOP_REPEATS and bool(lines[0].strip()) and len(set(lines)) == 1


def solution_complete(stage: Stage, text: str) -> int | None:
    """Where a solution is finished, if it is: the end of a complete line that settles it.

    A program is done once a top-level `answer = ...` line completes and everything so far parses;
    worked steps are done at the end of the line that says "the answer is N". Stopping there saves
    the tokens a model spends after its answer (models not trained on the format often ramble on),
    and what follows would not change the result anyway. A solution that repeats one line
    `LOOP_REPEATS` times in a row is over too: it is looping and will not reach an answer.
    """
    end = text.rfind("\n")
    if end == -1:
        return None
    head = text[:end]
    last_line = head[head.rfind("\n") + 1 :]
    if stage in (Stage.PROGRAM, Stage.STEPS) and _stuck_in_a_loop(head):
        return end  # greedy decoding repeating itself: more tokens will not bring an answer
    if stage == Stage.PROGRAM:
        if not _ANSWER_ASSIGNMENT.match(last_line):
            return None
        try:
            ast.parse(clean_stage(Stage.PROGRAM, head))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
        return end
    if stage == Stage.STEPS and _COT_CONCLUSION.search(last_line):
        return end
    return None


def first_completion(stage: Stage, text: str) -> int | None:
    """The first point where `solution_complete` holds in a finished text (for non-streaming use)."""
    start = 0
    while (newline := text.find("\n", start)) != -1:
        end = solution_complete(stage, text[: newline + 1])
        if end is not None:
            return end
        start = newline + 1
    return None


def stage_text(stage: Stage, raw: str) -> str:
    """A generated stage's final text: a solution cut where it completed, then normalised."""
    if stage in (Stage.PROGRAM, Stage.STEPS):
        end = first_completion(stage, raw if raw.endswith("\n") else raw + "\n")
        if end is not None:
            raw = raw[:end]
    return clean_stage(stage, raw)


def program_stepped_past(program: str, steps_answer: float, sandbox_timeout_s: float = 2.0) -> bool:
    """Whether a program computed the steps' (different) answer on the way and then kept going.

    Exact matches only: a rounded intermediate must not pass for the steps' answer."""
    values = computed_values(program, sandbox_timeout_s)
    return any(answers_match(value, steps_answer, allow_rounding=False) for value in values)


def finalize(result: SolveResult, sandbox_timeout_s: float = 2.0) -> None:
    """Vote over the solutions; in mode `both`, record whether program and steps agree, and let the
    steps' answer win when the program computed it on the way and then went further.

    In every mode an impossible answer (a negative count, part of a person) loses to a possible one."""
    # Both mode's own rule (the program unless it stepped past the steps) was measured with plain
    # votes; plausibility weights were measured on samples of one kind only.
    weighted = result.mode != Mode.BOTH
    result.answer, result.confidence = vote(result.solutions, result.problem, weighted=weighted)
    result.stepped_past = False
    if result.mode != Mode.BOTH:
        return
    programs = [s for s in result.solutions if s.kind == Mode.POT]
    pot = vote(programs, result.problem, weighted=False)[0]
    cot = vote([s for s in result.solutions if s.kind == Mode.COT], result.problem, weighted=False)[0]
    result.agree = pot is not None and cot is not None and answers_match(pot, cot)
    shows_program = pot is not None and result.answer is not None and answers_match(result.answer, pot)
    if result.agree or cot is None or not shows_program or impossible(cot, result.problem):
        return
    program = next(s.text for s in programs if s.answer is not None and answers_match(s.answer, pot))
    if program_stepped_past(program, cot, sandbox_timeout_s):
        result.answer, result.stepped_past = cot, True
        agreeing = [s for s in result.solutions if s.answer is not None and answers_match(s.answer, cot)]
        result.confidence = len(agreeing) / len(result.solutions)


class _StageToken:
    """Cancels one generation when the user cancels or when its stage is complete."""

    def __init__(self, user: CancelToken) -> None:
        self.user = user
        self.complete = False

    @property
    def cancelled(self) -> bool:
        return self.complete or self.user.cancelled


def cut_problem(text: str) -> str:
    """The first MAX_PROBLEM_CHARS characters, ending at a word boundary when one is near the end.
    The one cut rule: the solver and the app's problem box both cut here."""
    if len(text) <= MAX_PROBLEM_CHARS:
        return text
    cut = text[:MAX_PROBLEM_CHARS]
    space = cut.rfind(" ", MAX_PROBLEM_CHARS - 200)
    return cut[:space] if space > 0 else cut


def prepare_problem(problem: str) -> tuple[str, bool]:
    """Normalise a problem; cut it at MAX_PROBLEM_CHARS (`cut_problem`). Raises on empty."""
    text = normalize_problem(problem or "")
    if not text:
        raise ValueError("The problem is empty: type or paste a word problem first.")
    cut = cut_problem(text)
    return cut, cut != text


def program_numbers(program: str) -> list[float] | None:
    """The number literals a program writes (signs dropped), or None when it does not parse."""
    try:
        tree = ast.parse(program)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return [
        round(float(node.value), 6)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, (int, float))
        and not isinstance(node.value, bool)
    ]


def plausibility(solution: Solution, problem: str) -> float:
    """The weight of a solution's vote: 1, less for each sign that its answer is wrong for a word
    problem (negative, not whole, or from a program using a number the problem does not give, or
    one whose answer does not depend on a number it uses)."""
    weight = 1.0
    answer = solution.answer
    if answer is not None and answer < 0:
        weight *= NEGATIVE_ANSWER_WEIGHT
    if answer is not None and math.isfinite(answer) and not math.isclose(answer, round(answer), abs_tol=1e-9):
        weight *= FRACTIONAL_ANSWER_WEIGHT
    if solution.kind == Mode.POT:
        numbers = program_numbers(solution.text)
        given = numbers_given(problem)
        if numbers and any(number not in given for number in numbers):
            weight *= UNGROUNDED_PROGRAM_WEIGHT
        if cancelled_numbers(solution.text, problem):
            weight *= CANCELLING_PROGRAM_WEIGHT
    return weight


def looks_wrong(solution: Solution, problem: str) -> bool:
    """Whether an Auto solve should draw more solutions after this first one."""
    return solution.answer is None or plausibility(solution, problem) < 1.0


# Quantities a "how many" question may count in parts of one: time, length, weight, volume, money,
# area, ratios. Anything else it asks about ("how many muffins", "how many more students") is
# counted in whole ones.
MEASURE_WORDS = frozenset(
    """second seconds minute minutes hour hours day days week weeks month months year years
    inch inches foot feet yard yards mile miles meter meters metre metres kilometer kilometers km
    centimeter centimeters cm millimeter millimeters mm ounce ounces pound pounds lb lbs gram grams kg
    kilogram kilograms ton tons cup cups pint pints quart quarts gallon gallons liter liters litre
    litres milliliter milliliters ml teaspoon teaspoons tablespoon tablespoons dollar dollars cent
    cents euro euros percent square cubic acre acres degree degrees times""".split()
)
_HOW_MANY = re.compile(
    r"\bhow\s+many\s+(?:more\s+|fewer\s+|less\s+|additional\s+|extra\s+|whole\s+|full\s+)?([a-z]+)",
    re.IGNORECASE,
)


def counts_whole_things(problem: str) -> bool:
    """Whether the problem's (last) question asks how many of something counted in whole ones."""
    matches = _HOW_MANY.findall(problem or "")
    return bool(matches) and matches[-1].lower() not in MEASURE_WORDS


def impossible(answer: float | None, problem: str) -> bool:
    """An answer no grade-school word problem has: a negative quantity, or part of a thing the
    question counts whole ("2.5 muffins", "a third of a person")."""
    if answer is None or not math.isfinite(answer):
        return False
    if answer < 0:
        return True
    return not math.isclose(answer, round(answer), abs_tol=1e-9) and counts_whole_things(problem)


def vote(
    solutions: list[Solution], problem: str | None = None, *, weighted: bool = True
) -> tuple[float | None, float]:
    """Majority vote over solutions' answers; returns (answer, share of all solutions behind it).

    With `problem`, an impossible answer (`impossible`) never beats a possible one, however many
    votes it has, and (unless `weighted` is False) each vote counts by its `plausibility`, so a lone
    sensible answer can beat two doubtful ones; the share returned is still the plain count, which
    is what the app shows."""
    groups: list[tuple[float, list[Solution]]] = []
    for solution in solutions:
        if solution.answer is None:
            continue
        for value, members in groups:
            if answers_match(solution.answer, value):
                members.append(solution)
                break
        else:
            groups.append((solution.answer, [solution]))
    if not groups:
        return None, 0.0

    def weight(members: list[Solution]) -> float:
        if problem is None or not weighted:
            return float(len(members))
        return round(sum(plausibility(s, problem) for s in members), 6)  # 0.3 + 0.3 + 0.3 ties 0.9

    def possible(value: float) -> bool:
        return problem is None or not impossible(value, problem)

    # Possible answers first; then most (weighted) votes; on a tie, prefer the group holding an
    # executed program (no arithmetic slips), then a second opinion's (the larger model: where the
    # vote changed by this, 17 right to 1 on the 1200-problem sample it was chosen on, 3 to 2 on 400
    # held-out problems; docs/RESULTS.md), then the earliest group (the greedy solution's).
    best_value, best_members = max(
        groups,
        key=lambda g: (
            possible(g[0]),
            weight(g[1]),
            any(s.kind == Mode.POT for s in g[1]),
            any(s.model for s in g[1]),
        ),
    )
    return best_value, len(best_members) / len(solutions)


class Solver:
    """Runs KPDD stages over a backend. One solver per backend; not for concurrent use."""

    def __init__(
        self,
        backend: Backend,
        *,
        few_shot: bool | None = None,
        max_tokens: dict[Stage, int] | None = None,
        sandbox_timeout_s: float = 2.0,
        sample_temperature: float = DEFAULT_SAMPLE_TEMPERATURE,
        seed: int = 0,
        second_opinion: Solver | None = None,
        check_every_answer: bool = False,
    ) -> None:
        self.backend = backend
        # Another model asked, greedy, when the first answer looks wrong (`looks_wrong`); its
        # solution joins the vote, where a plausible answer outweighs a doubtful one.
        self.second_opinion = second_opinion
        # Ask it about every answer, not only doubtful ones: slower, and then "checked" means two
        # models agree (docs/VERDICTS.md).
        self.check_every_answer = check_every_answer
        # Models trained on the format are prompted with the bare transcript; others few-shot.
        self.few_shot = (not backend.info.trained_on_format) if few_shot is None else few_shot
        # A plain-distilled model (the ablation) writes its solution straight after the problem.
        self.with_key_points = PLAIN_MODE not in backend.info.modes
        self.max_tokens = {**MAX_TOKENS, **(max_tokens or {})}
        self.sandbox_timeout_s = sandbox_timeout_s
        self.sample_temperature = sample_temperature
        self.seed = seed

    def solve(
        self,
        problem: str,
        mode: Mode | str = Mode.POT,
        *,
        samples: int = 1,
        core_question: str | None = None,
        key_information: list[str] | str | None = None,
        on_event: OnEvent | None = None,
        cancel: CancelToken | None = None,
    ) -> SolveResult:
        """Solve one problem. Stages given as arguments (edited by a user) are not generated.

        `samples`: solutions to write and vote on (the first greedy, the others sampled), or
        AUTO_SAMPLES: one, and RECHECK_SAMPLES when it looks wrong (in mode `both`, which has its
        own check, Auto is one sample; with a second opinion, that model is asked instead).
        Cancelled while the second opinion works, the first model's answer is returned as it was
        (not cancelled, `second_opinion` empty, `first_answer_seconds` set).

        Never raises for model trouble during a solve: a cancelled solve returns what it had with
        `cancelled=True`; a backend error is reported in `error`. An empty problem raises ValueError.
        """
        mode = Mode(mode)
        samples = max(AUTO_SAMPLES, int(samples))
        text, truncated = prepare_problem(problem)
        result = SolveResult(
            problem=text, mode=mode, model=self.backend.info.name, problem_truncated=truncated
        )
        emit = on_event or (lambda event: None)
        cancel = cancel or CancelToken()
        started = time.perf_counter()
        try:
            self._solve_stages(result, samples, core_question, key_information, emit, cancel, started)
            if self._wants_second_opinion(result):
                result.first_answer_seconds = time.perf_counter() - started
                every = self.check_every_answer and not self._looks_doubtful(result)
                try:
                    self._ask_second_opinion(result, every, emit, cancel)
                except Cancelled:
                    pass  # stopped while the second model checks: the first answer stands, unchecked
        except Cancelled:
            result.cancelled = True
        except Exception as exc:  # a backend failure mid-solve: keep what was done, say what failed
            from kpdd.backend import BackendError

            if not isinstance(exc, BackendError):
                raise
            result.error = str(exc)
        result.seconds = time.perf_counter() - started
        return result

    def check(
        self, result: SolveResult, on_event: OnEvent | None = None, cancel: CancelToken | None = None
    ) -> SolveResult:
        """Have the second model check an answer it was not asked about (the student asks for it:
        "Check it with ..."). Returns a copy of `result` with the second model's solutions in its
        vote; `result` itself is left as it was, so a cancelled or failed check loses nothing.

        Raises ValueError when there is no second model, or nothing to check."""
        if self.second_opinion is None:
            raise ValueError("no second model is configured")
        if not result.solutions or result.cancelled:
            raise ValueError("there is no answer to check")
        if result.second_opinion:
            raise ValueError(f"{result.second_opinion} has already checked this answer")
        checked = replace(result, solutions=list(result.solutions), stages=list(result.stages))
        checked.first_answer_seconds = checked.first_answer_seconds or result.seconds
        emit = on_event or (lambda event: None)
        started = time.perf_counter()
        try:
            other = self._ask_second_opinion(checked, True, emit, cancel or CancelToken())
            checked.error = other.error  # the student asked for this check: say when it failed
        except Cancelled:
            checked.cancelled = True
        except Exception as exc:
            from kpdd.backend import BackendError

            if not isinstance(exc, BackendError):
                raise
            checked.error = str(exc)
        checked.seconds = result.seconds + time.perf_counter() - started
        return checked

    def _ask_second_opinion(
        self, result: SolveResult, every: bool, emit: OnEvent, cancel: CancelToken
    ) -> SolveResult:
        """Ask the second model (`every`: not because the answer looked doubtful) and let its
        solutions join the vote; returns its own result. Raises Cancelled when the student stops it.
        A failure of the second model leaves the first answer standing (its error is in the result
        returned)."""
        assert self.second_opinion is not None
        name = self.second_opinion.backend.info.name
        first = replace(result, solutions=list(result.solutions), stages=list(result.stages))
        emit(StageEvent("second_opinion", None, name, data=SecondOpinionAsked(name, every, first)))
        other = self.second_opinion.solve(result.problem, result.mode, cancel=cancel)
        if other.cancelled:
            raise Cancelled()
        self._add_second_opinion(result, other)
        emit(StageEvent("answer", None, "", 0, result))
        return other

    def solve_batch(
        self, problems: list[str], mode: Mode | str = Mode.POT, samples: int = 1
    ) -> list[SolveResult]:
        """Solve many problems through the backend's `generate_batch`, for `kpdd eval` and batch
        work: greedy, then (samples=AUTO_SAMPLES) RECHECK_SAMPLES - 1 sampled solutions more for
        each problem whose first answer looks wrong, and a second opinion where one is configured.
        No streaming, no cancel.

        A backend whose `generate_batch` takes `follow_up` (llama.cpp) runs each problem's stages
        back to back in one sequence, as `solve` does, while other problems decode beside it. Other
        batching backends (transformers) run stage by stage over all problems; a backend without
        `generate_batch` solves them one by one.
        """
        generate_batch = getattr(self.backend, "generate_batch", None)
        if generate_batch is None:
            return [self.solve(p, mode) for p in problems]
        mode = Mode(mode)
        started = time.perf_counter()
        results = []
        for problem in problems:
            text, truncated = prepare_problem(problem)
            results.append(SolveResult(problem=text, mode=mode, model=self.backend.info.name,
                                       problem_truncated=truncated))  # fmt: skip
        if "follow_up" in inspect.signature(generate_batch).parameters:
            self._solve_batch_chained(results, mode)
        else:
            self._solve_batch_by_stage(results, mode)
        if samples == AUTO_SAMPLES and mode != Mode.BOTH and self.second_opinion is None:
            self._recheck_batch(
                [r for r in results if r.solutions and looks_wrong(r.solutions[0], r.problem)]
            )
        for result in results:
            finalize(result, self.sandbox_timeout_s)
        doubtful = [r for r in results if self._wants_second_opinion(r)]
        if doubtful:
            others = self.second_opinion.solve_batch([r.problem for r in doubtful], mode)
            for result, other in zip(doubtful, others):
                self._add_second_opinion(result, other)
        elapsed = time.perf_counter() - started
        for result in results:
            result.seconds = elapsed / len(problems)
        return results

    def _recheck_batch(self, results: list[SolveResult]) -> None:
        """Auto in a batch: more sampled solutions for the problems whose first answer looks wrong."""
        if not results:
            return
        jobs = [(r, n) for r in results for n in range(1, RECHECK_SAMPLES)]
        prompts = [inference_prompt(r.problem, SOLUTION_STAGE[r.mode], r.key_points, self.few_shot,
                                    self.with_key_points) for r, _ in jobs]  # fmt: skip
        stage = SOLUTION_STAGE[results[0].mode]
        generations = self.backend.generate_batch(  # type: ignore[attr-defined]
            prompts, stop=STOP_STRINGS, max_tokens=self.max_tokens[stage],
            temperature=self.sample_temperature, seed=self.seed + 1,
        )  # fmt: skip
        for (result, sample), generation in zip(jobs, generations):
            result.rechecked = True
            solution = self._finish_solution(
                result.mode, stage_text(stage, generation.text), sample, CancelToken()
            )
            result.solutions.append(solution)

    def _wants_second_opinion(self, result: SolveResult) -> bool:
        """A second model is asked when there is one and every answer is checked, or the answer
        looks wrong (or there is none)."""
        if self.second_opinion is None or result.cancelled or not result.solutions:
            return False
        return self.check_every_answer or self._looks_doubtful(result)

    @staticmethod
    def _looks_doubtful(result: SolveResult) -> bool:
        """No answer, or the solution behind it looks wrong (`looks_wrong`)."""
        if result.answer is None:
            return True
        chosen = next((s for s in result.solutions if answers_match(s.answer, result.answer)), None)
        return chosen is None or looks_wrong(chosen, result.problem)

    def _add_second_opinion(self, result: SolveResult, other: SolveResult) -> None:
        """The second model's solutions join the vote; its own key points stay with its stages."""
        for solution in other.solutions:
            solution.model = other.model
            solution.sample_index = len(result.solutions)
            result.solutions.append(solution)
        result.second_opinion = other.model
        result.stages += other.stages
        finalize(result, self.sandbox_timeout_s)

    def _stage_plan(self, mode: Mode) -> list[Stage]:
        """The stages a problem runs through, in order."""
        stages = [Stage.CORE_QUESTION, Stage.KEY_INFORMATION] if self.with_key_points else []
        kinds = [Mode.POT, Mode.COT] if mode == Mode.BOTH else [mode]
        return stages + [SOLUTION_STAGE[kind] for kind in kinds]

    def _record_batched_stage(
        self, result: SolveResult, key_points: KeyPoints, stage: Stage, generation: Generation, share: int
    ) -> None:
        """Keep one stage generated in a batch: its record, and what it adds to the key points or
        solutions."""
        text = stage_text(stage, generation.text)
        result.stages.append(StageRecord(
            stage, text, 0, generation.prompt_tokens, generation.prompt_tokens_evaluated,
            generation.completion_tokens, generation.seconds / share, generation.first_token_seconds,
            generation.finish_reason,
        ))  # fmt: skip
        if stage == Stage.CORE_QUESTION:
            key_points.core_question = result.core_question = text
        elif stage == Stage.KEY_INFORMATION:
            key_points.key_information = parse_key_information(text)
            result.key_information = list(key_points.key_information)
        else:
            kind = Mode.POT if stage == Stage.PROGRAM else Mode.COT
            result.solutions.append(self._finish_solution(kind, text, 0, CancelToken()))

    def _solve_batch_chained(self, results: list[SolveResult], mode: Mode) -> None:
        plan = self._stage_plan(mode)
        key_points = [KeyPoints() for _ in results]
        position = [0] * len(results)  # index into `plan` of the stage being generated

        def prompt(i: int) -> str:
            return inference_prompt(results[i].problem, plan[position[i]], key_points[i], self.few_shot,
                                    self.with_key_points)  # fmt: skip

        def follow_up(i: int, generation: Generation) -> tuple[str, int] | None:
            self._record_batched_stage(results[i], key_points[i], plan[position[i]], generation, 1)
            position[i] += 1
            if generation.finish_reason == "degenerate" and plan[position[i] - 1] in (
                Stage.CORE_QUESTION,
                Stage.KEY_INFORMATION,
            ):  # a broken model: no later stage will help
                results[i].error = degenerate_message(repeated_tail(generation.text) or "")
                return None
            if position[i] == len(plan):
                return None
            return prompt(i), self.max_tokens[plan[position[i]]]

        def is_complete(i: int, text: str) -> bool:
            return solution_complete(plan[position[i]], text) is not None

        generations = self.backend.generate_batch(  # type: ignore[attr-defined]
            [prompt(i) for i in range(len(results))], stop=STOP_STRINGS,
            max_tokens=self.max_tokens[plan[0]], temperature=0.0, seed=self.seed,
            follow_up=follow_up, is_complete=is_complete,
        )  # fmt: skip
        for result, generation in zip(results, generations):
            if generation.finish_reason == "too_long":
                result.error = (
                    "The problem is too long for this model's context in a batch. Shorten the problem."
                )

    def _solve_batch_by_stage(self, results: list[SolveResult], mode: Mode) -> None:
        key_points = [KeyPoints() for _ in results]
        for stage in self._stage_plan(mode):
            prompts = [inference_prompt(r.problem, stage, kp, self.few_shot, self.with_key_points)
                       for r, kp in zip(results, key_points)]  # fmt: skip
            generations = self.backend.generate_batch(  # type: ignore[attr-defined]
                prompts, stop=STOP_STRINGS, max_tokens=self.max_tokens[stage], temperature=0.0, seed=self.seed
            )
            for result, kp, generation in zip(results, key_points, generations):
                self._record_batched_stage(result, kp, stage, generation, len(results))

    # -- stages -------------------------------------------------------------------------------

    def _solve_stages(
        self,
        result: SolveResult,
        samples: int,
        core_question: str | None,
        key_information: list[str] | str | None,
        emit: OnEvent,
        cancel: CancelToken,
        started: float,
    ) -> None:
        problem = result.problem
        key_points = KeyPoints()

        # A plain-distilled model (the ablation) has no key-point stages: straight to the solutions.
        if self.with_key_points:
            if core_question is not None and core_question.strip():
                key_points.core_question = clean_stage(Stage.CORE_QUESTION, core_question)
                self._given(result, Stage.CORE_QUESTION, key_points.core_question, emit)
            else:
                record = self._generate(
                    result, Stage.CORE_QUESTION, problem, key_points, emit, cancel, started
                )
                key_points.core_question = record.text
            result.core_question = key_points.core_question

            if key_information is not None and (
                key_information.strip() if isinstance(key_information, str) else key_information
            ):
                items = (
                    parse_key_information(key_information)
                    if isinstance(key_information, str)
                    else [i.strip() for i in key_information if i.strip()]
                )
                key_points.key_information = items
                self._given(result, Stage.KEY_INFORMATION, key_points.key_information_text(), emit)
            else:
                record = self._generate(
                    result, Stage.KEY_INFORMATION, problem, key_points, emit, cancel, started
                )
                key_points.key_information = parse_key_information(record.text)
            result.key_information = list(key_points.key_information)

        kinds = [Mode.POT, Mode.COT] if result.mode == Mode.BOTH else [result.mode]
        index = 0
        wanted = max(1, samples)
        sample = 0
        while sample < wanted:
            for kind in kinds:
                temperature = 0.0 if sample == 0 else self.sample_temperature
                seed = self.seed + sample
                stage = SOLUTION_STAGE[kind]
                record = self._generate(
                    result, stage, problem, key_points, emit, cancel, started,
                    solution_index=index, temperature=temperature, seed=seed,
                )  # fmt: skip
                solution = self._finish_solution(kind, record.text, sample, cancel)
                result.solutions.append(solution)
                emit(StageEvent("program_result" if kind == Mode.POT else "stage_end", stage,
                                solution.text, index, solution))  # fmt: skip
                index += 1
            sample += 1
            # With a second opinion configured, that model is Auto's recheck instead of more samples.
            auto = samples == AUTO_SAMPLES and result.mode != Mode.BOTH and self.second_opinion is None
            if auto and sample == 1 and looks_wrong(result.solutions[0], problem):
                wanted, result.rechecked = RECHECK_SAMPLES, True
                emit(StageEvent("recheck", None, "", index, RECHECK_SAMPLES))

        finalize(result, self.sandbox_timeout_s)
        emit(StageEvent("answer", None, "", 0, result))

    def _given(self, result: SolveResult, stage: Stage, text: str, emit: OnEvent) -> None:
        result.stages.append(StageRecord(stage, text))
        emit(StageEvent("stage_start", stage))
        emit(StageEvent("text", stage, text))
        emit(StageEvent("stage_end", stage, text))

    def _generate(
        self,
        result: SolveResult,
        stage: Stage,
        problem: str,
        key_points: KeyPoints,
        emit: OnEvent,
        cancel: CancelToken,
        started: float,
        *,
        solution_index: int = 0,
        temperature: float = 0.0,
        seed: int | None = None,
    ) -> StageRecord:
        if cancel.cancelled:
            raise Cancelled()
        prompt = inference_prompt(problem, stage, key_points, self.few_shot, self.with_key_points)
        emit(StageEvent("stage_start", stage, "", solution_index))
        token = _StageToken(cancel)
        streamed: list[str] = []

        def on_text(piece: str) -> None:
            if token.complete:
                return
            if result.first_token_seconds is None and piece.strip():
                result.first_token_seconds = time.perf_counter() - started
            so_far = "".join(streamed)
            streamed.append(piece)
            end = solution_complete(stage, so_far + piece) if "\n" in piece else None
            if end is not None:
                token.complete = True
                piece = (so_far + piece)[len(so_far) : end]
            if piece:
                emit(StageEvent("text", stage, piece, solution_index))

        generation: Generation = self.backend.generate(
            prompt,
            stop=STOP_STRINGS,
            max_tokens=self.max_tokens[stage],
            temperature=temperature,
            seed=seed,
            on_text=on_text,
            cancel=token,
        )
        raw = generation.text
        if token.complete and not cancel.cancelled:
            generation.finish_reason = "complete"
        text = stage_text(stage, raw)
        record = StageRecord(
            stage,
            text,
            solution_index,
            generation.prompt_tokens,
            generation.prompt_tokens_evaluated,
            generation.completion_tokens,
            generation.seconds,
            generation.first_token_seconds,
            generation.finish_reason,
        )
        result.stages.append(record)
        if generation.finish_reason == "cancelled":
            raise Cancelled()
        if generation.finish_reason == "degenerate" and stage in (Stage.CORE_QUESTION, Stage.KEY_INFORMATION):
            raise BackendError(degenerate_message(repeated_tail(raw) or ""))  # a broken model
        # (A solution that degenerates is a small model looping: it fails alone, as one that loops line by line.)
        if stage in (Stage.CORE_QUESTION, Stage.KEY_INFORMATION):
            emit(StageEvent("stage_end", stage, text, solution_index))
        return record

    def _finish_solution(self, kind: Mode, text: str, sample: int, cancel: CancelToken) -> Solution:
        solution = Solution(kind, text, sample_index=sample)
        if kind == Mode.COT:
            solution.answer = extract_answer(text)
            if solution.answer is None:
                solution.error = "The steps do not end with a number."
                solution.error_kind = "no_answer"
            return solution
        if not text.strip():
            solution.error = "The model wrote no program."
            solution.error_kind = "no_answer"
            return solution
        execution = run_program(text, timeout_s=self.sandbox_timeout_s, cancel=cancel)
        solution.execution = execution
        if execution.ok:
            solution.answer_source = execution.answer_source
            solution.answer = answer_from_value(execution.answer)
            if solution.answer is None:
                solution.error = f"The program's answer is not a number: {execution.answer!r}"
                solution.error_kind = "no_answer"
        else:
            solution.error = execution.error
            solution.error_kind = execution.error_kind
        if cancel.cancelled:
            raise Cancelled()
        return solution

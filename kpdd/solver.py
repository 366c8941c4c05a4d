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
(docs/MODEL_CARD.md).

In mode `both` the program's answer wins a disagreement, except when the program had computed the
steps' answer on the way and then kept going: a small student trained on multi-step programs often
takes one step too many (`total = 10 + 8` then `answer = total / 2`), and then the steps are the
better answer (measured with the first student: bench/records/smollm2-history.md, "Both mode").
"""

from __future__ import annotations

import inspect
import time
from dataclasses import replace

from kpdd.answers import answer_from_value, answers_match, extract_answer
from kpdd.backend import (
    Backend,
    BackendError,
    Cancelled,
    CancelToken,
    Generation,
    degenerate_message,
    repeated_tail,
)
from kpdd.format import (
    MAX_TOKENS,
    PLAIN_MODE,
    SOLUTION_STAGE,
    STEP_NAMES_STOP,
    STOP_STRINGS,
    KeyPoints,
    Mode,
    Stage,
    clean_stage,
    inference_prompt,
    is_chinese,
    parse_key_information,
    parse_step_names,
    prepare_problem,
    step_names_prompt,
)
from kpdd.judgement import finalize, looks_wrong
from kpdd.result import OnEvent, SecondOpinionAsked, Solution, SolveResult, StageEvent, StageRecord
from kpdd.sandbox import run_program
from kpdd.stage_text import solution_complete, stage_text
from kpdd.worked import names_to_explain

# `samples=AUTO_SAMPLES`: one solution, then RECHECK_SAMPLES in all when the first one looks wrong.
AUTO_SAMPLES = 0
RECHECK_SAMPLES = 5
DEFAULT_SAMPLE_TEMPERATURE = 0.7
# A program with more variables than this keeps its own names in its worked steps (one generation
# of about 16 tokens a name: beyond this the wait is longer than the names are worth).
MAX_NAMED_VARIABLES = 12


class _StageToken:
    """Cancels one generation when the user cancels or when its stage is complete."""

    def __init__(self, user: CancelToken) -> None:
        self.user = user
        self.complete = False

    @property
    def cancelled(self) -> bool:
        return self.complete or self.user.cancelled


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
        cancel = cancel or CancelToken()
        try:
            other = self._ask_second_opinion(checked, True, emit, cancel)
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

    def step_names(self, result: SolveResult, cancel: CancelToken | None = None) -> dict[str, str]:
        """Chinese names for the variables of a Chinese problem's shown program, for its worked steps
        (kpdd.format.step_names_prompt), asked of the model that wrote it in one short generation;
        {} when the problem is not Chinese, the program is named already, the model's names are not
        usable (kpdd.format.parse_step_names), it is stopped, or the model fails. It costs about as
        much as a solve (its prompt is not in the cache), so the app asks for it after the answer
        is shown (desktop.workers), never before."""
        program = result.shown_solution(Mode.POT)
        if program is None or program.answer is None or program.names or not is_chinese(result.problem):
            return {}
        names = names_to_explain(program.text)
        if not names or len(names) > MAX_NAMED_VARIABLES:
            return {}
        writer = self.second_opinion if program.model and self.second_opinion is not None else self
        # Small models go on past the last name (the program again, values): the generation ends
        # as soon as every name has its line.
        token, seen = _StageToken(cancel or CancelToken()), [""]

        def on_text(piece: str) -> None:
            seen[0] += piece
            lines = [line.replace("：", ":").partition(":")[0].strip() for line in seen[0].split("\n")[:-1]]
            token.complete = all(name in lines for name in names)

        try:
            generation = writer.backend.generate(
                step_names_prompt(result.problem, names),
                stop=list(STEP_NAMES_STOP),
                max_tokens=16 * len(names) + 8,
                on_text=on_text,
                cancel=token,
            )
        except BackendError:
            return {}
        return {} if token.user.cancelled else parse_step_names(generation.text, names)

    def name_program_steps(self, result: SolveResult, cancel: CancelToken | None = None) -> None:
        """`step_names` set on the shown program (`Solution.names`), where there are any."""
        names, program = self.step_names(result, cancel), result.shown_solution(Mode.POT)
        if names and program is not None:
            program.names = names

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

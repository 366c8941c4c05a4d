"""A local GGUF teacher (e.g. Qwen2.5-Coder-1.5B-Instruct) writing whole KPDD transcripts in one
reply, many problems decoded together on one llama.cpp context (kpdd.llama_batch); with
`answer_hint`, the rationalization pass (the gold answer shown)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from distill.chat_client import ChatReply, Tally, TeacherError
from distill.teachers import Sampling
from kpdd.answers import format_answer
from kpdd.format import (
    END_MARKER,
    EXTRA_STOPS,
    MARKERS,
    KeyPoints,
    Mode,
    Stage,
    demonstrations_for,
    is_chinese,
    normalize_problem,
    parse_transcript,
    transcript,
)

# A problem written in Chinese gets the demonstrations in Chinese (kpdd.format.DEMONSTRATIONS_ZH) and
# is asked for its stages in Chinese: the problem's text says which prompt a record had.
TRANSCRIPT_PROMPT_VERSION = "kpdd-teach-transcript-1"

TRANSCRIPT_SYSTEM_PROMPT = (
    "You are a careful math teacher. For each grade-school math word problem you write three stages, "
    "in this order and in exactly this format:\n"
    f"{MARKERS[Stage.CORE_QUESTION]}\n"
    "the question actually asked, restated in one short sentence\n"
    f"{MARKERS[Stage.KEY_INFORMATION]}\n"
    "- each fact and quantity needed to answer it, one per line\n"
    "{solutions}"
    f"{END_MARKER}\n"
    "Use only numbers from the problem. Write nothing else."
)
IN_CHINESE = (
    "\nThe problem is written in Chinese: write the core question, the key information and any worked "
    "steps in Chinese (worked steps end with 答案是 and the number); a program keeps English variable names."
)
_SOLUTION_FORMAT = {
    Stage.PROGRAM: f"{MARKERS[Stage.PROGRAM]}\n"
    "a Python program that computes the answer from the key information, with meaningful variable "
    "names, one calculation per line, ending with `answer = ...`\n",
    Stage.STEPS: f"{MARKERS[Stage.STEPS]}\n"
    "the solution step by step, one calculation per line, ending with 'The answer is' and the number\n",
}


def transcript_stages(mode: Mode) -> tuple[Stage, ...]:
    """The solution stages a transcript teacher writes, in order (program first, as the student's)."""
    return {Mode.POT: (Stage.PROGRAM,), Mode.COT: (Stage.STEPS,), Mode.BOTH: (Stage.PROGRAM, Stage.STEPS)}[
        mode
    ]


def transcript_reply(problem: str, key_points: KeyPoints, program: str | None, steps: str | None) -> str:
    """The teacher's reply: the KPDD transcript after the problem (no problem stage)."""
    full = transcript(problem, key_points, program, steps)
    return full[full.index(MARKERS[Stage.CORE_QUESTION]) :]


# Rationalization (STaR, Zelikman et al. 2022): for a problem the teacher keeps getting wrong, it is
# told the answer and asked for the way there. The filter refuses a program that writes the answer
# itself (distill.teach), so what is kept computes it from the problem's numbers.
ANSWER_HINT = (
    "\n(The correct final answer is {answer}. Write the core question, the key information and a "
    "program that computes this answer from the numbers in the problem. Never write {answer} itself "
    "in the key information or the program.)"
)


def transcript_messages(
    problem: str, mode: Mode, demos: int | None = None, answer: float | None = None
) -> list[dict[str, str]]:
    """Chat messages asking for a whole KPDD transcript in one reply: system, the demonstrations as
    user/assistant turns (all by default), then the problem (with `answer` given as a hint when
    rationalizing). Everything before the problem is the same for every problem, so a batched
    teacher reads it once."""
    stages = transcript_stages(mode)
    system = TRANSCRIPT_SYSTEM_PROMPT.replace("{solutions}", "".join(_SOLUTION_FORMAT[s] for s in stages))
    if is_chinese(problem):
        system += IN_CHINESE
    messages = [{"role": "system", "content": system}]
    _header, demonstrations = demonstrations_for(problem)
    for demo in demonstrations[: len(demonstrations) if demos is None else demos]:
        kp = KeyPoints(demo.core_question, list(demo.key_information))
        program = demo.program if Stage.PROGRAM in stages else None
        steps = demo.steps if Stage.STEPS in stages else None
        messages.append({"role": "user", "content": f"Problem: {normalize_problem(demo.problem)}"})
        messages.append({"role": "assistant", "content": transcript_reply(demo.problem, kp, program, steps)})
    hint = "" if answer is None else ANSWER_HINT.format(answer=format_answer(answer))
    messages.append({"role": "user", "content": f"Problem: {normalize_problem(problem)}{hint}"})
    return messages


def stages_from_transcript(text: str, mode: Mode) -> dict[str, Any]:
    """A teacher's reply (starting after the core-question marker) as the record's stage fields."""
    parsed = parse_transcript(MARKERS[Stage.CORE_QUESTION] + "\n" + text, expect=[])
    stages = transcript_stages(mode)
    program = parsed.program if Stage.PROGRAM in stages else None
    steps = parsed.steps if Stage.STEPS in stages else None
    failure = None
    if not parsed.core_question or not parsed.key_information:
        failure = "format"
    elif all(not value for value in (program, steps)):
        failure = "no_solution"
    return {
        "core_question": parsed.core_question,
        "key_information": parsed.key_information,
        "program": program,
        "steps": steps,
        "failure": failure,
    }


def _round_up(value: int, step: int) -> int:
    return -(-value // step) * step


class GGUFChat:
    """A local GGUF chat model, prompts rendered with its own chat template and decoded `parallel` at
    a time on one llama.cpp context (continuous batching, `kpdd.llama_batch`): what prompts share at
    their start (instructions, demonstrations) is read once. The teacher and the translator use it."""

    def __init__(self, model_path: str | Path, *, parallel: int = 8, threads: int | None = None,
                 n_ctx: int | None = None, per_prompt_tokens: int = 768) -> None:  # fmt: skip
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        from kpdd import llama_log
        from kpdd.llama_backend import check_gguf_file, default_threads
        from kpdd.llama_batch import BatchedLlama

        path = check_gguf_file(model_path)
        self.name = f"gguf:{path.name}"
        threads = threads or default_threads()
        llama_log.route_llama_log()
        # The main context is never used for generation: a small one keeps memory low.
        self.llm = Llama(model_path=str(path), n_ctx=256, n_threads=threads, verbose=llama_log.verbose())
        template = self.llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise TeacherError(
                f"{path.name} has no chat template; a GGUF teacher must be a chat model.", "setup"
            )
        eos = self.llm._model.token_get_text(self.llm.token_eos())
        bos = self.llm._model.token_get_text(self.llm.token_bos()) if self.llm.token_bos() >= 0 else ""
        self._format = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)
        self.batched = BatchedLlama(
            self.llm._model, parallel=parallel, threads=threads, follow_cpu_share=True,
            n_ctx=n_ctx or _round_up(2048 + parallel * per_prompt_tokens, 1024),
        )  # fmt: skip

    def prompt(self, messages: list[dict[str, str]]) -> str:
        """The messages as the model's chat template writes them, the assistant's reply opened."""
        return self._format(messages=messages).prompt

    def close(self) -> None:
        self.batched.close()
        self.llm.close()


class GGUFTeacher:
    """A local GGUF chat model (e.g. Qwen2.5-Coder-1.5B-Instruct) writing whole KPDD transcripts.

    One reply per problem holds every stage in order (core question, key information, then the
    program and/or the steps), each written after the ones before it, as in the paper's staged
    prompting. Problems are decoded `parallel` at a time on one llama.cpp context (continuous
    batching, `kpdd.llama_batch`), and the system prompt and demonstrations, the same for every
    problem, are read once and shared through the KV cache.
    """

    kind = "gguf"
    prompt_version = TRANSCRIPT_PROMPT_VERSION

    def __init__(
        self,
        model_path: str | Path,
        sampling: Sampling,
        *,
        parallel: int = 8,
        threads: int | None = None,
        demos: int | None = None,
        n_ctx: int | None = None,
        answer_hint: bool = False,
    ) -> None:
        self.chat = GGUFChat(model_path, parallel=parallel, threads=threads, n_ctx=n_ctx,
                             per_prompt_tokens=256 + sampling.max_tokens)  # fmt: skip
        self.name = self.chat.name
        self.sampling = sampling
        self.demos = demos
        self.answer_hint = answer_hint  # rationalization: each prompt gives the gold answer
        if answer_hint:
            self.prompt_version = TRANSCRIPT_PROMPT_VERSION + "-answer-hint"
        self.tally = Tally()

    def prompt(self, problem: str, mode: Mode, answer: float | None = None) -> str:
        """The chat prompt for one problem, its reply opened with the core-question marker."""
        return (
            self.chat.prompt(transcript_messages(problem, mode, self.demos, answer))
            + MARKERS[Stage.CORE_QUESTION]
            + "\n"
        )

    def teach_many(
        self,
        jobs: Sequence[tuple[Any, int]],
        mode: Mode,
        on_done: Callable[[int, dict[str, Any]], None],
        cancel: Any = None,
    ) -> None:
        """Teach every (problem, sample) job; `on_done(job_index, stages)` as each one finishes."""
        prompts = [self.prompt(problem.question, mode, problem.answer if self.answer_hint else None)
                   for problem, _ in jobs]  # fmt: skip
        seeds = [self.sampling.seed + sample for _, sample in jobs]

        def done(index: int, generation: Any) -> None:
            self.tally.add_reply(ChatReply(generation.text, generation.finish_reason,
                                           generation.prompt_tokens, generation.completion_tokens))  # fmt: skip
            stages = stages_from_transcript(generation.text, mode)
            stages["finish_reasons"] = {"transcript": generation.finish_reason}
            stages["usage"] = {"prompt_tokens": generation.prompt_tokens,
                               "completion_tokens": generation.completion_tokens}  # fmt: skip
            on_done(index, stages)

        self.chat.batched.generate(
            prompts,
            stop=[END_MARKER, *EXTRA_STOPS],
            max_tokens=self.sampling.max_tokens,
            temperature=self.sampling.temperature,
            seeds=seeds,
            add_bos=False,  # the chat template writes any BOS itself
            cancel=cancel,
            on_done=done,
        )

    def teach(self, problem: Any, mode: Mode, sample: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        self.teach_many([(problem, sample)], mode, lambda _i, stages: out.update(stages))
        return out

    def close(self) -> None:
        self.chat.close()

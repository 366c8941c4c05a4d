"""Teachers that write KPDD rationales: gold (from GSM8K annotations), any OpenAI-compatible chat
endpoint, and a local GGUF model through llama-cpp-python.

LLM teachers are prompted in three stages, as in the KPDD paper: (1) the core question, (2) the
key information, (3) a program (PoT) or worked steps (CoT) that use them. Each stage is its own chat
with few-shot demonstrations built from `kpdd.format.DEMONSTRATIONS`, so the teacher's answers
are in exactly the shape the student is trained on.

The HTTP client is stdlib only (urllib), thread-safe, and retries timeouts, connection errors,
429 and 5xx replies and malformed JSON with exponential backoff and jitter (honouring Retry-After);
it keeps a token and cost tally across threads.
"""

from __future__ import annotations

import json
import random
import socket
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from kpdd.answers import format_answer
from kpdd.format import (
    DEMONSTRATIONS,
    END_MARKER,
    EXTRA_STOPS,
    FORMAT_VERSION,
    MARKERS,
    KeyPoints,
    Mode,
    Stage,
    clean_stage,
    format_key_information,
    normalize_problem,
    parse_key_information,
    parse_transcript,
    transcript,
)

TEACH_PROMPT_VERSION = "kpdd-teach-1"

SYSTEM_PROMPT = (
    "You are a careful math teacher. You work on grade-school math word problems one stage at a time "
    "and reply with exactly what the stage asks for, with no other text."
)
STAGE_INSTRUCTIONS: dict[Stage, str] = {
    Stage.CORE_QUESTION: "Stage 1: state the core question of this problem in one short sentence. "
    "Reply with that sentence only.",
    Stage.KEY_INFORMATION: "Stage 2: list the key information needed to answer the core question, one "
    "fact per line, each line starting with '- '. Reply with the list only.",
    Stage.PROGRAM: "Stage 3: write a Python program that answers the core question from the key "
    "information. Use meaningful variable names and store the final number in a variable named "
    "answer. Reply with the code only.",
    Stage.STEPS: "Stage 3: solve the core question step by step from the key information, one "
    "calculation per line, and end with 'The answer is' and the number.",
}


class TeacherError(Exception):
    """The teacher could not be reached or gave no usable reply after all retries (`kind` says why)."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


# -- prompts -------------------------------------------------------------------------------------


def stage_user_message(problem: str, stage: Stage, key_points: KeyPoints | None = None) -> str:
    """The user turn for one stage: the problem, the earlier stages, and the instruction."""
    parts = [f"Problem: {' '.join(problem.split())}"]
    if stage in (Stage.KEY_INFORMATION, Stage.PROGRAM, Stage.STEPS) and key_points is not None:
        parts.append(f"Core question: {key_points.core_question}")
    if stage in (Stage.PROGRAM, Stage.STEPS) and key_points is not None:
        parts.append("Key information:\n" + key_points.key_information_text())
    parts.append(STAGE_INSTRUCTIONS[stage])
    return "\n\n".join(parts)


def _demo_reply(demo: Any, stage: Stage) -> str:
    if stage == Stage.CORE_QUESTION:
        return demo.core_question
    if stage == Stage.KEY_INFORMATION:
        return format_key_information(demo.key_information)
    if stage == Stage.PROGRAM:
        return demo.program
    return demo.steps


def stage_messages(
    problem: str, stage: Stage, key_points: KeyPoints | None = None, demos: int | None = None
) -> list[dict[str, str]]:
    """Chat messages for one stage: system, the few-shot demonstrations (the first `demos` of them;
    all by default), then the problem."""
    messages = [{"role": "system", "content": SYSTEM_PROMPT}]
    for demo in DEMONSTRATIONS[: len(DEMONSTRATIONS) if demos is None else demos]:
        demo_kp = KeyPoints(demo.core_question, list(demo.key_information))
        messages.append({"role": "user", "content": stage_user_message(demo.problem, stage, demo_kp)})
        messages.append({"role": "assistant", "content": _demo_reply(demo, stage)})
    messages.append({"role": "user", "content": stage_user_message(problem, stage, key_points)})
    return messages


def clean_reply(stage: Stage, text: str) -> str:
    """A stage's text from a chat reply: drop echoed labels ("Core question:") and normalise."""
    text = (text or "").strip()
    for label in ("core question:", "key information:", "stage 1:", "stage 2:", "stage 3:", "program:"):
        if text.lower().startswith(label):
            text = text[len(label) :].strip()
    return clean_stage(stage, text)


# -- chat clients ----------------------------------------------------------------------------------


@dataclass
class ChatReply:
    text: str
    finish_reason: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass
class Tally:
    """Requests, retries, failures by kind, tokens and cost; shared by threads."""

    requests: int = 0
    retries: int = 0
    failures: Counter = field(default_factory=Counter)  # kinds of failed attempts (retried or not)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    price_in_per_mtok: float = 0.0
    price_out_per_mtok: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add_reply(self, reply: ChatReply) -> None:
        with self.lock:
            self.requests += 1
            self.prompt_tokens += reply.prompt_tokens
            self.completion_tokens += reply.completion_tokens

    def add_failure(self, kind: str, retried: bool) -> None:
        with self.lock:
            self.failures[kind] += 1
            if retried:
                self.retries += 1

    @property
    def cost(self) -> float:
        return (
            self.prompt_tokens * self.price_in_per_mtok + self.completion_tokens * self.price_out_per_mtok
        ) / 1e6

    def to_dict(self) -> dict[str, Any]:
        with self.lock:
            return {
                "requests": self.requests,
                "retries": self.retries,
                "failures": dict(self.failures),
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "cost": round(self.cost, 6),
            }


class ChatClient(Protocol):
    tally: Tally

    def complete(
        self, messages: list[dict[str, str]], *, temperature: float, max_tokens: int, seed: int | None = None
    ) -> ChatReply: ...


RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


class OpenAIChat:
    """POST /chat/completions on an OpenAI-compatible server (llama.cpp server, vLLM, hosted APIs)."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        *,
        timeout_s: float = 120.0,
        retries: int = 4,
        backoff_s: float = 1.0,
        max_backoff_s: float = 30.0,
        tally: Tally | None = None,
    ) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.tally = tally or Tally()
        self._random = random.Random()

    def _post(self, body: dict[str, Any]) -> tuple[int, bytes, dict[str, str]]:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(
            self.url, data=json.dumps(body).encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read() if exc.fp else b"", dict(exc.headers or {})

    def complete(
        self, messages: list[dict[str, str]], *, temperature: float, max_tokens: int, seed: int | None = None
    ) -> ChatReply:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": temperature,
            "max_tokens": max_tokens,
        }
        if seed is not None:
            body["seed"] = seed
        last_error = "no attempt"
        kind = "unknown"
        for attempt in range(self.retries + 1):
            retry_after: float | None = None
            try:
                status, payload, headers = self._post(body)
                if status == 200:
                    return self._parse(payload)
                kind = "http_429" if status == 429 else f"http_{status // 100}xx"
                last_error = f"HTTP {status}: {payload[:200].decode('utf-8', 'replace')}"
                if status not in RETRYABLE_STATUS and status < 500:
                    self.tally.add_failure(kind, retried=False)
                    raise TeacherError(f"{self.url}: {last_error}", kind)
                try:
                    retry_after = float(headers.get("Retry-After") or headers.get("retry-after") or "")
                except ValueError:
                    retry_after = None
            except TeacherError as exc:
                if exc.kind != "bad_reply":
                    raise
                kind, last_error = exc.kind, str(exc)
            except TimeoutError:
                kind, last_error = "timeout", f"no reply within {self.timeout_s:g}s"
            except (urllib.error.URLError, ConnectionError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                kind = "timeout" if isinstance(reason, (TimeoutError, socket.timeout)) else "connection"
                last_error = str(reason)
            except Exception as exc:  # http.client oddities on truncated replies (IncompleteRead, ...)
                kind, last_error = "bad_reply", f"{type(exc).__name__}: {exc}"
            retried = attempt < self.retries
            self.tally.add_failure(kind, retried=retried)
            if not retried:
                break
            delay = min(self.max_backoff_s, self.backoff_s * 2**attempt) * (0.5 + self._random.random() / 2)
            if retry_after is not None:
                delay = min(self.max_backoff_s, max(delay, retry_after))
            time.sleep(delay)
        raise TeacherError(f"{self.url}: {last_error} (after {self.retries + 1} attempts)", kind)

    def _parse(self, payload: bytes) -> ChatReply:
        try:
            data = json.loads(payload)
            choice = data["choices"][0]
            text = choice["message"]["content"]
            if not isinstance(text, str):
                raise TypeError("content is not text")
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise TeacherError(f"malformed reply ({exc}): {payload[:120]!r}", "bad_reply") from None
        usage = data.get("usage") or {}
        reply = ChatReply(
            text,
            str(choice.get("finish_reason") or ""),
            int(usage.get("prompt_tokens") or 0),
            int(usage.get("completion_tokens") or 0),
        )
        self.tally.add_reply(reply)
        return reply


# -- teachers ------------------------------------------------------------------------------------


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class Sampling:
    temperature: float = 0.7
    max_tokens: int = 400
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "max_tokens": self.max_tokens, "seed": self.seed}


class Teacher(Protocol):
    name: str
    kind: str
    prompt_version: str

    def teach(self, problem: Any, mode: Mode, sample: int) -> dict[str, Any]:
        """Stage texts and extras for one problem (no provenance); raises TeacherError on transport
        failure (the problem is then not recorded and a rerun tries it again)."""
        ...


class GoldTeacher:
    """Rationales derived from GSM8K's annotated solutions; programs verified in the sandbox."""

    kind = "gold"
    name = "gold"

    def __init__(self) -> None:
        from distill.gold import GOLD_PROMPT_VERSION

        self.prompt_version = GOLD_PROMPT_VERSION

    def teach(self, problem: Any, mode: Mode, sample: int) -> dict[str, Any]:
        from distill.gold import gold_rationale

        if not problem.solution:
            return {"core_question": "", "key_information": [], "program": None, "steps": None,
                    "failure": "no_solution"}  # fmt: skip
        rationale = gold_rationale(problem.question, problem.solution, problem.answer)
        return {
            "core_question": rationale.key_points.core_question,
            "key_information": rationale.key_points.key_information,
            "program": rationale.program if mode in (Mode.POT, Mode.BOTH) else None,
            "steps": rationale.steps_text if mode in (Mode.COT, Mode.BOTH) else None,
            "failure": rationale.failure,
        }


class ChatTeacher:
    """Three-stage prompting of a chat model (OpenAI-compatible server or local GGUF)."""

    prompt_version = TEACH_PROMPT_VERSION

    def __init__(
        self, client: ChatClient, name: str, kind: str, sampling: Sampling, demos: int | None = None
    ) -> None:
        self.client = client
        self.demos = demos
        self.name = name
        self.kind = kind
        self.sampling = sampling

    def _stage(
        self, problem: str, stage: Stage, key_points: KeyPoints, seed: int, usage: Counter
    ) -> tuple[str, str]:
        reply = self.client.complete(
            stage_messages(problem, stage, key_points, self.demos),
            temperature=self.sampling.temperature,
            max_tokens=self.sampling.max_tokens,
            seed=seed,
        )
        usage["prompt_tokens"] += reply.prompt_tokens
        usage["completion_tokens"] += reply.completion_tokens
        return clean_reply(stage, reply.text), reply.finish_reason

    def teach(self, problem: Any, mode: Mode, sample: int) -> dict[str, Any]:
        seed = self.sampling.seed + sample
        usage: Counter = Counter()
        finish: dict[str, str] = {}
        key_points = KeyPoints()
        key_points.core_question, finish["core_question"] = self._stage(
            problem.question, Stage.CORE_QUESTION, key_points, seed, usage
        )
        info_text, finish["key_information"] = self._stage(
            problem.question, Stage.KEY_INFORMATION, key_points, seed, usage
        )
        key_points.key_information = parse_key_information(info_text)
        program = steps = None
        if mode in (Mode.POT, Mode.BOTH):
            program, finish["program"] = self._stage(problem.question, Stage.PROGRAM, key_points, seed, usage)
        if mode in (Mode.COT, Mode.BOTH):
            steps, finish["steps"] = self._stage(problem.question, Stage.STEPS, key_points, seed, usage)
        return {
            "core_question": key_points.core_question,
            "key_information": key_points.key_information,
            "program": program,
            "steps": steps,
            "failure": None,
            "finish_reasons": finish,
            "usage": dict(usage),
        }


def teaching_pass(teacher: Any, sampling: Sampling | None) -> str:
    """How a record was obtained: "greedy" (temperature 0), "sampled" (a temperature above 0, as
    drawn for problems greedy decoding got wrong) or "rationalized" (the teacher was shown the gold
    answer and asked to reach it from the problem's numbers)."""
    if getattr(teacher, "answer_hint", False):
        return "rationalized"
    return "sampled" if sampling is not None and sampling.temperature > 0 else "greedy"


def provenance(
    teacher: Teacher, sampling: Sampling | None, data: str, reference_only: bool
) -> dict[str, Any]:
    return {
        "pass": teaching_pass(teacher, sampling),
        "teacher": teacher.name,
        "teacher_kind": teacher.kind,
        "prompt_version": teacher.prompt_version,
        "format_version": FORMAT_VERSION,
        "sampling": sampling.to_dict() if sampling is not None else None,
        "data": data,
        "reference_only": reference_only,
        "time": now_iso(),
    }


# -- a local GGUF teacher, batched ---------------------------------------------------------------

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
    messages = [{"role": "system", "content": system}]
    for demo in DEMONSTRATIONS[: len(DEMONSTRATIONS) if demos is None else demos]:
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
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        from kpdd import llama_log
        from kpdd.llama_backend import check_gguf_file, default_threads
        from kpdd.llama_batch import BatchedLlama

        path = check_gguf_file(model_path)
        self.name = f"gguf:{path.name}"
        self.sampling = sampling
        self.demos = demos
        self.answer_hint = answer_hint  # rationalization: each prompt gives the gold answer
        if answer_hint:
            self.prompt_version = TRANSCRIPT_PROMPT_VERSION + "-answer-hint"
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
        per_problem = 256 + sampling.max_tokens  # the problem's own turn, then the reply
        self.batched = BatchedLlama(
            self.llm._model, parallel=parallel, threads=threads, follow_cpu_share=True,
            n_ctx=n_ctx or _round_up(2048 + parallel * per_problem, 1024),
        )  # fmt: skip
        self.tally = Tally()

    def prompt(self, problem: str, mode: Mode, answer: float | None = None) -> str:
        """The chat prompt for one problem, its reply opened with the core-question marker."""
        rendered = self._format(messages=transcript_messages(problem, mode, self.demos, answer)).prompt
        return rendered + MARKERS[Stage.CORE_QUESTION] + "\n"

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

        self.batched.generate(
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
        self.batched.close()
        self.llm.close()

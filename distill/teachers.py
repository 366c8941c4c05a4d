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
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

from kpdd.format import (
    DEMONSTRATIONS,
    FORMAT_VERSION,
    KeyPoints,
    Mode,
    Stage,
    clean_stage,
    format_key_information,
    parse_key_information,
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


class LlamaCppChat:
    """A local GGUF teacher through llama-cpp-python (one request at a time; the model is not
    thread-safe)."""

    def __init__(
        self, model_path: str, *, n_ctx: int = 4096, threads: int | None = None, seed: int = 0
    ) -> None:
        from llama_cpp import Llama

        self.llm = Llama(model_path=str(model_path), n_ctx=n_ctx, n_threads=threads, seed=seed, verbose=False)
        self.tally = Tally()
        self._lock = threading.Lock()

    def complete(
        self, messages: list[dict[str, str]], *, temperature: float, max_tokens: int, seed: int | None = None
    ) -> ChatReply:
        with self._lock:
            try:
                out = self.llm.create_chat_completion(
                    messages=messages, temperature=temperature, max_tokens=max_tokens, seed=seed
                )
            except Exception as exc:  # llama.cpp errors (context overflow, ...) fail this problem only
                self.tally.add_failure("llama_error", retried=False)
                raise TeacherError(f"llama.cpp: {exc}", "llama_error") from exc
        usage = out.get("usage") or {}
        choice = out["choices"][0]
        reply = ChatReply(
            choice["message"].get("content") or "",
            str(choice.get("finish_reason") or ""),
            int(usage.get("prompt_tokens") or 0),
            int(usage.get("completion_tokens") or 0),
        )
        self.tally.add_reply(reply)
        return reply

    def close(self) -> None:
        self.llm.close() if hasattr(self.llm, "close") else None


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


def provenance(
    teacher: Teacher, sampling: Sampling | None, data: str, reference_only: bool
) -> dict[str, Any]:
    return {
        "teacher": teacher.name,
        "teacher_kind": teacher.kind,
        "prompt_version": teacher.prompt_version,
        "format_version": FORMAT_VERSION,
        "sampling": sampling.to_dict() if sampling is not None else None,
        "data": data,
        "reference_only": reference_only,
        "time": now_iso(),
    }

"""The client that asks an OpenAI-compatible chat endpoint (a llama.cpp server, vLLM, a hosted API)
for a teacher's replies: urllib for the request, tenacity for the retries (timeouts, lost
connections, junk, HTTP 429 and 5xx, with exponential backoff and jitter, honouring Retry-After),
and a thread-safe tally of tokens, cost and failures."""

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
from typing import Any, Protocol


class TeacherError(Exception):
    """The teacher could not be reached or gave no usable reply after all retries (`kind` says why)."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


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

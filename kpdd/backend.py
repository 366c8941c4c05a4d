"""The small protocol the staged solver generates through.

A backend turns a prompt into a continuation, streaming text pieces as they come, stopping at any
of the stop strings (which are not part of the returned text), at `max_tokens`, at the end of
sequence, or when `cancel` is set. The llama.cpp backend (`kpdd.llama_backend`) is the product's;
`distill/` adds a transformers backend and `export/` an ONNX one, all behind this protocol, so
`kpdd eval` measures every model the same way.

Backends should reuse work across calls when a prompt extends the previous prompt plus its
generated text (the solver's stages form one growing context), and say how many prompt tokens they
actually evaluated (`prompt_tokens_evaluated`) versus how many the prompt had (`prompt_tokens`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

OnText = Callable[[str], None]


class CancelToken:
    """Set from any thread to stop generation and program runs as soon as possible."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def reset(self) -> None:
        self._event.clear()


class Cancelled(Exception):
    """Raised by the solver when its CancelToken was set."""


class BackendError(Exception):
    """A model could not be loaded or run; the message is meant for the user."""


@dataclass
class Generation:
    text: str
    finish_reason: str  # "stop" | "length" | "eos" | "cancelled"
    prompt_tokens: int = 0
    prompt_tokens_evaluated: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    first_token_seconds: float | None = None


@dataclass
class ModelInfo:
    """What the solver needs to know about the model behind a backend."""

    name: str
    path: str = ""
    architecture: str = ""
    format_version: str | None = None  # a KPDD format version when trained on it
    modes: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def trained_on_format(self) -> bool:
        return bool(self.format_version)


@runtime_checkable
class Backend(Protocol):
    info: ModelInfo

    def generate(
        self,
        prompt: str,
        *,
        stop: Sequence[str],
        max_tokens: int,
        temperature: float = 0.0,
        seed: int | None = None,
        on_text: OnText | None = None,
        cancel: CancelToken | None = None,
    ) -> Generation: ...

    def count_tokens(self, text: str) -> int: ...

    def close(self) -> None: ...


# Output that is one short unit over and over ("isConnected isConnected ...", "12 + 12 + 12 + ...") never
# reaches an answer: generation stops. In a solution it is a small model looping (the solver drops that
# solution); in the one-sentence core question it is a broken model (a damaged file, the wrong format).
DEGENERATE_REPEATS = 12
DEGENERATE_UNIT_MAX = 40
DEGENERATE_MIN_TOKENS = 24


def _phrase_like(unit: str) -> bool:
    """A unit of words or of arithmetic, not a line of dashes nor the digits of a long number
    (0.3333333333333333, 1000000000000 are numbers, not loops)."""
    return any(c.isalnum() for c in unit) and any(not (c.isdigit() or c in " .,") for c in unit)


def repeated_tail(text: str) -> str | None:
    """The unit that the end of `text` repeats `DEGENERATE_REPEATS` times in a row (1 to
    `DEGENERATE_UNIT_MAX` characters, a phrase or a piece of arithmetic), or None."""
    for length in range(1, min(DEGENERATE_UNIT_MAX, len(text) // DEGENERATE_REPEATS) + 1):
        unit = text[-length:]
        if _phrase_like(unit) and text.endswith(unit * DEGENERATE_REPEATS):
            return unit
    return None


def degenerate_message(unit: str) -> str:
    """What a user reads when generation stopped on `repeated_tail`."""
    shown = " ".join(unit.split())[:30] or unit[:30]
    return (
        f'The model\'s output looks broken: it wrote "{shown}" over and over, so solving stopped. '
        "If it does this with every problem, the model file may be damaged: choose another model or set it up again."
    )


def earliest_stop(text: str, stops: Sequence[str]) -> int:
    """Index of the first stop string in `text`, or -1."""
    best = -1
    for stop in stops:
        if not stop:
            continue
        i = text.find(stop)
        if i != -1 and (best == -1 or i < best):
            best = i
    return best


def safe_prefix_length(text: str, stops: Sequence[str]) -> int:
    """How much of `text` can be streamed now without showing the start of a stop string.

    A tail of `text` that could grow into a stop string is held back until the next piece decides.
    """
    hold = 0
    for stop in stops:
        for k in range(min(len(stop) - 1, len(text)), 0, -1):
            if text.endswith(stop[:k]):
                hold = max(hold, k)
                break
    return len(text) - hold


def common_prefix_length(a: Sequence[int], b: Sequence[int]) -> int:
    """How many leading tokens two sequences share (the part of a KV cache that can be reused)."""
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class StopTextStream:
    """Generated text cut at the first stop string, streamed without ever showing part of a stop.

    Backends call `update(text)` with all text generated so far after each token; it returns True
    once a stop string appears (the text is then cut before it). `close()` streams what was held
    back. Every backend streams through this one place, so they agree on what a stop means.
    """

    def __init__(self, stops: Sequence[str], on_text: OnText | None) -> None:
        self.stops = [s for s in stops if s]
        self.on_text = on_text
        self.text = ""
        self._streamed = 0

    def update(self, text: str) -> bool:
        cut = earliest_stop(text, self.stops)
        if cut != -1:
            self.text = text[:cut]
            return True
        self.text = text
        if self.on_text is not None:
            ready = safe_prefix_length(text, self.stops)
            if text[:ready].endswith("\ufffd"):  # half of a multi-byte character: wait for the rest
                ready -= 1
            if ready > self._streamed:
                self.on_text(text[self._streamed : ready])
                self._streamed = ready
        return False

    def close(self) -> None:
        """Stream the held-back tail (call unless the generation was cancelled)."""
        if self.on_text is not None and len(self.text) > self._streamed:
            self.on_text(self.text[self._streamed :])
            self._streamed = len(self.text)

"""Many prompts decoded together on one llama.cpp context: continuous batching with a shared prefix.

On a CPU, decoding one sequence is bound by memory bandwidth (every weight is read once per token),
so decoding several sequences in one `llama_decode` costs little more than one: each weight read
serves them all. This module keeps `parallel` sequences in flight; when one finishes, the next prompt
takes its place at once (continuous batching), so a slow problem never holds the others up.

Prompts usually share a long beginning (a teacher's few-shot demonstrations, the KPDD header). The
longest common token prefix is decoded once into sequence 0 and shared with every slot through the KV
cache (`llama_memory_seq_cp`: the cells are shared, not copied), and it stays cached between calls.

Each sequence attends only to its own tokens and is sampled from its own logits (greedy: the argmax;
sampling: a generator seeded per prompt), so results equal decoding each prompt alone up to float
rounding: llama.cpp multiplies a batch with other kernels than a single token, and where two tokens
are nearly tied that rounding can pick the other one. Accuracy is the same; texts can differ.
"""

from __future__ import annotations

import ctypes
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from kpdd.backend import (
    DEGENERATE_MIN_TOKENS,
    DEGENERATE_REPEATS,
    DEGENERATE_UNIT_MAX,
    BackendError,
    CancelToken,
    Generation,
    earliest_stop,
    repeated_tail,
)

DEFAULT_PARALLEL = 8
DEFAULT_BATCH_CONTEXT = 16384  # KV cells for the shared prefix and every slot's prompt and text
N_BATCH = 512  # tokens per llama_decode call (prompt chunks of new slots plus one per running slot)
# Sampling filters, as in LlamaBackend.generate (llama.cpp's defaults).
TOP_K = 40
TOP_P = 0.95
MIN_P = 0.05
CPU_SHARE_EVERY_S = 5.0


class CpuShare:
    """How many cores the rest of the machine left to this process since the last reading.

    `idle_cores` cannot tell while we compute (our own threads keep the cores busy), so this counts
    the other programs' busy time instead: all busy time (/proc/stat) minus this process's own
    (/proc/self/stat). Long batched runs (teachers, evaluations) call `free_cores` every few seconds
    and follow it: llama.cpp's threads wait for each other spinning, so one thread sharing its core
    with a busy program stalls the rest (2 threads beside two busy programs: 104 s a problem, 1
    thread 4.9 s; bench/bench_threads.py).
    """

    def __init__(self) -> None:
        self._last = self._read()

    @staticmethod
    def _read() -> tuple[int, int, int] | None:
        """(busy ticks of all cores, all ticks, this process's ticks), or None off Linux."""
        try:
            with open("/proc/stat", encoding="ascii") as handle:
                fields = [int(v) for v in handle.readline().split()[1:9]]
            with open("/proc/self/stat", encoding="ascii") as handle:
                own = handle.read().rsplit(")", 1)[1].split()
        except (OSError, ValueError, IndexError):
            return None
        if len(fields) < 5 or len(own) < 13:
            return None
        return sum(fields) - fields[3] - fields[4], sum(fields), int(own[11]) + int(own[12])

    def free_cores(self) -> float | None:
        now = self._read()
        last, self._last = self._last, now
        if now is None or last is None or now[1] <= last[1]:
            return None
        busy, total, own = (a - b for a, b in zip(now, last))
        cores = os.cpu_count() or 1
        others = max(0.0, (busy - own) / total) * cores
        return max(0.0, cores - others)


@dataclass
class _Slot:
    """One sequence in flight: which prompt, what is left to read, what was generated."""

    seq_id: int
    index: int = -1  # the prompt's position in the call; -1 when the slot is free
    kv_tokens: list[int] = field(default_factory=list)  # what the KV cache holds, from position 0
    pending: list[int] = field(default_factory=list)  # prompt tokens not yet decoded
    prompt_tokens: int = 0
    evaluated: int = 0  # prompt tokens this generation had to decode (not reused from the cache)
    max_tokens: int = 0
    generated: list[int] = field(default_factory=list)
    text_bytes: bytearray = field(default_factory=bytearray)
    next_token: int | None = None  # sampled, not yet decoded
    started: float = 0.0
    first_token_seconds: float | None = None
    rng: np.random.Generator | None = None


# After a generation ends, the caller may continue the same sequence: (next prompt, max_tokens).
FollowUp = Callable[[int, Generation], "tuple[str, int] | None"]


class BatchedLlama:
    """A second llama.cpp context over an already loaded model, for batched generation.

    `model` is llama-cpp-python's `_internals.LlamaModel` (a `Llama` object's `_model`), so the
    weights are loaded once; `lora_adapter` is an adapter already initialised on that model.
    """

    def __init__(
        self,
        model: object,
        *,
        lora_adapter: object | None = None,
        parallel: int = DEFAULT_PARALLEL,
        n_ctx: int = DEFAULT_BATCH_CONTEXT,
        threads: int = 2,
        follow_cpu_share: bool = False,
    ) -> None:
        import llama_cpp
        from llama_cpp import _internals

        self._llama_cpp = llama_cpp
        self.model = model
        self.parallel = max(1, min(int(parallel), llama_cpp.llama_max_parallel_sequences() - 1))
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = int(n_ctx)
        params.n_batch = N_BATCH
        params.n_ubatch = N_BATCH
        params.n_seq_max = self.parallel + 1  # sequence 0 holds the shared prefix
        params.kv_unified = True  # one cache for all sequences, so the prefix cells are shared
        params.n_threads = params.n_threads_batch = int(threads)
        try:
            self.ctx = _internals.LlamaContext(model=model, params=params, verbose=False)
        except ValueError as exc:
            raise BackendError(f"llama.cpp could not make a batched context ({exc}).") from exc
        if lora_adapter is not None:
            adapters = (llama_cpp.llama_adapter_lora_p_ctypes * 1)(lora_adapter)
            scales = (ctypes.c_float * 1)(1.0)
            if llama_cpp.llama_set_adapters_lora(self.ctx.ctx, adapters, 1, scales):
                raise BackendError("llama.cpp could not apply the LoRA adapter to the batched context.")
        self.n_ctx = self.ctx.n_ctx()
        self.batch = _internals.LlamaBatch(n_tokens=N_BATCH, embd=0, n_seq_max=1, verbose=False)
        self.vocab = llama_cpp.llama_model_get_vocab(model.model)
        self.n_vocab = model.n_vocab()
        self.threads = self.max_threads = int(threads)
        # Long runs follow the cores other programs leave free (see CpuShare), checked every few seconds.
        self._cpu_share = CpuShare() if follow_cpu_share else None
        self._cpu_checked = time.monotonic()
        self.prefix: list[int] = []  # tokens cached in sequence 0
        self._pieces: dict[int, bytes] = {}

    def set_threads(self, threads: int) -> None:
        self.threads = self.max_threads = int(threads)
        self.ctx.set_n_threads(self.threads, self.threads)

    def _follow_cpu_share(self) -> None:
        if self._cpu_share is None or time.monotonic() - self._cpu_checked < CPU_SHARE_EVERY_S:
            return
        self._cpu_checked = time.monotonic()
        free = self._cpu_share.free_cores()
        if free is None:
            return
        threads = max(1, min(self.max_threads, int(free + 0.25)))
        if threads != self.threads:
            self.threads = threads
            self.ctx.set_n_threads(threads, threads)

    def close(self) -> None:
        self.batch.close()
        self.ctx.close()

    def tokenize(self, text: str, add_bos: bool = True) -> list[int]:
        return self.model.tokenize(text.encode("utf-8"), add_bos, True)

    # -- the shared prefix ---------------------------------------------------------------------

    def _cache_prefix(self, tokens: list[int]) -> None:
        """Make sequence 0 hold exactly `tokens` (reusing what it already holds)."""
        keep = 0
        while keep < min(len(self.prefix), len(tokens)) and self.prefix[keep] == tokens[keep]:
            keep += 1
        self.ctx.kv_cache_clear() if keep == 0 else self.ctx.kv_cache_seq_rm(0, keep, -1)
        for start in range(keep, len(tokens), N_BATCH):
            chunk = tokens[start : start + N_BATCH]
            self.batch.reset()
            for offset, token in enumerate(chunk):
                self._add(token, start + offset, 0, logits=False)
            self._decode()
        self.prefix = list(tokens)

    # -- generation ----------------------------------------------------------------------------

    def generate(
        self,
        prompts: Sequence[str] | Sequence[list[int]],
        *,
        stop: Sequence[str],
        max_tokens: int,
        temperature: float = 0.0,
        seed: int = 0,
        seeds: Sequence[int] | None = None,
        add_bos: bool = True,
        cancel: CancelToken | None = None,
        on_done: Callable[[int, Generation], None] | None = None,
        follow_up: FollowUp | None = None,
        is_complete: Callable[[int, str], bool] | None = None,
    ) -> list[Generation]:
        """Generate for every prompt (text or tokens); returns each prompt's last generation, in order.

        Each text is cut at its first stop string (not included). `on_done(index, generation)` is
        called as each generation finishes, in finishing order (to write results as they come).
        `follow_up(index, generation)` may return a next prompt and its max_tokens to generate next in
        the same sequence: the KV cache of the longest common token prefix is kept, so a prompt that
        extends the previous prompt plus its text (the solver's stages) costs only the new tokens.
        `is_complete(index, text)`, asked at the end of each generated line, may end a generation
        early (finish_reason "complete"): a solution whose answer line is written is over.
        Sampling (temperature > 0) seeds prompt i with `seeds[i]`, else `seed + i`. A prompt that
        does not fit its share of the context gives an empty generation with finish_reason
        "too_long". A cancel returns what finished, and "cancelled" generations for the rest.
        """
        token_lists = [p if isinstance(p, list) else self.tokenize(p, add_bos) for p in prompts]
        if not token_lists:
            return []
        for i, tokens in enumerate(token_lists):
            if not tokens:
                raise BackendError(f"Prompt {i} is empty.")
        shared = _common_prefix(token_lists)
        shared = min(shared, min(len(t) for t in token_lists) - 1)  # each slot decodes at least one token
        if shared > self.n_ctx // 2:
            raise BackendError(
                f"The prompts' common beginning ({shared} tokens) is too long for the batched context."
            )
        self._cache_prefix(token_lists[0][:shared])
        run = _BatchRun(self, token_lists, shared, stop=stop, max_tokens=max_tokens, temperature=temperature,
                        seeds=seeds if seeds is not None else [seed + i for i in range(len(token_lists))],
                        add_bos=add_bos, on_done=on_done, follow_up=follow_up,
                        is_complete=is_complete)  # fmt: skip
        return run.run(cancel)

    # -- llama.cpp calls -------------------------------------------------------------------------

    def _add(self, token: int, position: int, seq_id: int, logits: bool) -> None:
        batch = self.batch.batch
        i = batch.n_tokens
        batch.token[i] = token
        batch.pos[i] = position
        batch.n_seq_id[i] = 1
        batch.seq_id[i][0] = seq_id
        batch.logits[i] = logits
        batch.n_tokens = i + 1

    def _piece(self, token: int) -> bytes:
        """The bytes of one token (special tokens as their text), cached."""
        piece = self._pieces.get(token)
        if piece is None:
            buffer = ctypes.create_string_buffer(64)
            n = self._llama_cpp.llama_token_to_piece(self.vocab, token, buffer, len(buffer), 0, True)
            if n < 0:  # longer than the buffer: ask again with room for it
                buffer = ctypes.create_string_buffer(-n)
                n = self._llama_cpp.llama_token_to_piece(self.vocab, token, buffer, len(buffer), 0, True)
            piece = self._pieces[token] = buffer.raw[: max(0, n)]
        return piece

    def _decode(self) -> None:
        if self.batch.n_tokens() == 0:
            return
        code = self._llama_cpp.llama_decode(self.ctx.ctx, self.batch.batch)
        if code != 0:
            raise BackendError(f"llama.cpp could not decode a batch (llama_decode returned {code}).")

    def _sample(self, row: int, temperature: float, rng: np.random.Generator | None) -> int:
        pointer = self._llama_cpp.llama_get_logits_ith(self.ctx.ctx, row)
        logits = np.ctypeslib.as_array(pointer, shape=(self.n_vocab,))
        if temperature <= 0 or rng is None:
            return int(np.argmax(logits))
        top = np.argpartition(logits, -TOP_K)[-TOP_K:]
        top = top[np.argsort(logits[top])[::-1]]
        scaled = logits[top].astype(np.float64) / temperature
        probs = np.exp(scaled - scaled[0])
        probs /= probs.sum()
        keep = int(np.searchsorted(np.cumsum(probs), TOP_P) + 1)
        keep = max(1, min(keep, int((probs >= MIN_P * probs[0]).sum())))
        probs = probs[:keep] / probs[:keep].sum()
        return int(top[rng.choice(keep, p=probs)])


def _common_prefix(token_lists: Sequence[list[int]]) -> int:
    first = token_lists[0]
    n = min(len(t) for t in token_lists)
    for i in range(n):
        token = first[i]
        if any(t[i] != token for t in token_lists):
            return i
    return n


class _BatchRun:
    """One `BatchedLlama.generate` call: the slots in flight, the prompts waiting, the results.

    Each step adds one token per running slot (its last sampled token) and chunks of the prompts
    of slots that just started, decodes them together, then samples every slot whose logits came.
    """

    def __init__(self, engine: BatchedLlama, token_lists: list[list[int]], shared: int, *, stop: Sequence[str],
                 max_tokens: int, temperature: float, seeds: Sequence[int], add_bos: bool,
                 on_done: Callable[[int, Generation], None] | None, follow_up: FollowUp | None,
                 is_complete: Callable[[int, str], bool] | None) -> None:  # fmt: skip
        self.engine, self.token_lists, self.shared = engine, token_lists, shared
        self.stop, self.max_tokens, self.temperature, self.seeds = stop, max_tokens, temperature, seeds
        self.add_bos, self.on_done, self.follow_up, self.is_complete = (
            add_bos,
            on_done,
            follow_up,
            is_complete,
        )
        self.results: list[Generation | None] = [None] * len(token_lists)
        self.slots = [_Slot(seq_id=s) for s in range(1, engine.parallel + 1)]
        for slot in self.slots:
            engine.ctx.kv_cache_seq_rm(slot.seq_id, -1, -1)
        # Every slot may use an equal share of the cells left after the shared prefix.
        self.slot_cells = (engine.n_ctx - shared) // len(self.slots)
        self.queue = list(range(len(token_lists)))
        self.longest_stop = max((len(s) for s in stop), default=0)

    def run(self, cancel: CancelToken | None) -> list[Generation]:
        engine = self.engine
        for slot in self.slots:
            self.start(slot)
        while any(slot.index >= 0 for slot in self.slots):
            if cancel is not None and cancel.cancelled:
                break
            engine._follow_cpu_share()
            sampled_at = self.fill_batch()
            engine._decode()
            for slot, row in sampled_at:
                self.take_token(slot, engine._sample(row, self.temperature, slot.rng))
        for slot in self.slots:
            if slot.index >= 0:
                self.results[slot.index] = Generation("", "cancelled", slot.prompt_tokens, 0, 0, 0.0)
                slot.index = -1
            engine.ctx.kv_cache_seq_rm(slot.seq_id, -1, -1)
        return [
            r if r is not None else Generation("", "cancelled", len(self.token_lists[i]), 0, 0, 0.0)
            for i, r in enumerate(self.results)
        ]

    def fill_batch(self) -> list[tuple[_Slot, int]]:
        """Put this step's tokens in the batch; returns (slot, batch row whose logits it samples)."""
        engine = self.engine
        engine.batch.reset()
        sampled_at: list[tuple[_Slot, int]] = []
        for slot in self.slots:
            if slot.index >= 0 and slot.next_token is not None:
                sampled_at.append((slot, engine.batch.n_tokens()))
                engine._add(slot.next_token, len(slot.kv_tokens), slot.seq_id, logits=True)
                slot.kv_tokens.append(slot.next_token)
                slot.next_token = None
        for slot in self.slots:
            room = N_BATCH - engine.batch.n_tokens()
            if slot.index < 0 or not slot.pending or room <= 0:
                continue
            chunk, slot.pending = slot.pending[:room], slot.pending[room:]
            for offset, token in enumerate(chunk):
                last = not slot.pending and offset == len(chunk) - 1
                if last:
                    sampled_at.append((slot, engine.batch.n_tokens()))
                engine._add(token, len(slot.kv_tokens), slot.seq_id, logits=last)
                slot.kv_tokens.append(token)
        return sampled_at

    def take_token(self, slot: _Slot, token: int) -> None:
        """A sampled token: the end of the slot's text, or its next token."""
        engine = self.engine
        if slot.first_token_seconds is None:
            slot.first_token_seconds = time.perf_counter() - slot.started
        if engine._llama_cpp.llama_vocab_is_eog(engine.vocab, token):
            self.finish(slot, "eos")
            return
        slot.generated.append(token)
        piece = engine._piece(token)
        slot.text_bytes += piece
        # A stop string can only end in the newest piece: look at the tail only.
        tail = bytes(slot.text_bytes[-(self.longest_stop * 4 + 64) :]).decode("utf-8", errors="replace")
        if self.stop and earliest_stop(tail, self.stop) != -1:
            self.finish(slot, "stop")
        elif (
            self.is_complete is not None
            and b"\n" in piece
            and self.is_complete(slot.index, slot.text_bytes.decode("utf-8", errors="replace"))
        ):
            self.finish(slot, "complete")
        elif len(slot.generated) >= slot.max_tokens:
            self.finish(slot, "length")
        elif self.degenerate(slot):
            self.finish(slot, "degenerate")  # a broken model repeating itself: never an answer
        else:
            slot.next_token = token

    @staticmethod
    def degenerate(slot: _Slot) -> bool:
        """Looked at every 8 tokens: a periodic tail stays periodic wherever it is cut."""
        count = len(slot.generated)
        if count < DEGENERATE_MIN_TOKENS or count % 8:
            return False
        tail = bytes(slot.text_bytes[-4 * DEGENERATE_REPEATS * DEGENERATE_UNIT_MAX :])
        return repeated_tail(tail.decode("utf-8", errors="replace")) is not None

    def begin(self, slot: _Slot, tokens: list[int], limit: int) -> bool:
        """Point `slot` at a new prompt, keeping the cached tokens it shares; False if too long."""
        keep = min(_common_prefix([slot.kv_tokens, tokens]), len(tokens) - 1)
        if len(tokens) + limit > self.shared + self.slot_cells:
            return False
        self.engine.ctx.kv_cache_seq_rm(slot.seq_id, keep, -1)
        slot.kv_tokens = slot.kv_tokens[:keep]
        slot.pending = list(tokens[keep:])
        slot.prompt_tokens, slot.evaluated, slot.max_tokens = len(tokens), len(tokens) - keep, limit
        slot.generated, slot.text_bytes, slot.next_token = [], bytearray(), None
        slot.started, slot.first_token_seconds = time.perf_counter(), None
        return True

    def start(self, slot: _Slot) -> None:
        """Give `slot` the next waiting prompt that fits (or nothing: index -1)."""
        ctx = self.engine.ctx
        while self.queue:
            index = self.queue.pop(0)
            slot.index = index
            slot.rng = np.random.default_rng(self.seeds[index]) if self.temperature > 0 else None
            ctx.kv_cache_seq_rm(slot.seq_id, -1, -1)
            slot.kv_tokens = list(self.token_lists[index][: self.shared])
            if self.shared:
                ctx.kv_cache_seq_cp(0, slot.seq_id, 0, self.shared)
            if self.begin(slot, self.token_lists[index], self.max_tokens):
                return
            self.report(slot, Generation("", "too_long", len(self.token_lists[index]), 0, 0, 0.0))
        slot.index = -1

    def report(self, slot: _Slot, generation: Generation) -> tuple[str, int] | None:
        """Record a finished generation; returns the follow-up prompt for the same sequence, if any."""
        self.results[slot.index] = generation
        if self.on_done is not None:
            self.on_done(slot.index, generation)
        if self.follow_up is None or generation.finish_reason in ("cancelled", "too_long"):
            return None
        return self.follow_up(slot.index, generation)

    def finish(self, slot: _Slot, reason: str) -> None:
        text = slot.text_bytes.decode("utf-8", errors="replace")
        cut = earliest_stop(text, self.stop)
        if cut != -1:
            text, reason = text[:cut], "stop"
        generation = Generation(
            text=text,
            finish_reason=reason,
            prompt_tokens=slot.prompt_tokens,
            prompt_tokens_evaluated=slot.evaluated,
            completion_tokens=len(slot.generated),
            seconds=time.perf_counter() - slot.started,
            first_token_seconds=slot.first_token_seconds,
        )
        following = self.report(slot, generation)
        while following is not None:
            prompt, limit = following
            if self.begin(slot, self.engine.tokenize(prompt, self.add_bos), limit):
                return
            following = self.report(slot, Generation("", "too_long", 0, 0, 0, 0.0))
        self.engine.ctx.kv_cache_seq_rm(slot.seq_id, -1, -1)
        slot.kv_tokens = []
        self.start(slot)

"""Many prompts decoded together on one llama.cpp context: continuous batching with a shared prefix.

On a CPU, decoding one sequence is bound by memory bandwidth (every weight is read once per token),
so decoding several sequences in one `llama_decode` costs little more than one: each weight read
serves them all. This module keeps `parallel` sequences in flight; when one finishes, the next prompt
takes its place at once (continuous batching), so a slow problem never holds the others up.

Prompts usually share a long beginning (a teacher's few-shot demonstrations, the KPDD header). The
longest common token prefix is decoded once into sequence 0 and shared with every slot through the KV
cache (`llama_memory_seq_cp`: the cells are shared, not copied), and it stays cached between calls.

Results are the same as decoding each prompt alone, up to float rounding in batched matrix products:
greedy decoding takes the argmax of each sequence's own logits, and sampling draws from a generator
seeded per prompt (`seed + index`), so a prompt's text does not depend on what it was batched with.
"""

from __future__ import annotations

import ctypes
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from kpdd.backend import BackendError, CancelToken, Generation, earliest_stop

DEFAULT_PARALLEL = 8
DEFAULT_BATCH_CONTEXT = 16384  # KV cells for the shared prefix and every slot's prompt and text
N_BATCH = 512  # tokens per llama_decode call (prompt chunks of new slots plus one per running slot)
# Sampling filters, as in LlamaBackend.generate (llama.cpp's defaults).
TOP_K = 40
TOP_P = 0.95
MIN_P = 0.05


@dataclass
class _Slot:
    """One sequence in flight: which prompt, what is left to read, what was generated."""

    seq_id: int
    index: int = -1  # the prompt's position in the call; -1 when the slot is free
    pending: list[int] = field(default_factory=list)  # prompt tokens not yet decoded
    position: int = 0  # position of the next token in this sequence
    prompt_tokens: int = 0
    generated: list[int] = field(default_factory=list)
    text_bytes: bytearray = field(default_factory=bytearray)
    next_token: int | None = None  # sampled, not yet decoded
    started: float = 0.0
    first_token_seconds: float | None = None
    rng: np.random.Generator | None = None


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
        self.prefix: list[int] = []  # tokens cached in sequence 0
        self._pieces: dict[int, bytes] = {}

    def set_threads(self, threads: int) -> None:
        self.ctx.set_n_threads(int(threads), int(threads))

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
    ) -> list[Generation]:
        """Generate for every prompt (text or tokens); results in prompt order.

        Sampling (temperature > 0) seeds prompt i with `seeds[i]`, else `seed + i`.
        Each text is cut at its first stop string (not included). `on_done(index, generation)` is
        called as each one finishes, in finishing order (to write results as they come). A cancel
        returns what finished, and "cancelled" generations for the rest.
        """
        token_lists = [p if isinstance(p, list) else self.tokenize(p, add_bos) for p in prompts]
        results: list[Generation | None] = [None] * len(token_lists)
        if not token_lists:
            return []
        for i, tokens in enumerate(token_lists):
            if not tokens:
                raise BackendError(f"Prompt {i} is empty.")
        shared = _common_prefix(token_lists)
        shared = min(shared, min(len(t) for t in token_lists) - 1)  # each slot decodes at least one token
        longest = max(len(t) - shared for t in token_lists) + max_tokens
        if shared + longest > self.n_ctx:
            raise BackendError(
                f"A prompt is too long for the batched context ({shared + longest} of {self.n_ctx} tokens)."
            )
        self._cache_prefix(token_lists[0][:shared])
        budget = self.n_ctx - shared  # KV cells left for the slots' own tokens
        slots = [_Slot(seq_id=s) for s in range(1, self.parallel + 1)]
        for slot in slots:
            self.ctx.kv_cache_seq_rm(slot.seq_id, -1, -1)
        queue = list(range(len(token_lists)))
        reserved: dict[int, int] = {}  # seq_id -> KV cells its current prompt may use

        def start(slot: _Slot) -> bool:
            if not queue:
                return False
            need = len(token_lists[queue[0]]) - shared + max_tokens
            if sum(reserved.values()) + need > budget:
                return False
            index = queue.pop(0)
            tokens = token_lists[index]
            slot.index, slot.pending, slot.position = index, list(tokens[shared:]), shared
            slot.prompt_tokens, slot.generated, slot.text_bytes = len(tokens), [], bytearray()
            slot.next_token, slot.first_token_seconds = None, None
            slot.started = time.perf_counter()
            prompt_seed = seeds[index] if seeds is not None else seed + index
            slot.rng = np.random.default_rng(prompt_seed) if temperature > 0 else None
            reserved[slot.seq_id] = need
            if shared:
                self.ctx.kv_cache_seq_cp(0, slot.seq_id, 0, shared)
            return True

        def finish(slot: _Slot, reason: str) -> None:
            text = slot.text_bytes.decode("utf-8", errors="replace")
            cut = earliest_stop(text, stop)
            if cut != -1:
                text, reason = text[:cut], "stop"
            generation = Generation(
                text=text,
                finish_reason=reason,
                prompt_tokens=slot.prompt_tokens,
                prompt_tokens_evaluated=slot.prompt_tokens - shared,
                completion_tokens=len(slot.generated),
                seconds=time.perf_counter() - slot.started,
                first_token_seconds=slot.first_token_seconds,
            )
            results[slot.index] = generation
            if on_done is not None:
                on_done(slot.index, generation)
            self.ctx.kv_cache_seq_rm(slot.seq_id, -1, -1)
            reserved.pop(slot.seq_id, None)
            slot.index = -1

        for slot in slots:
            start(slot)
        while any(slot.index >= 0 for slot in slots):
            if cancel is not None and cancel.cancelled:
                break
            self.batch.reset()
            sampled_at: list[tuple[_Slot, int]] = []  # (slot, batch row whose logits it samples)
            for slot in slots:
                if slot.index >= 0 and slot.next_token is not None:
                    sampled_at.append((slot, self.batch.n_tokens()))
                    self._add(slot.next_token, slot.position, slot.seq_id, logits=True)
                    slot.position += 1
                    slot.next_token = None
            for slot in slots:
                room = N_BATCH - self.batch.n_tokens()
                if slot.index < 0 or not slot.pending or room <= 0:
                    continue
                chunk, slot.pending = slot.pending[:room], slot.pending[room:]
                for offset, token in enumerate(chunk):
                    last = not slot.pending and offset == len(chunk) - 1
                    if last:
                        sampled_at.append((slot, self.batch.n_tokens()))
                    self._add(token, slot.position, slot.seq_id, logits=last)
                    slot.position += 1
            self._decode()
            for slot, row in sampled_at:
                token = self._sample(row, temperature, slot.rng)
                if slot.first_token_seconds is None:
                    slot.first_token_seconds = time.perf_counter() - slot.started
                if self._llama_cpp.llama_vocab_is_eog(self.vocab, token):
                    finish(slot, "eos")
                    continue
                slot.generated.append(token)
                slot.text_bytes += self._piece(token)
                # A stop string can only end in the newest piece: look at the tail only.
                tail = bytes(slot.text_bytes[-(max(map(len, stop), default=0) * 4 + 64) :])
                if stop and earliest_stop(tail.decode("utf-8", errors="replace"), stop) != -1:
                    finish(slot, "stop")
                elif len(slot.generated) >= max_tokens:
                    finish(slot, "length")
                else:
                    slot.next_token = token
            for slot in slots:
                if slot.index < 0:
                    start(slot)
        for slot in slots:
            if slot.index >= 0:
                finish(slot, "cancelled")
        return [
            r if r is not None else Generation("", "cancelled", len(token_lists[i]), 0, 0, 0.0)
            for i, r in enumerate(results)
        ]

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

"""The llama.cpp backend (llama-cpp-python), the one the app and the CLI ship with.

It keeps one context alive between calls: llama-cpp-python reuses the longest prefix of tokens that
is already in its KV cache, and the solver's stages form one growing prompt, so each later stage only
evaluates the text added since the last one. The prompt is evaluated in chunks with a cancellation
check between them, so Stop is honoured quickly even while a long prompt is being read.
"""

from __future__ import annotations

import codecs
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kpdd import llama_log
from kpdd.backend import (
    DEGENERATE_MIN_TOKENS,
    BackendError,
    CancelToken,
    Generation,
    ModelInfo,
    OnText,
    StopTextStream,
    common_prefix_length,
    repeated_tail,
)
from kpdd.format import GGUF_KEY_BASE_MODEL, GGUF_KEY_FORMAT_VERSION, GGUF_KEY_MODES
from kpdd.gguf_file import check_gguf_file, read_header
from kpdd.llama_batch import DEFAULT_PARALLEL, BatchedLlama, FollowUp

DEFAULT_CONTEXT = 4096
# Prompt evaluation runs in chunks with a cancellation check between them. Chunks start small and
# grow while one takes less than CHUNK_SECONDS, so Stop answers within a fraction of a second on a
# slow or busy machine while a fast one still evaluates in large, efficient batches.
FIRST_PROMPT_CHUNK = 16
MAX_PROMPT_CHUNK = 512
CHUNK_SECONDS = 0.1


IDLE_SAMPLE_SECONDS = 0.2


def idle_cores(sample_s: float = IDLE_SAMPLE_SECONDS) -> float | None:
    """How many cores sat idle over the last `sample_s` seconds (Linux's /proc/stat), else None."""

    def read() -> tuple[int, int] | None:
        try:
            with open("/proc/stat", encoding="ascii") as handle:
                fields = [int(v) for v in handle.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        if len(fields) < 5:
            return None
        return fields[3] + fields[4], sum(fields[:8])  # idle + iowait, all but guest time

    first = read()
    if first is None:
        return None
    time.sleep(sample_s)
    second = read()
    if second is None or second[1] <= first[1]:
        return None
    return (os.cpu_count() or 1) * (second[0] - first[0]) / (second[1] - first[1])


def default_threads() -> int:
    """Threads for generation when none are asked for (the CLI): the cores that are idle now, at
    most all of them on small machines and all but one on larger ones.

    llama.cpp's threads wait for each other at every step, spinning: one thread that has to share
    its core with another busy program holds the others up. On this 2-core machine
    (bench/bench_threads.py, the default student in PoT, median of 4 problems): idle, 2 threads
    1.92 s and 1 thread 3.00 s; one core busy, 6.17 s against 3.19 s; both busy, 104 s against 4.93 s.
    """
    return threads_for(os.cpu_count() or 2, idle_cores())


def threads_for(cores: int, idle: float | None) -> int:
    """`default_threads`' rule: all cores up to 4, all but one above; no more than are idle (when known)."""
    wanted = cores if cores <= 4 else cores - 1
    if idle is None:
        return wanted
    return max(1, min(wanted, round(idle)))


# read_gguf_metadata's results by (path, size, mtime): skipping a 150k-token vocabulary string by
# string takes about half a second, and the model list is read before every solve.
_METADATA_CACHE: dict[tuple[str, int, int], dict[str, Any]] = {}


def read_gguf_metadata(path: str | Path) -> dict[str, Any]:
    """Key-value metadata of a GGUF file, read without loading its tensors (no llama.cpp needed).

    Only scalar and string values are returned (arrays such as the vocabulary are skipped). Raises
    BackendError for files that are not valid GGUF. A file read before, unchanged since (same size
    and modification time), is not read again.
    """
    path = check_gguf_file(path)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _METADATA_CACHE:
        _METADATA_CACHE[key] = read_header(path).metadata
    return dict(_METADATA_CACHE[key])


def model_info_from_metadata(path: str | Path, metadata: dict[str, Any]) -> ModelInfo:
    modes = str(metadata.get(GGUF_KEY_MODES, "") or "")
    architecture = str(metadata.get("general.architecture", ""))
    name = str(metadata.get("general.name", "") or Path(path).stem)
    return ModelInfo(
        name=name,
        path=str(path),
        architecture=architecture,
        format_version=str(metadata[GGUF_KEY_FORMAT_VERSION])
        if metadata.get(GGUF_KEY_FORMAT_VERSION)
        else None,
        modes=tuple(m.strip() for m in modes.split(",") if m.strip()),
        extra={k: str(v) for k, v in metadata.items() if k == GGUF_KEY_BASE_MODEL},
    )


CHECK_PROMPT = "### Problem\nTom has 3 apples and buys 5 more. How many apples does he have?\n"


def last_logits(llm: Any) -> Any:  # a llama_cpp.Llama -> a numpy array
    """The logits after the last token `llm.eval` took. Not `llm.scores`: without `logits_all`,
    llama-cpp-python no longer copies them there (0.3.x), and that row stays zeros."""
    import llama_cpp
    import numpy as np

    pointer = llama_cpp.llama_get_logits_ith(llm.ctx, -1)
    return np.ctypeslib.as_array(pointer, shape=(llm.n_vocab(),)).copy()


def check_generates(
    path: Path, lora_path: Path | None = None, n_tokens: int = 8, threads: int | None = None
) -> str:
    """Load a GGUF (and adapter) in llama.cpp and generate a few greedy tokens; return the text.
    Raises BackendError when it does not load, its logits are not finite, or nothing comes out:
    a file written by our own tools (an export, a merge) is only given its name after this."""
    import numpy as np
    from llama_cpp import Llama

    name = path.name.removesuffix(".partial").lstrip(".")  # a work file ".NAME.partial" is NAME
    try:
        llm = Llama(
            model_path=str(path),
            lora_path=str(lora_path) if lora_path else None,
            n_ctx=256,
            n_threads=threads or min(4, os.cpu_count() or 1),
            verbose=False,
        )
    except Exception as exc:  # llama-cpp-python raises ValueError/RuntimeError for bad files
        raise BackendError(f"{name} does not load in llama.cpp: {exc}") from exc
    try:
        tokens = llm.tokenize(CHECK_PROMPT.encode(), add_bos=True)
        llm.eval(tokens)
        if not np.all(np.isfinite(last_logits(llm))):
            raise BackendError(f"{name} loads but produces non-finite logits.")
        out: list[int] = []
        for token in llm.generate(tokens, temp=0.0, top_k=1, reset=False):
            if token == llm.token_eos() or len(out) >= n_tokens:
                break
            out.append(token)
        return llm.detokenize(out).decode("utf-8", errors="replace")
    finally:
        llm.close()


class LlamaBackend:
    """A GGUF model in llama.cpp, with an optional LoRA adapter applied at load time."""

    def __init__(
        self,
        model_path: str | Path,
        *,
        lora_path: str | Path | None = None,
        n_ctx: int = DEFAULT_CONTEXT,
        threads: int | None = None,
        seed: int = 0,
    ) -> None:
        path = check_gguf_file(model_path)
        metadata = read_gguf_metadata(path)
        lora_metadata: dict[str, Any] = {}
        if lora_path is not None:
            lora_path = check_gguf_file(lora_path)
            # A KPDD adapter carries the format version; the base model usually does not.
            lora_metadata = read_gguf_metadata(lora_path)
        self.info = model_info_from_metadata(path, {**metadata, **{
            k: v for k, v in lora_metadata.items() if k.startswith("kpdd.")}})  # fmt: skip
        if lora_path is not None:
            self.info.name = f"{self.info.name} + {Path(lora_path).stem}"
        self.threads = threads or default_threads()
        self.seed = seed
        try:
            import llama_cpp
        except ImportError as exc:  # pragma: no cover - setup installs it
            raise BackendError(
                "llama-cpp-python is not installed. Run the setup command from the README."
            ) from exc
        self._llama_cpp = llama_cpp
        llama_log.route_llama_log()
        try:
            self.llm = llama_cpp.Llama(
                model_path=str(path),
                lora_path=str(lora_path) if lora_path else None,
                n_ctx=n_ctx,
                n_threads=self.threads,
                n_threads_batch=self.threads,
                seed=seed,
                verbose=llama_log.verbose(),
            )
        except Exception as exc:  # llama.cpp reports load failures as ValueError/RuntimeError
            raise BackendError(
                f"llama.cpp could not load {path.name}: the file may be corrupt, truncated, or use a "
                f"model architecture this llama.cpp does not support ({exc})."
            ) from exc
        self.n_ctx = self.llm.n_ctx()
        self._batched: BatchedLlama | None = None  # over the same weights, made on first use
        self.batch_parallel = DEFAULT_PARALLEL

    def set_threads(self, threads: int) -> None:
        """Run the next calls on `threads` threads, without reloading the model (llama.cpp takes a
        new count between calls): the app picks the cores idle before each solve."""
        threads = max(1, int(threads))
        if threads != self.threads:
            self.llm._ctx.set_n_threads(threads, threads)
            self.llm.n_threads = self.llm.n_threads_batch = threads
            self.threads = threads
            if self._batched is not None:
                self._batched.set_threads(threads)

    # -- protocol ------------------------------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def close(self) -> None:
        if getattr(self, "_batched", None) is not None:
            self._batched.close()
            self._batched = None
        llm = getattr(self, "llm", None)
        if llm is not None:
            llm.close()
            self.llm = None  # type: ignore[assignment]

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
    ) -> Generation:
        started = time.perf_counter()
        llm = self.llm
        tokens = llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
        if len(tokens) + max_tokens > self.n_ctx:
            max_tokens = self.n_ctx - len(tokens)
            if max_tokens < 16:
                raise BackendError(
                    f"The problem is too long for this model's context ({len(tokens)} of "
                    f"{self.n_ctx} tokens used by the prompt). Shorten the problem."
                )
        reused = self._evaluate_prompt(tokens, cancel)
        if reused is None:
            return Generation("", "cancelled", len(tokens), 0, 0, time.perf_counter() - started)

        llm.set_seed(self.seed if seed is None else seed)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        stream = StopTextStream(stop, on_text)
        text = ""
        finish = "length"
        completion_tokens = 0
        first_token_seconds: float | None = None
        vocab = llm._model.vocab
        sampling = {"temp": temperature, "top_k": 40, "top_p": 0.95, "min_p": 0.05, "repeat_penalty": 1.0}
        for token in llm.generate(tokens, reset=True, **sampling):
            if first_token_seconds is None:
                first_token_seconds = time.perf_counter() - started
            if self._llama_cpp.llama_vocab_is_eog(vocab, token):
                finish = "eos"
                break
            completion_tokens += 1
            text += decoder.decode(llm.detokenize([token], special=True))
            if stream.update(text):
                finish = "stop"
                break
            if completion_tokens >= DEGENERATE_MIN_TOKENS and repeated_tail(text):
                finish = "degenerate"
                break
            if cancel is not None and cancel.cancelled:
                finish = "cancelled"
                break
            if completion_tokens >= max_tokens:
                break
        if finish != "cancelled":
            stream.close()
        text = stream.text
        return Generation(
            text=text,
            finish_reason=finish,
            prompt_tokens=len(tokens),
            prompt_tokens_evaluated=len(tokens) - reused,
            completion_tokens=completion_tokens,
            seconds=time.perf_counter() - started,
            first_token_seconds=first_token_seconds,
        )

    def batched_context(self) -> BatchedLlama:
        """The batched context over this model's weights (made on first use; `batch_parallel` slots)."""
        if self._batched is None:
            self._batched = BatchedLlama(
                self.llm._model, lora_adapter=self.llm._lora_adapter, threads=self.threads,
                parallel=self.batch_parallel, follow_cpu_share=True,
            )  # fmt: skip
        return self._batched

    def generate_batch(
        self,
        prompts: Sequence[str],
        *,
        stop: Sequence[str],
        max_tokens: int,
        temperature: float = 0.0,
        seed: int | None = None,
        follow_up: FollowUp | None = None,
        is_complete: Callable[[int, str], bool] | None = None,
    ) -> list[Generation]:
        """Generate for many prompts at once: continuous batching on a second llama.cpp context over
        the same weights (`kpdd.llama_batch`), for `kpdd eval` and batch solving; the app streams one
        problem at a time through `generate`. `follow_up` continues a prompt's sequence with its next
        stage, keeping its KV cache (see `BatchedLlama.generate`)."""
        return self.batched_context().generate(
            prompts, stop=stop, max_tokens=max_tokens, temperature=temperature,
            seed=self.seed if seed is None else seed, follow_up=follow_up, is_complete=is_complete,
        )  # fmt: skip

    def _evaluate_prompt(self, tokens: list[int], cancel: CancelToken | None) -> int | None:
        """Bring the KV cache up to all but the last prompt token, in cancellable chunks.

        Returns how many tokens were already cached (reused), or None when cancelled. The last
        token is left for `Llama.generate`, which evaluates it to get fresh logits.
        """
        llm = self.llm
        reused = common_prefix_length(llm.input_ids[: llm.n_tokens].tolist(), tokens)
        target = len(tokens) - 1
        reused = min(reused, target)
        llm.n_tokens = reused
        position = reused
        chunk = FIRST_PROMPT_CHUNK
        while position < target:
            if cancel is not None and cancel.cancelled:
                return None
            end = min(target, position + chunk)
            started = time.perf_counter()
            llm.eval(tokens[position:end])
            if time.perf_counter() - started < CHUNK_SECONDS / 2:
                chunk = min(MAX_PROMPT_CHUNK, chunk * 2)
            elif time.perf_counter() - started > CHUNK_SECONDS * 2:
                chunk = max(FIRST_PROMPT_CHUNK, chunk // 2)
            position = end
        return reused

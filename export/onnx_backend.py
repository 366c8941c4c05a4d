"""A generation backend over an exported ONNX decoder (onnxruntime + tokenizers; no torch).

The model folder is what `kpdd export onnx` writes (onnxruntime-genai's model builder layout):
`model.onnx` (+ `model.onnx.data`), `genai_config.json` (input/output names, layer and head counts),
`tokenizer.json`, and `kpdd_model.json` with the KPDD metadata when the model was trained on the format.

The decoder takes `input_ids`, `attention_mask` and the past keys/values per layer and returns
`logits` and the present keys/values, so generation is one token per step (O(n)). Like the llama.cpp
backend, it keeps the KV cache of the previous call and only evaluates the new part of a prompt that
extends it (the solver's stages form one growing prompt).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kpdd.backend import (
    BackendError,
    CancelToken,
    Generation,
    ModelInfo,
    OnText,
    StopTextStream,
    common_prefix_length,
)

MODEL_INFO_FILE = "kpdd_model.json"
PROMPT_CHUNK = 256  # prompt tokens per forward pass; cancellation is checked between chunks


class OnnxBackend:
    """`kpdd.backend.Backend` over an ONNX decoder with KV cache."""

    def __init__(
        self, model_dir: str | os.PathLike[str], threads: int | None = None, seed: int | None = None
    ) -> None:
        import numpy as np
        import onnxruntime as ort
        from tokenizers import Tokenizer

        folder = Path(model_dir).expanduser()
        config_path = folder / "genai_config.json"
        if not config_path.is_file():
            raise BackendError(f"{folder} is not an exported ONNX model folder (no genai_config.json).")
        try:
            config = json.loads(config_path.read_text(encoding="utf-8"))["model"]
            decoder = config["decoder"]
            options = ort.SessionOptions()
            if threads:
                options.intra_op_num_threads = threads
            options.log_severity_level = 3
            self._session = ort.InferenceSession(
                str(folder / decoder["filename"]), options, providers=["CPUExecutionProvider"]
            )
            self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        except (OSError, KeyError, ValueError, RuntimeError) as exc:
            raise BackendError(f"Cannot load the ONNX model in {folder}: {exc}") from exc
        self._np = np
        self._rng = np.random.default_rng(seed)
        self._layers = int(decoder["num_hidden_layers"])
        self._kv_heads = int(decoder["num_key_value_heads"])
        self._head_size = int(decoder["head_size"])
        names = decoder["inputs"]
        self._past_key = names["past_key_names"]
        self._past_value = names["past_value_names"]
        self._eos = {int(t) for t in np.atleast_1d(config.get("eos_token_id", []))}
        self.context_length = int(config.get("context_length", 2048))
        past_type = next(i.type for i in self._session.get_inputs() if i.name == self._past_key % 0)
        self._kv_dtype = np.float16 if "float16" in past_type else np.float32
        self._output_names = [o.name for o in self._session.get_outputs()]
        extra = {}
        info_path = folder / MODEL_INFO_FILE
        kpdd: dict[str, Any] = {}
        if info_path.is_file():
            kpdd = json.loads(info_path.read_text(encoding="utf-8"))
        if kpdd.get("provenance"):
            extra["provenance"] = json.dumps(kpdd["provenance"], sort_keys=True)
        if kpdd.get("base_model"):
            extra["base_model"] = str(kpdd["base_model"])
        modes = kpdd.get("modes") or ()
        if isinstance(modes, str):
            modes = [m for m in modes.split(",") if m]
        self.info = ModelInfo(
            name=folder.resolve().name,
            path=str(folder),
            architecture=str(config.get("type", "")),
            format_version=kpdd.get("format_version") or None,
            modes=tuple(modes),
            extra=extra,
        )
        self._tokens: list[int] = []  # tokens whose keys/values are in the cache
        self._past: list[Any] = self._empty_past()

    def _empty_past(self) -> list[Any]:
        shape = (1, self._kv_heads, 0, self._head_size)
        return [self._np.zeros(shape, dtype=self._kv_dtype) for _ in range(2 * self._layers)]

    def _forward(self, ids: Sequence[int]) -> Any:
        """Run new tokens through the decoder after the cached ones; return the last logits row."""
        np = self._np
        total = len(self._tokens) + len(ids)
        feeds: dict[str, Any] = {
            "input_ids": np.asarray([ids], dtype=np.int64),
            "attention_mask": np.ones((1, total), dtype=np.int64),
        }
        for layer in range(self._layers):
            feeds[self._past_key % layer] = self._past[2 * layer]
            feeds[self._past_value % layer] = self._past[2 * layer + 1]
        outputs = self._session.run(None, feeds)
        by_name = dict(zip(self._output_names, outputs, strict=True))
        self._past = []
        for layer in range(self._layers):
            self._past.append(by_name[f"present.{layer}.key"])
            self._past.append(by_name[f"present.{layer}.value"])
        self._tokens.extend(int(t) for t in ids)
        return by_name["logits"][0, -1]

    def _rewind(self, keep: int) -> None:
        """Keep the cache of the first `keep` tokens only."""
        if keep >= len(self._tokens):
            return
        if keep == 0:
            self._past = self._empty_past()
        else:
            self._past = [p[:, :, :keep, :] for p in self._past]
        self._tokens = self._tokens[:keep]

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)

    def tokenize(self, text: str) -> list[int]:
        return list(self._tokenizer.encode(text, add_special_tokens=False).ids)

    def detokenize(self, ids: Sequence[int]) -> str:
        return self._tokenizer.decode(list(ids), skip_special_tokens=False)

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
        np = self._np
        start = time.perf_counter()
        ids = self.tokenize(prompt)
        if not ids:
            raise BackendError("Empty prompt.")
        if len(ids) + max_tokens > self.context_length:
            max_tokens = max(0, self.context_length - len(ids))
        # Reuse the cached prefix; always evaluate at least the last prompt token to get logits.
        common = min(common_prefix_length(self._tokens, ids), len(ids) - 1)
        self._rewind(common)
        evaluated = len(ids) - common
        logits = None
        for i in range(common, len(ids), PROMPT_CHUNK):
            if cancel is not None and cancel.cancelled:
                return Generation("", "cancelled", len(ids), evaluated, 0, time.perf_counter() - start)
            logits = self._forward(ids[i : i + PROMPT_CHUNK])
        rng = np.random.default_rng(seed) if seed is not None else self._rng
        out: list[int] = []
        stream = StopTextStream(stop, on_text)
        finish = "length"
        first_token_seconds: float | None = None
        while len(out) < max_tokens:
            if cancel is not None and cancel.cancelled:
                finish = "cancelled"
                break
            token = self._pick(logits, temperature, rng)
            if first_token_seconds is None:
                first_token_seconds = time.perf_counter() - start
            if token in self._eos:
                finish = "eos"
                break
            out.append(token)
            if stream.update(self.detokenize(out)):
                finish = "stop"
                break
            if len(out) >= max_tokens:
                break
            logits = self._forward([token])
        if finish != "cancelled":
            stream.close()
        return Generation(
            text=stream.text,
            finish_reason=finish,
            prompt_tokens=len(ids),
            prompt_tokens_evaluated=evaluated,
            completion_tokens=len(out),
            seconds=time.perf_counter() - start,
            first_token_seconds=first_token_seconds,
        )

    def _pick(self, logits: Any, temperature: float, rng: Any) -> int:
        np = self._np
        if temperature <= 0:
            return int(np.argmax(logits))
        scaled = logits.astype(np.float64) / temperature
        scaled -= scaled.max()
        probs = np.exp(scaled)
        probs /= probs.sum()
        return int(rng.choice(len(probs), p=probs))

    def greedy_tokens(self, prompt_ids: Sequence[int], n: int) -> list[int]:
        """The first `n` greedy tokens after `prompt_ids` (for parity checks), from a fresh cache."""
        self._rewind(0)
        logits = self._forward(list(prompt_ids))
        out: list[int] = []
        for _ in range(n):
            token = int(self._np.argmax(logits))
            out.append(token)
            if token in self._eos:
                break
            logits = self._forward([token])
        return out

    def close(self) -> None:
        self._past = []
        self._tokens = []
        self._session = None  # type: ignore[assignment]

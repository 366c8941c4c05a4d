"""A transformers backend behind `kpdd.backend.Backend`, for `kpdd eval --backend hf`.

It opens a training run directory (`kpdd_run.json`: the base model plus the LoRA adapter, merged for
speed, or the full fine-tuned weights), a plain Hugging Face model folder, or a GGUF file. `generate`
streams one sequence token by token with a KV cache that is kept between calls: when a prompt
extends the previous prompt plus its generated text (the solver's stages), only the new tokens are
evaluated. `generate_batch` runs many prompts at once (left padding) for batched evaluation.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from distill.hf_models import load_base
from distill.run_info import RUN_FILE
from kpdd.backend import (
    BackendError,
    CancelToken,
    Generation,
    ModelInfo,
    OnText,
    StopTextStream,
    common_prefix_length,
    earliest_stop,
)


class HFBackend:
    """Generation with a transformers causal LM (CPU or GPU)."""

    def __init__(
        self,
        path: str | Path,
        *,
        seed: int = 0,
        device: str | None = None,
        dtype: str | None = None,
        threads: int | None = None,
    ) -> None:
        import torch

        if threads:
            torch.set_num_threads(threads)
        self.seed = seed
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        if dtype is None:
            torch_dtype = torch.bfloat16 if self.device.startswith("cuda") else torch.float32
        else:
            torch_dtype = getattr(torch, dtype)
        source = Path(path).expanduser()
        run: dict[str, Any] = {}
        try:
            if (source / RUN_FILE).is_file():
                run = json.loads((source / RUN_FILE).read_text(encoding="utf-8"))
                self.model, self.tokenizer = self._load_run(source, run, torch_dtype)
            else:
                self.model, self.tokenizer = load_base(str(source), torch_dtype)
        except (OSError, ValueError) as exc:
            raise BackendError(f"Could not load the model at {source}: {exc}") from exc
        self.model.to(self.device)
        self.model.eval()
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        config = self.model.config
        self.info = ModelInfo(
            name=source.stem if source.suffix == ".gguf" else source.name,
            path=str(source),
            architecture=str(getattr(config, "model_type", "")),
            format_version=run.get("format_version"),
            modes=tuple(run.get("modes", ())),
            extra={"backend": "hf", "device": self.device, "base_model": str(run.get("base_model", ""))},
        )
        self._cache: Any = None
        self._cache_ids: list[int] = []

    @staticmethod
    def _load_run(run_dir: Path, run: dict[str, Any], dtype: Any) -> tuple[Any, Any]:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(str(run_dir))
        if run.get("adapter"):
            from peft import PeftModel

            base_path = run.get("base_model_path", "")
            if not base_path or not Path(base_path).exists():
                raise ValueError(
                    f"the run's base model {base_path!r} is missing (kpdd_run.json base_model_path)"
                )
            base, _ = load_base(base_path, dtype)
            model = PeftModel.from_pretrained(base, str(run_dir)).merge_and_unload()
        else:
            model = AutoModelForCausalLM.from_pretrained(str(run_dir), dtype=dtype)
        return model, tokenizer

    # -- Backend protocol -------------------------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text).input_ids)

    def tokenize(self, text: str) -> list[int]:
        """Token ids of `text` alone (no special tokens): the ids export's check feeds every variant."""
        return list(self.tokenizer(text, add_special_tokens=False).input_ids)

    def greedy_tokens(self, prompt_ids: Sequence[int], n: int) -> tuple[list[int], float]:
        """The first `n` greedy tokens after `prompt_ids` (fewer at an end-of-sequence token), and the
        seconds spent after the first one (decode only): the float reference of `kpdd export check`."""
        import torch
        from transformers import DynamicCache

        eos = self.model.config.eos_token_id
        ends = set(eos if isinstance(eos, list) else [eos]) | {self.tokenizer.eos_token_id}
        cache, pending, out, first = DynamicCache(), list(prompt_ids), [], time.perf_counter()
        with torch.no_grad():
            while True:
                inputs = torch.tensor([pending], device=self.device)
                step = self.model(input_ids=inputs, past_key_values=cache, use_cache=True)
                cache, token = step.past_key_values, int(step.logits[0, -1].argmax())
                out.append(token)
                if len(out) == 1:
                    first = time.perf_counter()
                if len(out) >= n or token in ends:
                    return out, time.perf_counter() - first
                pending = [token]

    def close(self) -> None:
        self._cache = None
        self._cache_ids = []

    def _sample(self, logits: Any, temperature: float, generator: Any) -> Any:
        import torch

        if temperature <= 0:
            return torch.argmax(logits, dim=-1)
        probs = torch.softmax(logits.float() / temperature, dim=-1)
        return torch.multinomial(probs, 1, generator=generator).squeeze(-1)

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
        import torch
        from transformers import DynamicCache

        started = time.perf_counter()
        ids = self.tokenizer(prompt).input_ids
        if not ids:
            ids = [self.tokenizer.bos_token_id or self.tokenizer.eos_token_id]
        reuse = common_prefix_length(self._cache_ids, ids) if self._cache is not None else 0
        reuse = min(reuse, len(ids) - 1)  # at least one token is evaluated to get logits
        if reuse > 0:
            extra = len(self._cache_ids) - reuse
            if extra > 0:  # transformers 5: a negative count removes that many tokens from the end
                self._cache.crop(-extra)
            cache = self._cache
        else:
            cache = DynamicCache()
        fed = list(ids[:reuse])
        generator = torch.Generator(device=self.device).manual_seed(self.seed if seed is None else seed)
        eos = self.tokenizer.eos_token_id
        generated: list[int] = []
        stream = StopTextStream(stop, on_text)
        finish = "length"
        first_token: float | None = None
        pending = ids[reuse:]
        with torch.no_grad():
            for _ in range(max_tokens):
                if cancel is not None and cancel.cancelled:
                    finish = "cancelled"
                    break
                inputs = torch.tensor([pending], device=self.device)
                out = self.model(input_ids=inputs, past_key_values=cache, use_cache=True)
                cache = out.past_key_values
                fed.extend(pending)
                token = int(self._sample(out.logits[0, -1], temperature, generator))
                if first_token is None:
                    first_token = time.perf_counter() - started
                if eos is not None and token == eos:
                    finish = "eos"
                    break
                generated.append(token)
                if stream.update(self.tokenizer.decode(generated, skip_special_tokens=True)):
                    finish = "stop"
                    break
                pending = [token]
        if finish != "cancelled":
            stream.close()
        text = stream.text
        self._cache, self._cache_ids = cache, fed
        return Generation(
            text=text,
            finish_reason=finish,
            prompt_tokens=len(ids),
            prompt_tokens_evaluated=len(ids) - reuse,
            completion_tokens=len(generated),
            seconds=time.perf_counter() - started,
            first_token_seconds=first_token,
        )

    def generate_batch(
        self,
        prompts: Sequence[str],
        *,
        stop: Sequence[str],
        max_tokens: int,
        temperature: float = 0.0,
        seed: int | None = None,
    ) -> list[Generation]:
        """Generate for many prompts at once (left-padded); each result is cut at its first stop."""
        import torch

        if not prompts:
            return []
        started = time.perf_counter()
        tokenizer = self.tokenizer
        side = tokenizer.padding_side
        tokenizer.padding_side = "left"
        try:
            batch = tokenizer(list(prompts), return_tensors="pt", padding=True).to(self.device)
        finally:
            tokenizer.padding_side = side
        torch.manual_seed(self.seed if seed is None else seed)
        kwargs: dict[str, Any] = {"do_sample": temperature > 0, "max_new_tokens": max_tokens}
        if temperature > 0:
            kwargs["temperature"] = temperature
        else:
            kwargs.update(temperature=None, top_p=None, top_k=None)
        if stop:
            kwargs.update(stop_strings=list(stop), tokenizer=tokenizer)
        with torch.no_grad():
            output = self.model.generate(**batch, pad_token_id=tokenizer.pad_token_id, **kwargs)
        seconds = time.perf_counter() - started
        width = batch["input_ids"].shape[1]
        results = []
        for row, prompt_mask in zip(output, batch["attention_mask"], strict=True):
            new = row[width:].tolist()
            eos = tokenizer.eos_token_id
            finish = "length"
            if eos is not None and eos in new:
                new = new[: new.index(eos)]
                finish = "eos"
            pad = tokenizer.pad_token_id
            while new and new[-1] == pad and pad != eos:
                new.pop()
            text = tokenizer.decode(new, skip_special_tokens=True)
            cut = earliest_stop(text, stop)
            if cut != -1:
                text, finish = text[:cut], "stop"
            n_prompt = int(prompt_mask.sum())
            results.append(Generation(text, finish, n_prompt, n_prompt, len(new), seconds, None))
        return results

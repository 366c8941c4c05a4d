"""A training recipe: every knob of a run with its meaning (`Recipe`, saved as recipe.json in the run
directory), read from a TOML or JSON file plus command-line overrides, and checked as it loads: an
unknown key, a value of the wrong type, an unknown precision or example style is refused with the
key's name (`load_recipe`)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import tomllib

from kpdd.format import EXAMPLE_STYLES


@dataclass
class Recipe:
    """Everything a training run needs; saved as recipe.json in the run directory."""

    base_model: str = ""
    data: list[str] = field(default_factory=list)
    out: str = "runs/kpdd-student"
    lora: bool = True
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_targets: str = "all-linear"  # or a comma-separated list of module names
    # A finished LoRA run (its directory, or the adapter GGUF it shipped as) whose adapter this run
    # starts from: continued training on more data in a later sitting. Its target modules are kept;
    # rank, alpha and base must match.
    init_adapter: str = ""
    include_transcript: bool = False
    # "stages": one example per stage (prompt = transcript so far); "transcripts": one example per
    # solution kind running through all stages (about 3x fewer tokens for the same targets);
    # "plain": the solution straight after the problem, no key points (the ablation).
    examples: str = "stages"
    seq_len: int = 512
    packing: bool = True
    batch_size: int = 8
    grad_accum: int = 1
    learning_rate: float = 2e-4
    weight_decay: float = 0.0
    warmup_ratio: float = 0.03
    min_lr_ratio: float = 0.1
    max_grad_norm: float = 1.0
    epochs: float = 1.0
    max_steps: int = 0  # > 0 overrides epochs
    eval_fraction: float = 0.02
    eval_every: int = 100
    eval_batches: int = 20
    save_every: int = 200
    keep_checkpoints: int = 2
    log_every: int = 10
    seed: int = 0
    # auto: bf16 autocast where the hardware computes in bf16 (GPUs that support it, CPUs with
    # AVX512-BF16 or AMX), else fp32; bf16 | fp32 force one.
    precision: str = "auto"
    threads: int = 0  # CPU threads for torch (0: torch's default)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


PRECISIONS = ("auto", "bf16", "fp32")


def _coerce(key: str, value: Any, kind: Any) -> Any:
    """A recipe value as its field's type: converted from a string (the command line), checked from a
    file; a wrong type is refused with the key's name (`lora_r = 1.5` does not train a rank-1 adapter)."""
    kind = str(kind)
    try:
        if isinstance(value, str) and kind != "str":
            if kind == "bool":
                value = {"1": True, "true": True, "yes": True, "on": True,
                         "0": False, "false": False, "no": False, "off": False}[value.lower()]  # fmt: skip
            elif kind == "int":
                value = int(value)
            elif kind == "float":
                value = float(value)
            elif "list" in kind:
                value = [v for v in value.split(",") if v]
    except (KeyError, ValueError):
        raise ValueError(f"Recipe key {key}: {value!r} is not a {kind}.") from None
    ok = {
        "bool": isinstance(value, bool),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
        "str": isinstance(value, str),
    }.get(kind, isinstance(value, list) and all(isinstance(v, str) for v in value))
    if not ok:
        raise ValueError(f"Recipe key {key}: {value!r} is not a {kind}.")
    return float(value) if kind == "float" else value


def load_recipe(path: str | Path | None, overrides: dict[str, Any] | None = None) -> Recipe:
    """A recipe from a .json or .toml file (or defaults), then `overrides` (command-line values)."""
    values: dict[str, Any] = {}
    if path:
        path = Path(path)
        text = path.read_text(encoding="utf-8")
        values = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        if isinstance(values.get("train"), dict):  # [train] table in TOML
            values = values["train"]
    values.update(overrides or {})
    known = {f.name: f.type for f in fields(Recipe)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f"Unknown recipe keys: {', '.join(unknown)} (known: {', '.join(known)})")
    recipe = Recipe(**{k: _coerce(k, v, known[k]) for k, v in values.items()})
    if recipe.precision not in PRECISIONS:
        raise ValueError(f"Recipe key precision: {recipe.precision!r} is not one of {', '.join(PRECISIONS)}.")
    if recipe.examples not in EXAMPLE_STYLES:
        raise ValueError(
            f"Recipe key examples: {recipe.examples!r} is not one of {', '.join(EXAMPLE_STYLES)}."
        )
    if not recipe.base_model:
        raise ValueError("The recipe needs base_model (a Hugging Face model folder or a GGUF file).")
    if not recipe.data:
        raise ValueError("The recipe needs data (filtered JSONL files from `kpdd filter`).")
    return recipe

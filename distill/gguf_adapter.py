"""A shipped LoRA adapter GGUF back into a PEFT adapter folder that a later run continues.

`kpdd export gguf --route adapter` turns a run's PEFT adapter into llama.cpp's LoRA GGUF (f16), and
that file is what the project commits (`resources/models/`); the run folder with the PEFT weights
stays on the machine that trained it. A later sitting, often on a fresh machine, continues training
from the shipped file: this module inverts llama.cpp's `convert_lora_to_gguf.py` for the
architectures we train (qwen2 and llama) and writes a folder `init_adapter` accepts:
`adapter_config.json`, `adapter_model.safetensors` and `kpdd_run.json` with the provenance the GGUF
carries. The weights come back at f16 precision (the shipped adapter is f16), which is what the app
has been running.

    .venv/bin/python -m distill.gguf_adapter resources/models/kpdd-qwen05b-s6-lora-f16.gguf \\
        --base ~/.local/share/kpdd-tutor/models/Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf -o runs/kpdd-qwen05b-s6-imported

A recipe may also name the GGUF file as `init_adapter` directly (`distill.train` imports it here).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

from distill.run_info import RUN_FILE, RUN_FORMAT

# llama.cpp's tensor names for the linear layers a KPDD LoRA adapts -> the Hugging Face module path
# under `model.layers.N` (gguf-py's TensorNameMap, for the two architectures we train).
GGUF_TO_HF_MODULE = {
    "attn_q": "self_attn.q_proj",
    "attn_k": "self_attn.k_proj",
    "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj",
    "ffn_gate": "mlp.gate_proj",
    "ffn_up": "mlp.up_proj",
    "ffn_down": "mlp.down_proj",
}
SUPPORTED_ARCHITECTURES = ("qwen2", "llama")
TENSOR_NAME = re.compile(r"^blk\.(\d+)\.([a-z_]+)\.weight\.lora_([ab])$")


class AdapterImportError(ValueError):
    """The file is not a LoRA adapter GGUF this module can turn back into PEFT weights."""


def _field(reader: Any, key: str, default: Any = None) -> Any:
    field = reader.fields.get(key)
    return default if field is None else field.contents()


def _head_counts(base: Path, architecture: str) -> tuple[int, int]:
    """(attention heads, key/value heads) of the base: llama.cpp permutes llama's q and k rows."""
    if base.is_dir():
        config = json.loads((base / "config.json").read_text(encoding="utf-8"))
        heads = int(config["num_attention_heads"])
        return heads, int(config.get("num_key_value_heads") or heads)
    from gguf import GGUFReader

    reader = GGUFReader(str(base))
    heads = int(_field(reader, f"{architecture}.attention.head_count"))
    return heads, int(_field(reader, f"{architecture}.attention.head_count_kv", heads))


def _unpermute(rows: Any, n_head: int) -> Any:
    """The inverse of llama.cpp's `LlamaModel.permute` on the output rows of a q or k projection."""
    shape = rows.shape
    return rows.reshape(n_head, shape[0] // n_head // 2, 2, *shape[1:]).swapaxes(1, 2).reshape(shape)


def read_lora_gguf(adapter: Path, base: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The PEFT state dict (float32 tensors, PEFT's key names) and the adapter's metadata
    (architecture, r, alpha, target modules, modes, provenance). Raises AdapterImportError."""
    import numpy as np
    import torch
    from gguf import GGUFReader

    try:
        reader = GGUFReader(str(adapter))
    except Exception as exc:  # a truncated or foreign file: say which and why
        raise AdapterImportError(f"{adapter} is not a readable GGUF file ({exc}).") from exc
    if _field(reader, "general.type") != "adapter" or _field(reader, "adapter.type") != "lora":
        raise AdapterImportError(f"{adapter} is not a LoRA adapter GGUF (general.type is not 'adapter').")
    architecture = _field(reader, "general.architecture")
    if architecture not in SUPPORTED_ARCHITECTURES:
        raise AdapterImportError(
            f"{adapter} is a {architecture} adapter; only {', '.join(SUPPORTED_ARCHITECTURES)} can be imported."
        )
    n_head = n_head_kv = 0
    if architecture == "llama":
        n_head, n_head_kv = _head_counts(base, architecture)
    state: dict[str, Any] = {}
    ranks, modules = set(), set()
    for tensor in reader.tensors:
        match = TENSOR_NAME.match(tensor.name)
        if match is None or match.group(2) not in GGUF_TO_HF_MODULE:
            raise AdapterImportError(f"{adapter}: unexpected tensor {tensor.name}.")
        layer, kind, side = int(match.group(1)), match.group(2), match.group(3)
        rows = np.asarray(tensor.data, dtype=np.float32)  # numpy order: (r, in) for A, (out, r) for B
        if side == "b" and kind in ("attn_q", "attn_k"):
            rows = _unpermute(rows, n_head if kind == "attn_q" else n_head_kv) if n_head else rows
        ranks.add(rows.shape[0] if side == "a" else rows.shape[1])
        module = GGUF_TO_HF_MODULE[kind]
        modules.add(module.split(".")[-1])
        key = f"base_model.model.model.layers.{layer}.{module}.lora_{side.upper()}.weight"
        state[key] = torch.from_numpy(rows.copy())
    if len(ranks) != 1:
        raise AdapterImportError(f"{adapter}: tensors of different ranks {sorted(ranks)}.")
    provenance = _field(reader, "kpdd.provenance")
    modes = _field(reader, "kpdd.modes")
    meta = {
        "architecture": architecture,
        "r": ranks.pop(),
        "alpha": float(_field(reader, "adapter.lora.alpha")),
        "target_modules": sorted(modules),
        "modes": modes.split(",") if modes else [],
        "format_version": _field(reader, "kpdd.format_version", ""),
        "provenance": json.loads(provenance) if provenance else {},
    }
    return state, meta


def import_lora_gguf(adapter: str | Path, base: str | Path, out: str | Path) -> Path:
    """Write `out` as a PEFT adapter folder with a `kpdd_run.json`, ready for `init_adapter`."""
    from peft import LoraConfig
    from safetensors.torch import save_file

    adapter, base, out = Path(adapter).expanduser(), Path(base).expanduser(), Path(out)
    if not base.exists():
        raise AdapterImportError(f"The base model {base} does not exist.")
    state, meta = read_lora_gguf(adapter, base)
    out.mkdir(parents=True, exist_ok=True)
    config = LoraConfig(
        r=meta["r"],
        lora_alpha=int(meta["alpha"]) if float(meta["alpha"]).is_integer() else meta["alpha"],
        lora_dropout=0.0,
        target_modules=meta["target_modules"],
        task_type="CAUSAL_LM",
        base_model_name_or_path=str(base.resolve()),
    )
    config.save_pretrained(str(out))
    save_file(state, str(out / "adapter_model.safetensors"))
    provenance = dict(meta["provenance"])
    provenance["imported_from"] = {
        "path": str(adapter.resolve()),
        "sha256": hashlib.sha256(adapter.read_bytes()).hexdigest(),
    }
    run = {
        "run_format": RUN_FORMAT,
        "format_version": meta["format_version"],
        "modes": meta["modes"],
        "base_model": base.stem if base.suffix == ".gguf" else base.name,
        "base_model_path": str(base.resolve()),
        "adapter": True,
        "provenance": provenance,
    }
    (out / RUN_FILE).write_text(json.dumps(run, indent=1), encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("adapter", help="a LoRA adapter GGUF (kpdd export gguf --route adapter)")
    parser.add_argument(
        "--base", required=True, help="the base model it was trained over (GGUF or HF folder)"
    )
    parser.add_argument("-o", "--out", required=True, help="the PEFT adapter folder to write")
    args = parser.parse_args(argv)
    try:
        out = import_lora_gguf(args.adapter, args.base, args.out)
    except AdapterImportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f'wrote {out} (continue it with init_adapter = "{out}")')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

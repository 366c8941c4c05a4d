"""What an export reads: a Hugging Face model folder, a PEFT LoRA adapter, or a KPDD training run.

A **KPDD training run directory** (written by `distill/`) is a Hugging Face model folder *or* a PEFT
adapter folder with one extra file, `kpdd_run.json`::

    {
      "format_version": "kpdd-1",            # kpdd.format.FORMAT_VERSION the model was trained on
      "modes": ["pot", "cot"],               # or "pot,cot"
      "base_model": "SmolLM2-135M-Instruct", # a name for people (written to kpdd.base_model)
      "provenance": {"teacher": "...", "data": "...", "training_run": "...", "date": "..."},
      "adapter": true,                       # optional; true for a LoRA run (adapter_config.json also says so)
      "base_model_path": "/path/to/base"     # LoRA runs: the base as a HF folder or a GGUF file
    }

`base_model_path` may be relative to the run folder. Any other keys are kept in the provenance.
A plain Hugging Face folder (no `kpdd_run.json`) exports with no `kpdd.*` metadata: the app then
treats it as a model not trained on the format and prompts it few-shot.
A folder with `adapter_config.json` is an adapter; its base comes from `--base`, else from
`kpdd_run.json`'s `base_model_path`, else from `base_model_name_or_path` in `adapter_config.json` when
that is a local path (never from the hub).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from export.errors import ExportError

RUN_FILE = "kpdd_run.json"
ADAPTER_CONFIG = "adapter_config.json"
WEIGHT_PATTERNS = ("*.safetensors", "pytorch_model*.bin")


@dataclass
class RunInfo:
    """The KPDD facts of a training run (what goes into the GGUF's kpdd.* keys)."""

    format_version: str
    modes: tuple[str, ...] = ()
    base_model: str = ""
    provenance: dict[str, Any] = field(default_factory=dict)
    adapter: bool = False
    base_model_path: str | None = None


@dataclass
class ExportSource:
    """A resolved export input."""

    path: Path  # the model or adapter folder
    name: str  # used for output file names
    adapter: bool = False
    base: Path | None = None  # adapters: the base model, a HF folder or a GGUF file
    run: RunInfo | None = None

    @property
    def base_is_gguf(self) -> bool:
        return self.base is not None and self.base.is_file()


def read_run_info(folder: Path) -> RunInfo | None:
    """Parse `kpdd_run.json` in `folder`; None when the folder is not a KPDD run."""
    path = folder / RUN_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ExportError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or not data.get("format_version"):
        raise ExportError(f"{path} must be a JSON object with at least 'format_version'.")
    modes = data.get("modes") or ()
    if isinstance(modes, str):
        modes = [m for m in modes.split(",")]
    provenance = data.get("provenance") or {}
    if not isinstance(provenance, dict):
        provenance = {"note": str(provenance)}
    known = {"format_version", "modes", "base_model", "provenance", "adapter", "base_model_path"}
    for key, value in data.items():
        if key not in known:
            provenance.setdefault(key, value)
    return RunInfo(
        format_version=str(data["format_version"]),
        modes=tuple(str(m).strip() for m in modes if str(m).strip()),
        base_model=str(data.get("base_model") or ""),
        provenance=provenance,
        adapter=bool(data.get("adapter", False)),
        base_model_path=data.get("base_model_path"),
    )


def _resolve_base(folder: Path, value: str | None) -> Path | None:
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = (folder / path).resolve()
    return path


def resolve_source(path: str | Path, base: str | Path | None = None, name: str | None = None) -> ExportSource:
    """Check an export input and say what it is; raise ExportError with a plain message if unusable."""
    folder = Path(path).expanduser()
    if not folder.exists():
        raise ExportError(f"Input folder not found: {folder}")
    if not folder.is_dir():
        raise ExportError(f"{folder} is not a folder; give a Hugging Face model, adapter or KPDD run folder.")
    run = read_run_info(folder)
    adapter = (folder / ADAPTER_CONFIG).is_file()
    if run is not None and run.adapter and not adapter:
        raise ExportError(f"{folder / RUN_FILE} says this is a LoRA run, but {ADAPTER_CONFIG} is missing.")
    if adapter:
        if not any(folder.glob("adapter_model.*")):
            raise ExportError(f"{folder} has {ADAPTER_CONFIG} but no adapter_model.safetensors/.bin.")
        base_path = _resolve_base(folder, str(base) if base else None)
        if base_path is None and run is not None:
            base_path = _resolve_base(folder, run.base_model_path)
        if base_path is None:
            config = json.loads((folder / ADAPTER_CONFIG).read_text(encoding="utf-8"))
            candidate = _resolve_base(folder, config.get("base_model_name_or_path"))
            if candidate is not None and candidate.exists():
                base_path = candidate
        if base_path is None:
            raise ExportError(
                f"{folder} is a LoRA adapter; say which base model it applies to with --base "
                "(a Hugging Face folder or a GGUF file) or 'base_model_path' in kpdd_run.json."
            )
        if not base_path.exists():
            raise ExportError(f"Base model not found: {base_path}")
        if base_path.is_dir():
            check_hf_folder(base_path)
        elif not base_path.name.endswith(".gguf"):
            raise ExportError(f"Base model {base_path} is neither a Hugging Face folder nor a .gguf file.")
    else:
        base_path = None
        check_hf_folder(folder)
    return ExportSource(
        path=folder,
        name=name or folder.resolve().name,
        adapter=adapter,
        base=base_path,
        run=run,
    )


def check_hf_folder(folder: Path) -> dict[str, Any]:
    """A Hugging Face model folder needs config.json and weights; return the config."""
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise ExportError(f"{folder} has no config.json; it is not a Hugging Face model folder.")
    if not any(p for pattern in WEIGHT_PATTERNS for p in folder.glob(pattern)):
        raise ExportError(f"{folder} has no model weights (*.safetensors or pytorch_model*.bin).")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ExportError(f"{config_path} is not valid JSON: {exc}") from exc
    return config


def architecture(config: dict[str, Any]) -> str:
    """The architecture name llama.cpp's converter dispatches on (first of `architectures`)."""
    arches = config.get("architectures") or []
    text_arches = (config.get("text_config") or {}).get("architectures") or []
    if text_arches:
        return str(text_arches[0])
    return str(arches[0]) if arches else str(config.get("model_type", ""))


def parameter_count(folder: Path) -> int:
    """Number of weights in a HF folder, from the safetensors headers (cheap) or file sizes."""
    from safetensors import safe_open  # reads the header only; no tensor is loaded

    total = 0
    files = sorted(folder.glob("*.safetensors"))
    for path in files:
        with safe_open(str(path), framework="numpy") as handle:
            for key in handle.keys():
                count = 1
                for dim in handle.get_slice(key).get_shape():
                    count *= dim
                total += count
    if not files:
        # pytorch_model.bin: assume 32-bit weights.
        total = sum(p.stat().st_size for p in folder.glob("pytorch_model*.bin")) // 4
    return total

"""KPDD metadata in GGUF files: which keys, how they are written, how they are read back.

Keys (defined in kpdd.format): `kpdd.format_version` (e.g. "kpdd-1"), `kpdd.modes` (comma-separated,
e.g. "pot,cot"), `kpdd.base_model` (a name), `kpdd.provenance` (a JSON object as a string: teacher,
data, training run, date, ...). All are GGUF strings. They are written once into the f16 file right
after conversion; `llama_model_quantize` copies every key into the quantized files, so q8_0/q4_k_m
carry them too (the tests check this).

Writing copies the file through the `gguf` package's reader and writer (a new file with the extra keys
and the same tensors), because the converter has no option for custom keys.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from export.source import RunInfo
from kpdd.format import (
    GGUF_KEY_BASE_MODEL,
    GGUF_KEY_FORMAT_VERSION,
    GGUF_KEY_MODES,
    GGUF_KEY_PROVENANCE,
)
from kpdd.format import GGUF_KPDD_KEYS as KPDD_KEYS
from kpdd.gguf_merge import write_like, writer_like


def kpdd_metadata(run: RunInfo | None, converter: str = "") -> dict[str, str]:
    """The kpdd.* key values for a run (empty for a model not trained on the KPDD format)."""
    if run is None:
        return {}
    provenance = dict(run.provenance)
    if converter:
        provenance.setdefault("converter", converter)
    return {
        GGUF_KEY_FORMAT_VERSION: run.format_version,
        GGUF_KEY_MODES: ",".join(run.modes),
        GGUF_KEY_BASE_MODEL: run.base_model,
        GGUF_KEY_PROVENANCE: json.dumps(provenance, sort_keys=True, ensure_ascii=False),
    }


def _names_a_local_path(name: str, value: object) -> bool:
    """A `general.base_model.*` or `general.tags` entry that llama.cpp's converter made from a local
    folder taken for a Hugging Face id ("https://huggingface.co//home/...", "base_model:adapter:/..."):
    it would ship the training machine's paths inside the file."""
    if name.startswith("general.base_model."):
        return True  # without a hub id there is no base_model to name; kpdd.base_model says it
    return name == "general.tags" and any(str(tag).startswith("base_model:") for tag in value or [])


def copy_with_metadata(src: Path, dst: Path, extra: dict[str, str]) -> None:
    """Write `src` to `dst` with the string keys in `extra` added (replacing same-named keys). The
    converter's base-model fields go when they name a local path (`_names_a_local_path`)."""
    import gguf

    reader = gguf.GGUFReader(str(src))
    urls = [str(f.contents()) for f in reader.fields.values() if f.name.endswith(".repo_url")]
    local = any("huggingface.co//" in url for url in urls)
    write_like(reader, writer_like(reader, dst, extra, drop=_names_a_local_path if local else None))
    del reader


def read_metadata(path: str | Path, keys: tuple[str, ...] | None = None) -> dict[str, Any]:
    """String and scalar metadata of a GGUF file (arrays such as the vocabulary are skipped)."""
    import gguf

    reader = gguf.GGUFReader(str(path))
    out: dict[str, Any] = {}
    for fld in reader.fields.values():
        if fld.name.startswith("GGUF.") or (keys is not None and fld.name not in keys):
            continue
        if fld.types and fld.types[0] == gguf.GGUFValueType.ARRAY:
            continue
        out[fld.name] = fld.contents()
    return out


def read_kpdd_metadata(path: str | Path) -> dict[str, Any]:
    """The kpdd.* keys of a GGUF file, with the provenance parsed back into a dict."""
    meta = read_metadata(path, KPDD_KEYS)
    if GGUF_KEY_PROVENANCE in meta:
        try:
            meta[GGUF_KEY_PROVENANCE] = json.loads(meta[GGUF_KEY_PROVENANCE])
        except ValueError:
            pass
    return meta

"""Merge a GGUF LoRA adapter into its quantized GGUF base, in GGUF space: no torch, no HF weights.

Why: llama.cpp applying an adapter at load time decodes about 13% slower than the base alone (the
shipped student on its Q4_K_M base, 2 threads: 27.8 against 31.9 tokens/s, bench/bench_merged.py):
every token runs 168 extra small matmuls, and the weights the adapter touches are not repacked for
the CPU ("cannot use buft CPU_REPACK"). A merged file decodes at the base's own speed.

How, for each weight the adapter touches: dequantize it (gguf-py), add `scale * B @ A` in float32
(scale = alpha / rank, as llama.cpp applies it), and quantize it back to the very type the base has
for it with ggml's own quantizer (`ggml_quantize_chunk`, from the libggml that llama-cpp-python ships).
Every other tensor and every key is copied byte for byte, so the merged file has the base's exact
type mix (a third-party file's mix, which today's `llama-quantize` would not reproduce), and the
adapter's kpdd.* keys are added, so it is a KPDD model on its own.

The merged weights are quantized once more than the adapter route's, and that is not free: in the
shipped student's 4-5 bit types a LoRA's small changes round away or jump a whole step (49.3% against
52.5% on 400 dev problems), while `--merged-type Q8_0` kept its accuracy (51.8%, 11 answers of 400
different) at 0.81 times the adapter's time (bench/records/kpdd-qwen05b-s4/NOTES.md, sitting 13). So
a merged student is only used where bench_candidate.py --model measured it as accurate.

`kpdd setup` merges the shipped student this way (kpdd/models/merged.py); by hand:

    python -m export.gguf_merge BASE.gguf ADAPTER.gguf -o MERGED.gguf [--merged-type Q8_0]
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kpdd.backend import BackendError
from kpdd.format import GGUF_KPDD_KEYS
from kpdd.llama_backend import check_generates

if TYPE_CHECKING:
    import gguf
    import numpy as np


class MergeError(BackendError):
    """A merge that cannot be done (not an adapter of this base, no disk space): the message says why."""


def writer_like(
    reader: gguf.GGUFReader,
    dst: Path,
    extra: dict[str, str],
    drop: Callable[[str, object], bool] | None = None,
) -> gguf.GGUFWriter:
    """A GGUF writer for `dst` holding `reader`'s architecture, alignment and keys (less those `drop`
    names), and the string keys in `extra` (replacing same-named ones); tensors are the caller's."""
    import gguf

    arch_field = reader.get_field(gguf.Keys.General.ARCHITECTURE)
    if arch_field is None:
        raise ValueError(f"{dst.name}: its source has no general.architecture")
    writer = gguf.GGUFWriter(str(dst), arch=str(arch_field.contents()), endianess=reader.endianess)
    alignment = reader.get_field(gguf.Keys.General.ALIGNMENT)
    if alignment is not None:
        writer.data_alignment = int(alignment.contents())
    for fld in reader.fields.values():
        # Virtual fields (GGUF.*) and the architecture are written by the writer itself.
        if fld.name == gguf.Keys.General.ARCHITECTURE or fld.name.startswith("GGUF.") or fld.name in extra:
            continue
        if drop is not None and drop(fld.name, fld.contents()):
            continue
        value_type = fld.types[0]
        sub_type = fld.types[-1] if value_type == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(fld.name, fld.contents(), value_type, sub_type=sub_type)
    for key, value in extra.items():
        writer.add_string(key, value)
    return writer


def _float_types() -> dict:
    """The GGUF float tensor types and their numpy dtypes (every other type is bytes of blocks)."""
    import gguf
    import numpy as np

    return {gguf.GGMLQuantizationType.F32: np.float32, gguf.GGMLQuantizationType.F16: np.float16}


# A tensor the copy writes anew: its new type (None: the source's) and what computes its data.
NewTensor = tuple["gguf.GGMLQuantizationType | None", Callable[..., "np.ndarray"]]


def write_like(
    reader: gguf.GGUFReader, writer: gguf.GGUFWriter, changed: dict[str, NewTensor] | None = None
) -> None:
    """Write `reader`'s tensors through `writer` (made by `writer_like`) in the gguf writer's order:
    every tensor's info, the header, the keys, the infos, then the data. Each tensor is copied byte for
    byte, except those `changed` names, written as `new_type` with `compute(tensor)`'s data. The writer
    is closed on every way out: an open file cannot be deleted on Windows."""
    import gguf
    import numpy as np

    changed = changed or {}
    float_types = _float_types()
    try:
        for tensor in reader.tensors:
            new_type = changed[tensor.name][0] if tensor.name in changed else None
            if new_type is None:
                writer.add_tensor_info(
                    tensor.name, tensor.data.shape, tensor.data.dtype, tensor.data.nbytes, tensor.tensor_type
                )
                continue
            shape = (int(tensor.shape[1]), int(tensor.shape[0]))  # GGUF lists (columns, rows)
            if new_type in float_types:
                dtype = np.dtype(float_types[new_type])
                byte_shape, nbytes = shape, int(np.prod(shape)) * dtype.itemsize
            else:
                dtype = np.dtype(np.uint8)
                byte_shape = gguf.quant_shape_to_byte_shape(shape, new_type)
                nbytes = int(np.prod(byte_shape))
            writer.add_tensor_info(tensor.name, byte_shape, dtype, nbytes, new_type)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_ti_data_to_file()
        for tensor in reader.tensors:
            if tensor.name in changed:
                writer.write_tensor_data(changed[tensor.name][1](tensor))
            else:
                writer.write_tensor_data(tensor.data, tensor_endianess=reader.endianess)
    finally:
        writer.close()


LORA_A = ".lora_a"
LORA_B = ".lora_b"


@dataclass(frozen=True)
class MergeResult:
    path: Path
    merged_tensors: int  # base weights the adapter changed
    scale: float  # alpha / rank


def _field(reader, key: str):  # noqa: ANN001, ANN202 (gguf is imported lazily)
    field = reader.get_field(key)
    return None if field is None else field.contents()


def _lora_pairs(adapter) -> dict[str, tuple]:  # noqa: ANN001
    """Base tensor name -> (A, B) tensors of the adapter."""
    tensors = {t.name: t for t in adapter.tensors}
    pairs = {}
    for name, tensor in tensors.items():
        if name.endswith(LORA_A):
            base_name = name.removesuffix(LORA_A)
            partner = tensors.get(base_name + LORA_B)
            if partner is None:
                raise MergeError(f"The adapter has {name} but no {base_name + LORA_B}.")
            pairs[base_name] = (tensor, partner)
    if not pairs:
        raise MergeError("The adapter holds no LoRA tensors (names ending in .lora_a / .lora_b).")
    return pairs


def _as_float32(tensor) -> np.ndarray:  # noqa: ANN001
    """A GGUF tensor's values as float32, in numpy's (rows, columns) order."""
    import numpy as np
    from gguf.quants import dequantize

    return np.ascontiguousarray(dequantize(tensor.data, tensor.tensor_type), dtype=np.float32)


@functools.cache  # loaded once: on Windows every load puts its folder on PATH again
def _ggml_quantizer():  # noqa: ANN202
    """ggml's `ggml_quantize_chunk` and `ggml_row_size`, from the library llama-cpp-python loads."""
    import llama_cpp
    from llama_cpp._ctypes_extensions import load_shared_library

    lib = load_shared_library("ggml-base", Path(llama_cpp.__file__).parent / "lib")
    lib.ggml_quantize_chunk.restype = ctypes.c_size_t
    lib.ggml_quantize_chunk.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64,
                                        ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p]  # fmt: skip
    lib.ggml_row_size.restype = ctypes.c_size_t
    lib.ggml_row_size.argtypes = [ctypes.c_int, ctypes.c_int64]
    return lib


def quantize_rows(values: np.ndarray, qtype: int) -> np.ndarray:
    """float32 (rows, columns) -> the bytes of `qtype`, shaped (rows, bytes a row), as ggml writes them."""
    import numpy as np

    lib = _ggml_quantizer()
    rows, cols = values.shape
    src = np.ascontiguousarray(values, dtype=np.float32)
    row_bytes = int(lib.ggml_row_size(qtype, cols))
    dst = np.empty((rows, row_bytes), dtype=np.uint8)
    written = lib.ggml_quantize_chunk(qtype, src.ctypes.data, dst.ctypes.data, 0, rows, cols, None)
    if written != dst.nbytes:
        raise MergeError(f"ggml wrote {written} bytes for a {rows}x{cols} tensor, not {dst.nbytes}.")
    return dst


def write_merged(
    base_path: Path, adapter_path: Path, dest: Path, merged_type: str | None = None
) -> tuple[int, float]:
    """Write `dest`: the base with every weight the adapter touches merged, in the base's types (or
    all merged weights in `merged_type`, e.g. "Q8_0", finer than the base's: a LoRA's small changes
    can fall below a 4- or 5-bit type's step and round away)."""
    import gguf
    import numpy as np

    base = gguf.GGUFReader(str(base_path))
    adapter = gguf.GGUFReader(str(adapter_path))
    if _field(adapter, "general.type") != "adapter" or _field(adapter, "adapter.type") != "lora":
        raise MergeError(f"{adapter_path.name} is not a GGUF LoRA adapter.")
    arch = _field(base, gguf.Keys.General.ARCHITECTURE)
    if _field(adapter, gguf.Keys.General.ARCHITECTURE) != arch:
        raise MergeError(f"{adapter_path.name} is for another architecture than {base_path.name} ({arch}).")
    pairs = _lora_pairs(adapter)
    base_tensors = {t.name: t for t in base.tensors}
    missing = sorted(set(pairs) - set(base_tensors))
    if missing:
        raise MergeError(f"{adapter_path.name} changes weights {base_path.name} does not have: {missing[:3]}")
    rank = int(pairs[next(iter(pairs))][0].shape[-1])  # lora_a in GGUF order: (in, rank)
    alpha = float(_field(adapter, "adapter.lora.alpha") or 0.0)
    scale = alpha / rank if alpha else 1.0  # llama.cpp: alpha 0 means "apply as it is"

    kpdd_keys = {key: str(_field(adapter, key)) for key in GGUF_KPDD_KEYS if _field(adapter, key) is not None}
    try:
        new_type = gguf.GGMLQuantizationType[merged_type.strip().upper()] if merged_type else None
    except KeyError:
        raise MergeError(f"{merged_type!r} is not a GGUF tensor type (e.g. Q8_0).") from None
    float_types = _float_types()

    def merged(tensor) -> np.ndarray:  # noqa: ANN001
        weight = _as_float32(tensor)  # (out, in)
        a, b = (_as_float32(t) for t in pairs[tensor.name])  # (rank, in), (out, rank)
        if b.shape[0] != weight.shape[0] or a.shape[1] != weight.shape[1]:
            raise MergeError(
                f"{tensor.name}: the adapter's shapes {b.shape}x{a.shape} do not fit {weight.shape}."
            )
        # B @ A in float64, rounded once to float32: BLAS sums in a CPU-specific order, and in float32
        # that order shows in the last bit, so the same two files merged on an AMD and an Intel machine
        # gave different bytes (and a different sha256). In float64 it stays below float32's rounding.
        weight += (np.float64(scale) * (b.astype(np.float64) @ a.astype(np.float64))).astype(np.float32)
        kind = new_type if new_type is not None else tensor.tensor_type
        data = weight.astype(float_types[kind]) if kind in float_types else quantize_rows(weight, int(kind))
        if new_type is None and data.nbytes != tensor.data.nbytes:
            raise MergeError(f"{tensor.name}: {data.nbytes} bytes merged, the base has {tensor.data.nbytes}.")
        return data

    # The same names and shapes as the base; types too, unless merged_type says.
    write_like(base, writer_like(base, dest, kpdd_keys), {name: (new_type, merged) for name in pairs})
    return len(pairs), scale


def merge_lora_gguf(
    base: Path,
    adapter: Path,
    out: Path,
    threads: int | None = None,
    log: Callable[[str], None] = print,
    merged_type: str | None = None,
) -> MergeResult:
    """Write `out`: `adapter` merged into `base`, in the base's types or `merged_type`. Nothing is left under
    `out` unless it is complete and loads in llama.cpp."""
    out.parent.mkdir(parents=True, exist_ok=True)
    need = 2 * (base.stat().st_size + adapter.stat().st_size)  # a Q8_0 merge is about 1.3x the base
    free = shutil.disk_usage(out.parent).free
    if free < need:
        raise MergeError(
            f"Not enough free disk space in {out.parent}: merging needs about {need / 2**20:.0f} MiB, "
            f"{free / 2**20:.0f} MiB are free."
        )
    partial = out.with_name(f".{out.name}.partial")
    try:
        log(f"Merging {adapter.name} into {base.name} ...")
        merged, scale = write_merged(base, adapter, partial, merged_type)
        check_generates(partial, threads=threads)
        os.replace(partial, out)
    finally:
        with contextlib.suppress(OSError):
            partial.unlink()
    log(f"Wrote {out}: {merged} weights merged (scale {scale:g}), {out.stat().st_size / 1e6:.0f} MB.")
    return MergeResult(out, merged, scale)

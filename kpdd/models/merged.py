"""The shipped student merged into its base: made by `kpdd setup`, preferred by the model list.

Why: llama.cpp applying an adapter at load time decodes about 13% slower than its base alone, and a
student merged into its base in Q8_0 answered in 0.81 times the adapter's time at the same accuracy
(51.8% against 52.5% on 400 dev problems, 11 answers different, p = 0.55; in the base's own 4-5 bit
types it lost 3 points: kpdd/gguf_merge.py). So a manifest names the type its merge was measured in
(`"merged_type": "Q8_0"`), and only such students are merged.

Weights stay out of git, so the merged file is made on the user's machine from the two files it
already has (47 s on this 2-core machine), in `students/` under the models folder (not listed as a model of its
own), with a note beside it (`NAME.json`) saying what it was made from. The model list runs it only
while that note matches the manifest (the same adapter, base and type) and the file its own sha256;
anything else (a new adapter shipped, a damaged file, a setup that never ran) runs the adapter over
the base as before, and the next `kpdd setup` makes the file again. An installer may carry the file
in resources/models/students/.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import kpdd.models.files as files
from kpdd import paths
from kpdd.models.files import cached_sha256, remember_sha256, sha256_of

STUDENTS_FOLDER = "students"


def student_manifests() -> list[tuple[Path, dict]]:
    """(path, contents) of every student manifest in resources/models/ that can be read."""
    found = []
    for path in sorted((files.resources_dir() / "models").glob("*.json")):
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(manifest, dict) and manifest.get("adapter") and manifest.get("base_file"):
            if manifest.get("merged_type"):
                manifest["merged_type"] = str(manifest["merged_type"]).strip().upper()  # "q8_0 " is Q8_0
            found.append((path, manifest))
    return found


def merged_file_name(manifest_path: Path, manifest: dict) -> str | None:
    """The merged file's name ("kpdd-qwen05b.q8_0-merged.gguf") when the manifest has a `merged_type`."""
    merged_type = str(manifest.get("merged_type") or "").strip().lower()
    return f"{manifest_path.stem}.{merged_type}-merged.gguf" if merged_type else None


def note_path(merged: Path) -> Path:
    return merged.with_suffix(".json")


def _note_for(manifest: dict, merged: Path) -> dict:
    return {
        "adapter_sha256": manifest.get("sha256"),
        "base_sha256": manifest.get("base_sha256"),
        "merged_type": str(manifest.get("merged_type") or "").upper(),
        "size": merged.stat().st_size,
        "sha256": cached_sha256(merged),
    }


def _stale(manifest: dict, merged: Path) -> str | None:
    """None when `merged` is this manifest's student merged and intact, else why it is not used."""
    if not merged.is_file():
        return "not made yet"
    try:
        note = json.loads(note_path(merged).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "without its note"
    wanted = {
        "adapter_sha256": manifest.get("sha256"),
        "base_sha256": manifest.get("base_sha256"),
        "merged_type": str(manifest.get("merged_type") or "").upper(),
    }
    if not isinstance(note, dict) or any(note.get(k) != v for k, v in wanted.items()):
        return "made from another adapter or base"
    if note.get("size") != merged.stat().st_size or note.get("sha256") != cached_sha256(merged):
        return "damaged (its sha256 is not the one it was made with)"
    return None


def current_merged(manifest_path: Path, manifest: dict) -> Path | None:
    """The merged file of this student that is current and intact (the user's, else an installer's)."""
    name = merged_file_name(manifest_path, manifest)
    if name is None:
        return None
    for folder in (paths.models_dir(), files.resources_dir() / "models"):
        merged = folder / STUDENTS_FOLDER / name
        if _stale(manifest, merged) is None:
            return merged
    return None


def build_merged_student(
    manifest_path: Path, manifest: dict, log: Callable[[str], None] = print, threads: int | None = None
) -> Path | None:
    """Make this student's merged file in the models folder unless it is there and current; returns
    it (None for a student without a `merged_type`). Refuses, with a message, an adapter or base whose
    sha256 is not the manifest's. Two setups take turns on a lock; a killed one leaves no file."""
    from kpdd.gguf_merge import MergeError, merge_lora_gguf

    name = merged_file_name(manifest_path, manifest)
    if name is None:
        return None
    target = paths.models_dir() / STUDENTS_FOLDER / name
    student = manifest.get("name", manifest_path.stem)

    def waiting() -> None:
        log(f"{student} is already being merged by another process; waiting for it to finish ...")

    with paths.file_lock(paths.models_dir() / ".locks" / f"{name}.lock", on_wait=waiting):
        problem = _stale(manifest, target)
        if problem is None:
            log(f"{student}, merged into its base, is in place: {target}")
            return target
        if target.exists():
            log(f"{student}'s merged file is {problem}: it is made again.")
        for stale in (target, note_path(target)):  # never run again: its disk is freed now
            stale.unlink(missing_ok=True)
        adapter = manifest_path.parent / manifest["adapter"]
        base = paths.models_dir() / manifest["base_file"]
        if not base.is_file():
            base = manifest_path.parent / manifest["base_file"]
        for path, pin, what in ((adapter, "sha256", "adapter"), (base, "base_sha256", "base model")):
            if not path.is_file():
                raise MergeError(f"{student}: its {what} {path.name} is missing.")
            if manifest.get(pin) and cached_sha256(path) != manifest[pin]:
                raise MergeError(f"{student}: its {what} {path.name} is not the one the manifest names.")
        log(f"Merging {student}'s adapter into its base ({manifest['merged_type']}, under a minute) ...")
        target.parent.mkdir(parents=True, exist_ok=True)
        merge_lora_gguf(base, adapter, target, threads=threads, log=lambda _m: None,
                        merged_type=str(manifest["merged_type"]))  # fmt: skip
        remember_sha256(target, sha256_of(target))
        paths.atomic_write_text(note_path(target), json.dumps(_note_for(manifest, target), indent=1) + "\n")
        log(f"Merged {student}: {target} ({target.stat().st_size / 1e6:.0f} MB)")
        return target


def build_merged_students(log: Callable[[str], None] = print, threads: int | None = None) -> list[Path]:
    """`kpdd setup`'s step: every shipped student with a `merged_type` whose base is installed,
    merged. A failure is a warning: the student still runs with its adapter."""
    made = []
    manifests = student_manifests()
    _remove_orphans({merged_file_name(path, manifest) for path, manifest in manifests}, log)
    for manifest_path, manifest in manifests:
        if merged_file_name(manifest_path, manifest) is None:
            continue
        if not (paths.models_dir() / manifest["base_file"]).is_file():
            continue  # its base is not installed here: nothing to merge (and nothing to run)
        try:
            merged = build_merged_student(manifest_path, manifest, log, threads)
        # Whatever went wrong (a full disk, a foreign adapter, gguf or ggml missing or failing), the
        # student still runs as its adapter over its base: setup goes on and says so.
        except Exception as exc:  # noqa: BLE001
            log(f"warning: {manifest.get('name', manifest_path.stem)} was not merged ({exc}); "
                "it runs with its adapter, a little slower.")  # fmt: skip
            continue
        if merged is not None:
            made.append(merged)
    return made


def _remove_orphans(named: set[str | None], log: Callable[[str], None]) -> None:
    """Delete merged files (and notes) in the models folder that no shipped manifest names any more:
    a renamed student's, or one no longer merged. Each is hundreds of MB that would never run."""
    folder = paths.models_dir() / STUDENTS_FOLDER
    for merged in sorted(folder.glob("*-merged.gguf")) if folder.is_dir() else []:
        if merged.name not in named:
            merged.unlink(missing_ok=True)
            note_path(merged).unlink(missing_ok=True)
            log(f"Removed {merged.name}: no shipped student is made from it any more.")

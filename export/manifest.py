"""The manifest that ships a KPDD student: an adapter GGUF described for `kpdd.models.bundled_students`.

A student in `resources/models/` is two files: the LoRA adapter (GGUF) and `NAME.json` beside it. The
manifest names the adapter and the base it goes over, holds both sha256 sums (the app refuses a damaged
adapter), the format version and modes the solver needs, and the provenance of every training sitting
(read from the run's kpdd_run.json, following `init_adapter` back to the first run).

    kpdd export manifest RUN_DIR ADAPTER.gguf --base BASE.gguf --name "KPDD SmolLM2-135M" \
        --recipe-file distill/recipes/kpdd-smollm2.toml -o resources/models/kpdd-smollm2-135m.json
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from export.errors import ExportError
from export.source import RUN_FILE
from kpdd.models import files, sha256_of

RECIPE_KEYS = ("examples", "lora_r", "lora_alpha", "lora_targets", "seq_len", "batch_size", "learning_rate",
               "epochs", "seed", "init_adapter")  # fmt: skip
TRAINING_KEYS = ("steps", "tokens", "seconds", "tokens_per_second", "eval_loss", "trainable_parameters",
                 "bf16_autocast", "device")  # fmt: skip


def _sitting(provenance: dict[str, Any]) -> dict[str, Any]:
    """One training run's part of the provenance: its data, teachers, recipe and measured figures."""
    training = provenance.get("training") or {}
    recipe = provenance.get("recipe") or {}
    return {
        "created": provenance.get("created"),
        "teachers": provenance.get("teachers", {}),
        "data_files": [
            {
                "name": Path(str(f.get("path", ""))).name,
                "sha256": f.get("sha256"),
                "records": f.get("records"),
            }
            for f in provenance.get("data", [])
        ],
        "training": {k: training[k] for k in TRAINING_KEYS if k in training},
        "recipe": {k: recipe[k] for k in RECIPE_KEYS if recipe.get(k) not in (None, "")},
    }


def shipped_sittings(adapter_sha256: str) -> list[dict[str, Any]] | None:
    """The sittings of the shipped student whose adapter has this sha256 (resources/models/*.json)."""
    for path in sorted((files.resources_dir() / "models").glob("*.json")):
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if manifest.get("sha256") == adapter_sha256:
            return list((manifest.get("provenance") or {}).get("sittings") or [])
    return None


def _sittings(run: dict[str, Any]) -> list[dict[str, Any]]:
    """Every sitting that made this adapter, first run first (via the chain of init_adapter runs).
    A run continued from a shipped adapter turned back into a PEFT folder (distill.gguf_adapter,
    which records the GGUF's sha256 as `imported_from`) takes the sittings before it from that
    student's manifest: the runs that made it are on another machine, or gone."""
    provenance = run.get("provenance") or {}
    chain = [_sitting(provenance)]
    parent = provenance.get("init_adapter")
    while parent:
        path = Path(parent["path"]) / RUN_FILE
        if not path.is_file():
            raise ExportError(
                f"The run this adapter continued, {parent['path']}, is gone: its provenance is lost."
            )
        earlier = (json.loads(path.read_text(encoding="utf-8")).get("provenance")) or {}
        imported = (earlier.get("imported_from") or {}).get("sha256")
        shipped = shipped_sittings(imported) if imported else None
        if shipped is not None:
            return shipped + chain[::-1]
        chain.append(_sitting(earlier))
        parent = earlier.get("init_adapter")
    return chain[::-1]


def student_manifest(
    run_dir: Path,
    adapter: Path,
    base: Path,
    *,
    name: str,
    description: str = "",
    license_text: str = "",
    recipe_file: str = "",
    notes: dict[str, str] | None = None,
    merged_type: str = "",
) -> dict[str, Any]:
    """The manifest of `adapter` (exported from `run_dir`) over `base`; with `merged_type` (e.g.
    "Q8_0", a type the merge was measured accurate in) `kpdd setup` merges it into its base."""
    run_path = run_dir / RUN_FILE
    if not run_path.is_file():
        raise ExportError(f"{run_dir} is not a finished KPDD run (no {RUN_FILE}).")
    for path, what in ((adapter, "adapter"), (base, "base model")):
        if not path.is_file():
            raise ExportError(f"The {what} {path} does not exist.")
    run = json.loads(run_path.read_text(encoding="utf-8"))
    if not run.get("adapter"):
        raise ExportError(
            f"{run_dir} trained a full model, not an adapter: ship its GGUF as a model instead."
        )
    sittings = _sittings(run)
    teachers: dict[str, int] = {}
    for sitting in sittings:
        for teacher, count in sitting["teachers"].items():
            teachers[teacher] = teachers.get(teacher, 0) + int(count)
    total = {
        "steps": sum(int(s["training"].get("steps", 0)) for s in sittings),
        "tokens": sum(int(s["training"].get("tokens", 0)) for s in sittings),
        "seconds": round(sum(float(s["training"].get("seconds", 0.0)) for s in sittings), 1),
    }
    return {
        "name": name,
        "description": description,
        "adapter": adapter.name,
        "sha256": sha256_of(adapter),
        "size": adapter.stat().st_size,
        "base_file": base.name,
        "base_sha256": sha256_of(base),
        **({"merged_type": merged_type.upper()} if merged_type else {}),
        "format_version": run.get("format_version"),
        "modes": run.get("modes", []),
        "license": license_text,
        "provenance": {
            "recipe_file": recipe_file,
            "teachers": teachers,
            **(notes or {}),
            "training_total": total,
            "sittings": sittings,
        },
    }


def write_student(manifest: dict[str, Any], adapter: Path, out: Path) -> Path:
    """Write the manifest to `out` and copy the adapter beside it (if it is not there already)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    target = out.parent / adapter.name
    if target.resolve() != adapter.resolve():
        shutil.copyfile(adapter, target)
    out.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return out

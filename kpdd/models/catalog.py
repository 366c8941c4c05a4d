"""The models the app can see and run: the embedded default (the project's KPDD student when
resources/models/ carries one, else a stock base prompted few-shot), the bundled students, and the
GGUF files the user added; what each was measured at; which one is active; and opening one."""

from __future__ import annotations

import dataclasses
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import kpdd.models.files as files
from kpdd import paths
from kpdd.backend import BackendError
from kpdd.models.files import cached_sha256, damage, pinned_source
from kpdd.models.merged import current_merged, student_manifests
from kpdd.models.registry import BASE_MODELS, SETUP_COMMAND, SETUP_MODELS, ModelSource


class ModelNotFoundError(BackendError):
    """No model to run: the message says which command fetches one."""


class DamagedModelError(BackendError):
    """A pinned model file whose bytes are not the installed ones: the message says to run setup."""


@dataclass
class ModelEntry:
    """One model the app can run: a GGUF file, maybe with a LoRA adapter applied at load time."""

    name: str
    path: Path
    lora_path: Path | None = None
    kind: str = "user"  # "default" base, "bundled" KPDD student, or "user" file
    size: int = 0
    architecture: str = ""
    quantization: str = ""
    format_version: str | None = None
    license: str = ""
    provenance: dict = field(default_factory=dict)
    is_default: bool = False
    merged_type: str = ""  # a student merged into its base (kpdd/models/merged.py): its weights' type
    # A shipped student's base file and adapter, merged or not: what an adapter given with --lora goes
    # over (never the merged file: the student's own adapter is in it), and the adapter route itself.
    base_and_adapter: tuple[Path, Path] | None = None
    available: bool = True
    problem: str = ""  # why it cannot be used, in plain words
    # What bench/bench_models.py measured for this model (resources/models/measured.json), if anything.
    measured: dict = field(default_factory=dict)

    @property
    def measured_text(self) -> str:
        """The measured accuracy and speed in one line, e.g. "Program 58.1% right on 1200 problems
        (dev split), 61.0% on the 1200 of the test split, 3.1 s to answer (median, 2 threads)"; ""
        when the model was never measured."""
        return measured_text(self.measured)

    @property
    def base_path(self) -> Path:
        """The file an extra adapter goes over: a student's base, else the model's own file."""
        return self.base_and_adapter[0] if self.base_and_adapter else self.path

    @property
    def key(self) -> str:
        """A stable identifier for configuration (the active model)."""
        return f"{self.path}+{self.lora_path}" if self.lora_path else str(self.path)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "path": str(self.path),
            "lora_path": str(self.lora_path) if self.lora_path else None,
            "kind": self.kind,
            "size": self.size,
            "architecture": self.architecture,
            "quantization": self.quantization,
            "format_version": self.format_version,
            "license": self.license,
            "is_default": self.is_default,
            "merged_type": self.merged_type,
            "available": self.available,
            "problem": self.problem,
            "measured": self.measured,
        }


# llama.cpp's file types (general.file_type), for display.
FILE_TYPES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
              11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
              17: "Q5_K_M", 18: "Q6_K", 32: "BF16"}  # fmt: skip


def describe_gguf(path: Path, entry: ModelEntry) -> ModelEntry:
    """Fill architecture, quantization and format fields from the file's metadata."""
    from kpdd.llama_backend import read_gguf_metadata

    try:
        metadata = read_gguf_metadata(path)
    except BackendError as exc:
        entry.available = False
        entry.problem = str(exc)
        return entry
    entry.size = int(metadata.get("_file_size", 0))
    entry.architecture = str(metadata.get("general.architecture", ""))
    file_type = metadata.get("general.file_type")
    entry.quantization = FILE_TYPES.get(file_type, str(file_type or "")) if file_type is not None else ""
    if metadata.get("kpdd.format_version"):
        entry.format_version = str(metadata["kpdd.format_version"])
    return entry


def bundled_students() -> list[ModelEntry]:
    """KPDD students shipped in resources/models/: each a manifest naming its adapter and base. A
    student merged into its base by `kpdd setup` runs as that one file while it is current
    (kpdd/models/merged.py), else as the adapter over the base."""
    entries = []
    for manifest_path, manifest in student_manifests():
        folder = manifest_path.parent
        adapter = folder / manifest["adapter"]
        base = paths.models_dir() / manifest["base_file"]
        if not base.exists() and (folder / manifest["base_file"]).exists():
            base = folder / manifest["base_file"]  # an installer carries the base beside the adapter
        entry = ModelEntry(
            name=manifest.get("name", manifest_path.stem),
            path=base,
            lora_path=adapter,
            kind="bundled",
            format_version=manifest.get("format_version"),
            license=manifest.get("license", ""),
            provenance=manifest.get("provenance", {}),
            base_and_adapter=(base, adapter),
        )
        merged = current_merged(manifest_path, manifest)
        if merged is not None:
            entry.path, entry.lora_path = merged, None
            describe_gguf(merged, entry)
            entry.merged_type = str(manifest["merged_type"]).upper()
            # general.file_type still says the base's mix; the weights the adapter changed are finer.
            entry.quantization = f"{entry.quantization} + {entry.merged_type}"
        elif not base.exists():
            entry.available = False
            entry.problem = (
                "Its model file is missing: reinstall the app."  # an installer carries no pip for setup
                if getattr(sys, "frozen", False)
                else f"Its base model is missing: run `{SETUP_COMMAND}`."
            )
        elif not adapter.exists():
            entry.available = False
            entry.problem = f"Its adapter file {adapter.name} is missing from resources/models."
        elif manifest.get("sha256") and cached_sha256(adapter) != manifest["sha256"]:
            entry.available = False
            entry.problem = (
                f"Its adapter file {adapter.name} is damaged (its checksum does not match the manifest): "
                "reinstall the app."
            )
        else:
            describe_gguf(base, entry)
            entry.size = base.stat().st_size + adapter.stat().st_size
        entries.append(entry)
    return entries


def student_base_sources() -> list[ModelSource]:
    """The pinned base models the shipped students go over (what setup installs and installers carry)."""
    sources = []
    for _path, manifest in student_manifests():
        source = BASE_MODELS.get(str(manifest.get("base_file")))
        if source is not None and source not in sources:
            sources.append(source)
    return sources


def user_models() -> list[ModelEntry]:
    """GGUF files in the user's models folder and files added by path in the configuration."""
    seen: set[Path] = set()
    entries = []
    candidates = sorted(paths.models_dir().glob("*.gguf")) if paths.models_dir().exists() else []
    candidates += [Path(p) for p in paths.load_config().get("models", [])]
    for path in candidates:
        path = path.expanduser()
        resolved = path.resolve() if path.exists() else path
        if resolved in seen:
            continue
        seen.add(resolved)
        source = BASE_MODELS.get(path.name)
        entry = ModelEntry(
            name=source.name if source and path.parent == paths.models_dir() else path.stem,
            path=path,
            kind="default" if source and path.parent == paths.models_dir() else "user",
            license=source.license if source else "",
        )
        if not path.exists():
            entry.available = False
            entry.problem = "The file is no longer there."
        else:
            describe_gguf(path, entry)
        entries.append(entry)
    return entries


def bundled_base_models() -> list[ModelEntry]:
    """Base GGUFs shipped inside an installer's resources/models/ (the user's own copy wins)."""
    entries = []
    folder = files.resources_dir() / "models"
    for path in sorted(folder.glob("*.gguf")) if folder.exists() else []:
        source = BASE_MODELS.get(path.name)
        if source is None:
            continue
        entry = ModelEntry(
            name=source.name,
            path=path,
            kind="default",
            license=source.license,
            provenance={"package": source.packages, "sha256": source.sha256},
        )
        entries.append(describe_gguf(path, entry))
    return entries


MEASURED_FILE = "measured.json"
MODE_NAMES = {
    "pot": "Program",
    "cot": "Steps",
    "auto": "Program, Auto samples",
    "cascade": "Program + second opinion",
}


def measured_figures() -> dict:
    """resources/models/measured.json: per model name, what bench/bench_models.py measured."""
    try:
        data = json.loads((files.resources_dir() / "models" / MEASURED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data.get("models", {}) if isinstance(data, dict) else {}


def measured_text(measured: dict) -> str:
    if not measured or measured.get("accuracy") is None:
        return ""
    mode = MODE_NAMES.get(str(measured.get("mode", "pot")), str(measured.get("mode")))
    split = f" ({measured['split']} split)" if measured.get("split") in ("dev", "test") else ""
    text = (
        f"{mode} {100 * measured['accuracy']:.1f}% right on {measured.get('problems', '?')} problems{split}"
    )
    test = measured.get("test")
    if isinstance(test, dict) and test.get("accuracy") is not None:  # run once per shipped model
        text += f", {100 * test['accuracy']:.1f}% on the {test.get('problems', '?')} of the test split"
    if measured.get("median_s") is not None:
        text += f", {measured['median_s']:.1f} s to answer (median, {measured.get('threads', 2)} threads)"
    # Every answer checked first: it is the default wherever the second opinion is installed.
    every = measured.get("second_opinion_every")
    if isinstance(every, dict) and every.get("accuracy") is not None:
        text += f"; with {every.get('model', 'a second model')} checking every answer {100 * every['accuracy']:.1f}%"
        if every.get("median_s") is not None:
            text += f", {every['median_s']:.1f} s to the verdict"
    second = measured.get("second_opinion")
    if isinstance(second, dict) and second.get("accuracy") is not None:
        text += f"; asking it about doubtful answers only {100 * second['accuracy']:.1f}%"
        if second.get("median_s") is not None:
            text += f", {second['median_s']:.1f} s"
    return text


def list_models() -> list[ModelEntry]:
    """Every model the app can see, with `is_default` set on the one used when none is chosen."""
    users = user_models()
    have = {e.path.name for e in users if e.kind == "default" and e.available}
    entries = bundled_students() + users + [e for e in bundled_base_models() if e.path.name not in have]
    figures = measured_figures()
    for entry in entries:
        entry.measured = figures.get(entry.name, {})
    # Our own student first, then the stock base model, then any file the user added.
    default = next((e for e in entries if e.kind == "bundled" and e.available), None)
    default = default or next((e for e in entries if e.kind == "default" and e.available), None)
    default = default or next((e for e in entries if e.available), None)
    if default is not None:
        default.is_default = True
    return entries


def setup_models_text() -> str:
    """What `kpdd setup` places, for messages: "A and B, about N MB"."""
    names = " and ".join(source.name for source in SETUP_MODELS)
    return f"{names}, about {sum(source.size for source in SETUP_MODELS) // 1_000_000} MB"


def default_model() -> ModelEntry:
    for entry in list_models():
        if entry.is_default:
            return entry
    raise ModelNotFoundError(
        f"No model is installed yet. Run `{SETUP_COMMAND}` to place the default model "
        f"({setup_models_text()}) in {paths.models_dir()}, "
        "or pass --model PATH to a GGUF file."
    )


def active_model() -> ModelEntry:
    """The model chosen in the configuration, when it is still usable, else the default."""
    chosen = paths.load_config().get("active_model")
    if chosen:
        for entry in list_models():
            if entry.key == chosen and entry.available:
                return entry
    return default_model()


def resolve_model(model: str | Path | None, lora: str | Path | None = None) -> ModelEntry:
    """A `--model` argument (a path, or a listed model's name) or the active model."""
    lora_path = Path(lora).expanduser() if lora else None
    if model is None:
        if lora_path is None:
            return active_model()
        model = active_model().base_path  # an adapter over the active model's base file
    entries = list_models()
    for entry in entries:
        # A listed model, by name or key (its file, or file+adapter), when the adapter agrees.
        if lora_path is None and str(model) in (entry.name, entry.key):
            return entry
        if (
            lora_path is not None
            and entry.base_and_adapter is not None
            and entry.base_and_adapter[1].resolve() == lora_path.resolve()  # a relative --lora names it too
            and (str(model) == entry.name or Path(model).expanduser().resolve() == entry.base_path.resolve())
        ):
            return adapter_route(entry)
    named = next((e for e in entries if e.name == str(model)), None)
    path = named.base_path if named else Path(model).expanduser()
    name = path.stem if lora_path is None else f"{path.stem} + {lora_path.stem}"
    entry = ModelEntry(name=name, path=path, lora_path=lora_path)
    if path.exists():
        describe_gguf(path, entry)
    else:
        entry.available = False
        entry.problem = f"Model file not found: {path}"
    return entry


def adapter_route(entry: ModelEntry) -> ModelEntry:
    """A shipped student as its adapter over its base, also where setup merged it (`--model BASE
    --lora ADAPTER` asks for exactly that; the benches compare the two)."""
    if entry.base_and_adapter is None or entry.lora_path is not None:
        return entry
    base, adapter = entry.base_and_adapter
    route = dataclasses.replace(entry, path=base, lora_path=adapter, merged_type="")
    if not base.exists():
        route.available, route.problem = False, f"Its base model is missing: run `{SETUP_COMMAND}`."
        return route
    describe_gguf(base, route)
    route.size = base.stat().st_size + adapter.stat().st_size
    return route


def add_model(path: str | Path) -> ModelEntry:
    """Remember a GGUF file by path (not copied: model files are large)."""
    from kpdd.gguf_file import check_gguf_file

    path = check_gguf_file(path).absolute()
    problem = damage(path)
    if problem is not None:
        raise DamagedModelError(f"{path.name} cannot be used: {problem}. Download it again.")
    config = paths.load_config()
    known = [p for p in config.get("models", []) if Path(p) != path]
    paths.update_config(models=known + [str(path)])
    return describe_gguf(path, ModelEntry(name=path.stem, path=path))


def remove_model(path: str | Path) -> None:
    config = paths.load_config()
    paths.update_config(models=[p for p in config.get("models", []) if Path(p) != Path(path)])


def load_backend(entry: ModelEntry, **kwargs):  # -> LlamaBackend
    """Open a model entry with llama.cpp; a clear error for anything unusable."""
    from kpdd.llama_backend import LlamaBackend

    if not entry.available:
        raise ModelNotFoundError(entry.problem or f"The model {entry.name} cannot be used.")
    # A damaged file can load and give empty or endless answers: every file is checked first (cached).
    for path in (entry.path, entry.lora_path):
        problem = damage(path) if path is not None else None
        if problem is not None:
            fix = (
                f"Run `{SETUP_COMMAND}` again to replace it." if pinned_source(path) else "Download it again."
            )
            raise DamagedModelError(f"The model file {path} is damaged: {problem}. {fix}")
    backend = LlamaBackend(entry.path, lora_path=entry.lora_path, **kwargs)
    # The name the model list shows ("KPDD SmolLM2-135M"), not the base file's GGUF name plus the
    # adapter's file name: the app's status bar, history and solution sheets say what the user chose.
    backend.info.name = entry.name
    return backend

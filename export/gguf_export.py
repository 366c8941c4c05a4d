"""`kpdd export gguf`: Hugging Face model / LoRA adapter / KPDD run -> verified GGUF files.

Routes:
- **merged** (default; a plain model folder always goes this way): a LoRA adapter is merged into its
  base with PEFT first; the model is converted by llama.cpp's `convert_hf_to_gguf.py` to f16 (f32 when
  asked for), KPDD metadata is added, and `llama_cpp.llama_model_quantize` makes the other types.
- **adapter**: `convert_lora_to_gguf.py` writes the adapter as a GGUF LoRA (a few MB) that llama.cpp
  applies at load time (`Llama(base, lora_path=adapter)`). The base is the GGUF named by the run (used
  as it is) or, for a HF base folder, converted and quantized here as well.

Safety: everything is written into a hidden work folder inside the output folder and moved to its
final name only after every file loaded in llama.cpp and generated; an interruption (Ctrl-C, a killed
converter, a full disk) leaves no file under a final name. Free space is checked up front.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from export.converter import converter_src, installed_llama_cpp_version, run_converter
from export.errors import ExportError
from export.metadata import copy_with_metadata, kpdd_metadata
from export.source import ExportSource, architecture, check_hf_folder, parameter_count, resolve_source
from kpdd.backend import BackendError

DEFAULT_TYPES = ("f16", "q8_0", "q4_k_m")
# Approximate bytes per weight, for the free-space check (types not listed count as 1.1).
BYTES_PER_WEIGHT = {
    "f32": 4.0, "f16": 2.0, "bf16": 2.0, "q8_0": 1.07, "q6_k": 0.83, "q5_k_m": 0.72, "q5_k_s": 0.69,
    "q5_0": 0.69, "q5_1": 0.75, "q4_k_m": 0.62, "q4_k_s": 0.58, "q4_0": 0.57, "q4_1": 0.63,
    "q3_k_m": 0.5, "q3_k_s": 0.46, "q3_k_l": 0.54, "q2_k": 0.42,
}  # fmt: skip
PER_FILE_OVERHEAD = 8 * 1024 * 1024  # vocabulary and other metadata
WORK_PREFIX = ".kpdd-export-"

Log = Callable[[str], None]


@dataclass
class GgufOutput:
    path: str
    role: str  # "model" | "adapter" | "base"
    type: str
    size_bytes: int
    verify_text: str = ""


@dataclass
class GgufExportResult:
    outputs: list[GgufOutput] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


def quant_types() -> dict[str, int]:
    """Output type name -> llama.cpp file type, from the constants llama-cpp-python exposes."""
    import llama_cpp

    types: dict[str, int] = {"f32": int(llama_cpp.LLAMA_FTYPE_ALL_F32)}
    for name in dir(llama_cpp):
        if name.startswith("LLAMA_FTYPE_MOSTLY_"):
            types[name[len("LLAMA_FTYPE_MOSTLY_") :].lower()] = int(getattr(llama_cpp, name))
    return types


def check_types(types: Sequence[str]) -> list[str]:
    known = quant_types()
    out = []
    for t in types:
        t = t.strip().lower()
        if t not in known:
            raise ExportError(f"Unknown GGUF type {t!r}; llama.cpp offers: {', '.join(sorted(known))}.")
        if t not in out:
            out.append(t)
    if not out:
        raise ExportError("No GGUF output type given.")
    return out


def check_free_space(folder: Path, need_bytes: int) -> None:
    """Fail before starting when the output folder's disk cannot hold the export."""
    free = shutil.disk_usage(folder).free
    if free < need_bytes:
        raise ExportError(
            f"Not enough free disk space in {folder}: the export needs about {need_bytes / 2**20:.0f} MiB "
            f"(temporary files included), {free / 2**20:.0f} MiB are free."
        )


def estimate_bytes(
    n_weights: int, types: Sequence[str], intermediate: str, merge: bool, metadata: bool
) -> int:
    """Peak disk use: converter output, its metadata copy, quantized files and a merged HF folder."""
    need = n_weights * BYTES_PER_WEIGHT[intermediate] * (2 if metadata else 1)
    need += sum(n_weights * BYTES_PER_WEIGHT.get(t, 1.1) for t in types if t != intermediate)
    if merge:
        need += n_weights * 4
    return int(math.ceil(need * 1.1)) + PER_FILE_OVERHEAD * (len(types) + 1)


def quantize(src: Path, dst: Path, qtype: str, threads: int | None = None) -> None:
    """Quantize a GGUF file with llama.cpp (`llama_model_quantize`)."""
    import ctypes

    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = quant_types()[qtype]
    params.nthread = threads or 0
    code = llama_cpp.llama_model_quantize(str(src).encode(), str(dst).encode(), ctypes.byref(params))
    if code != 0 or not dst.is_file():
        with contextlib.suppress(OSError):
            dst.unlink()
        raise ExportError(f"llama.cpp could not quantize to {qtype} (code {code}); is the disk full?")


def verify_gguf(
    path: Path, lora_path: Path | None = None, n_tokens: int = 8, threads: int | None = None
) -> str:
    """Load a GGUF in llama.cpp and generate a few greedy tokens; return the text.

    Fails when the file does not load, the logits are not finite, or nothing can be generated.
    """
    from kpdd.llama_backend import check_generates

    try:
        return check_generates(path, lora_path, n_tokens, threads)
    except BackendError as exc:
        raise ExportError(str(exc)) from exc


def merge_adapter(src: ExportSource, dest: Path) -> None:
    """Merge a PEFT LoRA adapter into its base and save the result as a HF folder."""
    from peft import PeftModel
    from transformers import AutoTokenizer

    assert src.base is not None
    from distill.hf_models import load_base, save_plain

    base, tokenizer = load_base(src.base)
    model = PeftModel.from_pretrained(base, str(src.path)).merge_and_unload()
    if (src.path / "tokenizer.json").is_file() or (src.path / "tokenizer_config.json").is_file():
        tokenizer = AutoTokenizer.from_pretrained(str(src.path))
    save_plain(model, dest, tokenizer)


def base_config_folder(base: Path, work: Path) -> Path:
    """A folder with the base model's config.json (what convert_lora_to_gguf.py reads)."""
    if base.is_dir():
        return base
    from transformers import AutoConfig
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    dest = work / "base-config"
    config = AutoConfig.from_pretrained(str(base.parent), gguf_file=base.name)
    if not getattr(config, "architectures", None):
        # A config read from GGUF has no `architectures`, which the converter dispatches on.
        arch = MODEL_FOR_CAUSAL_LM_MAPPING_NAMES.get(config.model_type)
        if arch is None:
            raise ExportError(f"Cannot tell the architecture of the base {base.name} ({config.model_type}).")
        config.architectures = [arch]
    config.save_pretrained(str(dest))
    return dest


def check_supported(config: dict, src_tree: Path) -> None:
    """Fail early (before any heavy work) for an architecture llama.cpp's converter does not know."""
    arch = architecture(config)
    if not arch:
        raise ExportError("config.json names no architecture ('architectures' / 'model_type').")
    needle = f'"{arch}"'
    files = [src_tree / "convert_hf_to_gguf.py", *sorted((src_tree / "conversion").glob("*.py"))]
    for path in files:
        if path.is_file() and needle in path.read_text(encoding="utf-8", errors="replace"):
            return
    raise ExportError(
        f"llama.cpp (llama-cpp-python {installed_llama_cpp_version()}) cannot convert architecture "
        f"{arch!r}: its convert_hf_to_gguf.py does not support it."
    )


def _clean_stale_work_dirs(out_dir: Path) -> None:
    """Remove work folders left by exports that were killed (their process is gone)."""
    for folder in out_dir.glob(WORK_PREFIX + "*"):
        pid_file = folder / "pid"
        try:
            pid = int(pid_file.read_text())
            os.kill(pid, 0)
            continue  # still running
        except (OSError, ValueError):
            pass
        shutil.rmtree(folder, ignore_errors=True)


def convert_to_gguf(hf_dir: Path, dest: Path, outtype: str, work: Path) -> None:
    run_converter(
        "convert_hf_to_gguf.py",
        [str(hf_dir), "--outfile", str(dest), "--outtype", outtype],
        work / "convert.log",
    )
    if not dest.is_file():
        raise ExportError("convert_hf_to_gguf.py reported success but wrote no file.")


def export_gguf(
    input_dir: str | Path,
    out_dir: str | Path,
    types: Sequence[str] = DEFAULT_TYPES,
    base: str | Path | None = None,
    route: str = "merged",
    name: str | None = None,
    verify: bool = True,
    check_space: bool = True,
    threads: int | None = None,
    log: Log = print,
) -> GgufExportResult:
    """Convert, add KPDD metadata, quantize, verify, then move the files to `out_dir`."""
    start = time.perf_counter()
    if route not in ("merged", "adapter"):
        raise ExportError(f"Unknown route {route!r} (merged or adapter).")
    src = resolve_source(input_dir, base=base, name=name)
    if route == "adapter" and not src.adapter:
        raise ExportError(f"{src.path} is not a LoRA adapter; the adapter route needs one.")
    types = check_types(types)
    tree = converter_src()
    converter_id = f"llama.cpp convert_hf_to_gguf.py (llama-cpp-python {installed_llama_cpp_version()})"
    meta = kpdd_metadata(src.run, converter_id)

    hf_folder = src.base if src.adapter else src.path
    if hf_folder is not None and hf_folder.is_dir():
        check_supported(check_hf_folder(hf_folder), tree)

    out = Path(out_dir).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    _clean_stale_work_dirs(out)

    intermediate = "f32" if "f32" in types else "f16"
    if check_space:
        if hf_folder is not None and hf_folder.is_dir():
            n = parameter_count(hf_folder)
        else:
            n = 0  # adapter over an existing GGUF base: only the adapter is written
        n_adapter = parameter_count(src.path) if src.adapter else 0
        merge = src.adapter and route == "merged"
        need = estimate_bytes(n, types, intermediate, merge, bool(meta)) if n else 0
        need += int(n_adapter * 4 * 2) + PER_FILE_OVERHEAD
        check_free_space(out, need)

    work = Path(tempfile.mkdtemp(prefix=WORK_PREFIX, dir=out))
    (work / "pid").write_text(str(os.getpid()))
    result = GgufExportResult(metadata=meta)
    staged: list[tuple[Path, Path]] = []  # (work file, final path)
    try:
        if route == "adapter":
            _adapter_route(src, types, intermediate, work, out, meta, staged, result, threads, verify, log)
        else:
            if src.adapter:
                log(f"merging the LoRA adapter {src.path.name} into {src.base}")
                hf_dir = work / "merged"
                merge_adapter(src, hf_dir)
            else:
                hf_dir = src.path
            _model_files(hf_dir, src.name, types, intermediate, work, out, meta, "model", staged, result,
                         threads, log)  # fmt: skip
            if verify:
                for output, (tmp, _final) in zip(result.outputs, staged, strict=True):
                    output.verify_text = verify_gguf(tmp, threads=threads)
                    log(f"verified {Path(output.path).name}: generates {output.verify_text!r}")
        for tmp, final in staged:
            os.replace(tmp, final)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result.seconds = time.perf_counter() - start
    return result


def _model_files(
    hf_dir: Path,
    stem: str,
    types: Sequence[str],
    intermediate: str,
    work: Path,
    out: Path,
    meta: dict[str, str],
    role: str,
    staged: list[tuple[Path, Path]],
    result: GgufExportResult,
    threads: int | None,
    log: Log,
) -> None:
    """Convert one HF folder and quantize it into each type; stage the files in `work`."""
    converted = work / f"converted-{intermediate}.gguf.partial"
    log(f"converting {hf_dir} to GGUF {intermediate} with llama.cpp's convert_hf_to_gguf.py")
    convert_to_gguf(hf_dir, converted, intermediate, work)
    if meta:
        with_meta = work / f"{stem}-{intermediate}.gguf.partial"
        copy_with_metadata(converted, with_meta, meta)
        converted.unlink()
        converted = with_meta
    for qtype in types:
        final = out / f"{stem}-{qtype}.gguf"
        if qtype == intermediate:
            tmp = converted
        else:
            tmp = work / f"{stem}-{qtype}.gguf.partial"
            log(f"quantizing to {qtype}")
            quantize(converted, tmp, qtype, threads)
        staged.append((tmp, final))
        result.outputs.append(GgufOutput(str(final), role, qtype, tmp.stat().st_size))


def _adapter_route(
    src: ExportSource,
    types: Sequence[str],
    intermediate: str,
    work: Path,
    out: Path,
    meta: dict[str, str],
    staged: list[tuple[Path, Path]],
    result: GgufExportResult,
    threads: int | None,
    verify: bool,
    log: Log,
) -> None:
    assert src.base is not None
    adapter_tmp = work / f"{src.name}-lora-f16.gguf.partial"
    raw = work / "lora-raw.gguf.partial"
    log(f"converting the LoRA adapter {src.path} with llama.cpp's convert_lora_to_gguf.py")
    run_converter(
        "convert_lora_to_gguf.py",
        [str(src.path), "--base", str(base_config_folder(src.base, work)), "--outfile", str(raw),
         "--outtype", "f16"],
        work / "convert-lora.log",
    )  # fmt: skip
    if meta:
        copy_with_metadata(raw, adapter_tmp, meta)
        raw.unlink()
    else:
        os.replace(raw, adapter_tmp)
    adapter_final = out / f"{src.name}-lora-f16.gguf"
    staged.append((adapter_tmp, adapter_final))
    result.outputs.append(GgufOutput(str(adapter_final), "adapter", "f16", adapter_tmp.stat().st_size))

    if src.base_is_gguf:
        bases = [(src.base, src.base)]  # use the user's base GGUF as it is
    else:
        n_before = len(staged)
        base_stem = src.base.resolve().name
        _model_files(src.base, base_stem, types, intermediate, work, out, {}, "base", staged, result,
                     threads, log)  # fmt: skip
        bases = staged[n_before:]
    if verify:
        for tmp, final in bases:
            text = verify_gguf(tmp, lora_path=adapter_tmp, threads=threads)
            log(f"verified {adapter_final.name} over {Path(final).name}: generates {text!r}")
            for output in result.outputs:
                if output.path in (str(final), str(adapter_final)):
                    output.verify_text = text

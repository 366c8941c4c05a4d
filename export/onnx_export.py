"""`kpdd export onnx`: Hugging Face model / LoRA adapter / KPDD run -> ONNX decoder with KV cache.

Exporter: onnxruntime-genai's model builder (`python -m onnxruntime_genai.models.builder`), which works
with the project's transformers 5.x; optimum's exporter needs transformers < 4.58 (measured in the
closing note of the export issue). The builder writes a generation-ready decoder (past/present keys and
values, GroupQueryAttention), `genai_config.json` and the tokenizer, readable by `OnnxBackend`
(plain onnxruntime) and by onnxruntime-genai.

Variants: `fp32/` and `int8/` (the builder's int8 CPU precision: weight-only 8-bit MatMulNBits;
`--int4` adds the builder's int4 variant). Each folder also gets `kpdd_model.json` with the KPDD metadata
(format version, modes, base model, provenance), the ONNX counterpart of the GGUF kpdd.* keys.

Like the GGUF export, everything is built in a hidden work folder inside the output folder, verified
(loaded in onnxruntime, a few tokens generated) and only then renamed to its final name.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from export.errors import ExportError
from export.gguf_export import WORK_PREFIX, _clean_stale_work_dirs, check_free_space, merge_adapter
from export.metadata import kpdd_metadata
from export.onnx_backend import MODEL_INFO_FILE
from export.source import architecture, check_hf_folder, parameter_count, resolve_source

Log = Callable[[str], None]
# The builder's supported decoder families (model_type values), checked before any heavy work.
BUILDER_ARCHITECTURES = (
    "LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM", "PhiForCausalLM",
    "Phi3ForCausalLM", "GemmaForCausalLM", "Gemma2ForCausalLM", "Gemma3ForCausalLM", "GraniteForCausalLM",
    "OlmoForCausalLM", "ChatGLMModel", "NemotronForCausalLM", "SmolLM3ForCausalLM", "ErnieForCausalLM",
    "GptOssForCausalLM",
)  # fmt: skip
BUILDER_PRECISION = {"fp32": "fp32", "int8": "int8", "int4": "int4"}


def run_builder(hf_dir: Path, out: Path, precision: str, cache: Path, log_path: Path) -> None:
    """Run onnxruntime-genai's model builder for CPU in a subprocess (a crash cannot take us down)."""
    try:
        import onnxruntime_genai  # noqa: F401
    except ImportError as exc:
        raise ExportError(
            "onnxruntime-genai is not installed (pip install 'kpdd-tutor[export]'); it builds the ONNX model."
        ) from exc
    cmd = [
        sys.executable, "-m", "onnxruntime_genai.models.builder", "-m", str(hf_dir), "-i", str(hf_dir),
        "-o", str(out), "-p", BUILDER_PRECISION[precision], "-e", "cpu", "-c", str(cache),
    ]  # fmt: skip
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    with open(log_path, "w", encoding="utf-8") as log:
        code = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env).returncode
    if code != 0 or not (out / "model.onnx").is_file():
        lines = [line for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines() if line]
        if code < 0:
            raise ExportError(f"The ONNX export was interrupted (the builder was stopped by signal {-code}).")
        raise ExportError(
            f"The ONNX model builder failed ({precision}, exit code {code}):\n" + "\n".join(lines[-10:])
        )


def verify_onnx(folder: Path, threads: int | None = None) -> str:
    """Load an exported folder with OnnxBackend and generate a few greedy tokens."""
    import numpy as np

    from export.onnx_backend import OnnxBackend
    from kpdd.backend import BackendError

    try:
        backend = OnnxBackend(folder, threads=threads)
    except BackendError as exc:
        raise ExportError(str(exc)) from exc
    try:
        ids = backend.tokenize(
            "### Problem\nTom has 3 apples and buys 5 more. How many apples does he have?\n"
        )
        logits = backend._forward(ids)
        if not np.all(np.isfinite(logits)):
            raise ExportError(f"{folder.name}: the ONNX model produces non-finite logits.")
        return backend.detokenize(backend.greedy_tokens(ids, 8))
    finally:
        backend.close()


def export_onnx(
    input_dir: str | Path,
    out_dir: str | Path,
    base: str | Path | None = None,
    int8: bool = True,
    int4: bool = False,
    check_space: bool = True,
    verify: bool = True,
    threads: int | None = None,
    log: Log = print,
) -> dict[str, Any]:
    """Export fp32 (and int8/int4) ONNX folders `out_dir/fp32`, `out_dir/int8`, ...; return a summary."""
    start = time.perf_counter()
    src = resolve_source(input_dir, base=base)
    hf_folder = src.base if src.adapter else src.path
    if hf_folder is not None and hf_folder.is_dir():
        arch = architecture(check_hf_folder(hf_folder))
        if arch not in BUILDER_ARCHITECTURES:
            raise ExportError(f"The ONNX model builder does not support architecture {arch!r}.")
    precisions = ["fp32"] + (["int8"] if int8 else []) + (["int4"] if int4 else [])
    out = Path(out_dir).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    _clean_stale_work_dirs(out)
    if check_space and hf_folder is not None and hf_folder.is_dir():
        n = parameter_count(hf_folder)
        per = {"fp32": 4.0, "int8": 1.3, "int4": 0.8}  # int variants keep the embedding in float
        need = int(n * (sum(per[p] for p in precisions) + (4 if src.adapter else 0)) * 1.1) + 64 * 2**20
        check_free_space(out, need)
    meta = kpdd_metadata(src.run, "onnxruntime-genai model builder")
    info: dict[str, Any] = {}
    if src.run is not None:
        info = {
            "format_version": src.run.format_version,
            "modes": list(src.run.modes),
            "base_model": src.run.base_model,
            "provenance": json.loads(meta["kpdd.provenance"]),
        }
    work = Path(tempfile.mkdtemp(prefix=WORK_PREFIX, dir=out))
    (work / "pid").write_text(str(os.getpid()))
    summary: dict[str, Any] = {"outputs": [], "metadata": info}
    try:
        if src.adapter:
            log(f"merging the LoRA adapter {src.path.name} into {src.base}")
            hf_dir = work / "merged"
            merge_adapter(src, hf_dir)
        else:
            hf_dir = src.path
        staged = []
        for precision in precisions:
            folder = work / precision
            log(f"building the ONNX model ({precision}) with onnxruntime-genai's model builder")
            run_builder(hf_dir, folder, precision, work / "cache", work / f"builder-{precision}.log")
            (folder / MODEL_INFO_FILE).write_text(json.dumps(info, indent=2), encoding="utf-8")
            text = verify_onnx(folder, threads) if verify else ""
            if verify:
                log(f"verified {precision}: generates {text!r}")
            size = sum(p.stat().st_size for p in folder.iterdir() if p.name.startswith("model.onnx"))
            staged.append((folder, out / precision))
            summary["outputs"].append(
                {
                    "path": str(out / precision),
                    "precision": precision,
                    "size_bytes": size,
                    "verify_text": text,
                }
            )
        for tmp, final in staged:
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp, final)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary["seconds"] = round(time.perf_counter() - start, 1)
    return summary

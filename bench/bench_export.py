"""Benchmark of the export path on the SmolLM2-135M-Instruct base: the `kpdd export check` table.

Steps (each skipped when its output already exists in --work, so a rerun only re-measures):
1. SmolLM2's GGUF (Q4_1, the default model) -> a float Hugging Face folder (dequantized by transformers);
   this is the "HF float" reference;
2. `kpdd export gguf` -> f16, q8_0, q4_k_m;
3. `kpdd export onnx` -> fp32, int8 (onnxruntime-genai builder);
4. `kpdd export check` on the first N GSM8K test problems: agreement@K with the HF reference, accuracy
   (staged solver, PoT, few-shot), size and tokens/s. Prints the table and saves JSON.

    .venv/bin/python bench/bench_export.py --limit 50 --out bench/results/export_check.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> int:
    from distill.hf_models import load_base, save_plain
    from export.check import format_table, run_check
    from export.gguf_export import export_gguf
    from export.onnx_export import export_onnx
    from kpdd import models, paths

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--gguf", default=str(paths.models_dir() / models.SMOLLM2.file_name), help="source GGUF"
    )
    parser.add_argument("--work", default="/tmp/kpdd-bench-export", help="folder for the exported files")
    parser.add_argument("--limit", type=int, default=5, help="GSM8K test problems (50 for the closing note)")
    parser.add_argument("--k", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--no-onnx", action="store_true")
    parser.add_argument("--out", default=None, help="save the report JSON here")
    args = parser.parse_args()

    work = Path(args.work)
    hf_dir = work / "smollm2-hf"
    if not (hf_dir / "config.json").is_file():
        print(f"dequantizing {args.gguf} -> {hf_dir}", file=sys.stderr)
        model, tokenizer = load_base(Path(args.gguf))
        save_plain(model, hf_dir, tokenizer)
        del model
    gguf_dir = work / "gguf"
    types = ["f16", "q8_0", "q4_k_m"]
    ggufs = [gguf_dir / f"smollm2-{t}.gguf" for t in types]
    if not all(p.is_file() for p in ggufs):
        export_gguf(hf_dir, gguf_dir, types=types, name="smollm2", threads=args.threads)
    onnx_dirs: list[Path] = []
    if not args.no_onnx:
        onnx_root = work / "onnx"
        onnx_dirs = [onnx_root / "fp32", onnx_root / "int8"]
        if not all((p / "model.onnx").is_file() for p in onnx_dirs):
            export_onnx(hf_dir, onnx_root)
    out = args.out or str(work / f"check-{args.limit}.json")
    report = run_check(
        str(hf_dir),
        ggufs=[str(p) for p in ggufs],
        onnx=[str(p) for p in onnx_dirs],
        data="gsm8k",
        data_dir=args.data_dir,
        limit=args.limit,
        k=args.k,
        threads=args.threads,
        out=out,
        log=lambda msg: print(msg, file=sys.stderr),
    )
    print(format_table(report))
    print(f"saved {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

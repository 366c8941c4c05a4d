"""`python -m export.gguf_merge BASE.gguf ADAPTER.gguf -o MERGED.gguf [--merged-type Q8_0]`: a GGUF
LoRA adapter merged into its quantized GGUF base. The merge itself is kpdd/gguf_merge.py (the app's
setup merges the shipped student with it); its docstring says how, and what merging costs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kpdd.gguf_merge import MergeError, merge_lora_gguf


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("base", type=Path, help="the quantized base model (GGUF)")
    parser.add_argument("adapter", type=Path, help="a GGUF LoRA adapter of that base")
    parser.add_argument("-o", "--out", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument(
        "--merged-type", help="e.g. Q8_0: every merged weight in it (default: the base's types)"
    )
    args = parser.parse_args(argv)
    try:
        merge_lora_gguf(args.base, args.adapter, args.out, args.threads, merged_type=args.merged_type)
    except (MergeError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

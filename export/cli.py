"""`kpdd export ...`: the command line of the export tools.

    kpdd export fetch-converter [--sdist FILE]          # cache llama.cpp's converters (setup/CI run this)
    kpdd export gguf MODEL_OR_RUN -o OUT [--types f16,q8_0,q4_k_m] [--route merged|adapter] [--base PATH]
    kpdd export onnx MODEL_OR_RUN -o OUT [--no-int8]
    kpdd export check --hf DIR [--gguf F ...] [--onnx DIR ...] [--data gsm8k] [--limit N] [--out FILE.json]
    kpdd export manifest RUN ADAPTER.gguf --base BASE.gguf --name NAME -o resources/models/NAME.json

`register(subparsers)` adds these to the `kpdd` parser. torch, transformers and llama_cpp are imported
inside the functions only, so `kpdd` starts fast and works without them.
`python -m export ...` runs the same commands without the rest of the kpdd CLI.
"""

from __future__ import annotations

import argparse
import json
import sys

GGUF_DEFAULT_TYPES = "f16,q8_0,q4_k_m"


def _gguf(args: argparse.Namespace) -> int:
    from export.errors import ExportError
    from export.gguf_export import export_gguf

    try:
        result = export_gguf(
            args.input,
            args.out,
            types=[t for t in args.types.split(",") if t.strip()],
            base=args.base,
            route=args.route,
            name=args.name,
            verify=not args.no_verify,
            check_space=not args.no_space_check,
            threads=args.threads,
            log=lambda msg: print(msg, file=sys.stderr),
        )
    except ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; no output file was written.", file=sys.stderr)
        return 130
    if args.json:
        print(result.to_json())
    else:
        for out in result.outputs:
            print(f"{out.path}\t{out.role}\t{out.type}\t{out.size_bytes / 2**20:.1f} MiB")
        if result.metadata:
            print(
                "kpdd metadata: "
                + ", ".join(f"{k}={v}" for k, v in result.metadata.items() if k != "kpdd.provenance")
            )
        print(f"done in {result.seconds:.1f} s")
    return 0


def _fetch(args: argparse.Namespace) -> int:
    from export.converter import fetch_converter
    from export.errors import ExportError

    try:
        path = fetch_converter(sdist=args.sdist, force=args.force)
    except ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


def _onnx(args: argparse.Namespace) -> int:
    from export.errors import ExportError
    from export.onnx_export import export_onnx

    try:
        result = export_onnx(
            args.input,
            args.out,
            base=args.base,
            int8=not args.no_int8,
            check_space=not args.no_space_check,
            log=lambda msg: print(msg, file=sys.stderr),
        )
    except ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; no output folder was written.", file=sys.stderr)
        return 130
    print(json.dumps(result, indent=2))
    return 0


def _check(args: argparse.Namespace) -> int:
    from export.check import run_check
    from export.errors import ExportError

    try:
        report = run_check(
            hf=args.hf,
            ggufs=args.gguf or [],
            onnx=args.onnx or [],
            data=args.data,
            data_dir=args.data_dir,
            limit=args.limit,
            k=args.k,
            max_tokens=args.max_tokens,
            threads=args.threads,
            out=args.out,
            log=lambda msg: print(msg, file=sys.stderr),
        )
    except ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    from export.check import format_table

    print(format_table(report))
    if args.out:
        print(f"saved {args.out}")
    return 0


def _manifest(args: argparse.Namespace) -> int:
    from pathlib import Path

    from export.errors import ExportError
    from export.manifest import student_manifest, write_student

    notes = {}
    for item in args.note or []:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            print(f"error: --note wants KEY=TEXT, not {item!r}", file=sys.stderr)
            return 2
        notes[key.strip()] = text.strip()
    adapter = Path(args.adapter)
    try:
        manifest = student_manifest(
            Path(args.run), adapter, Path(args.base).expanduser(), name=args.name,
            description=args.description, license_text=args.license, recipe_file=args.recipe_file, notes=notes,
            merged_type=args.merged_type or "",
        )  # fmt: skip
        out = write_student(manifest, adapter, Path(args.out))
    except (ExportError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"wrote {out} ({manifest['adapter']}, {manifest['size'] / 1e6:.1f} MB, sha256 {manifest['sha256'][:12]}...)"
    )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `export` with its sub-commands to the kpdd CLI."""
    export = subparsers.add_parser("export", help="export a model to GGUF / ONNX and check parity")
    sub = export.add_subparsers(dest="export_command", metavar="{gguf,onnx,check,fetch-converter}")
    sub.required = True

    fetch = sub.add_parser("fetch-converter", help="cache llama.cpp's converter scripts (needs network once)")
    fetch.add_argument("--sdist", help="a llama-cpp-python sdist (.tar.gz) already on disk")
    fetch.add_argument("--force", action="store_true", help="fetch again even when cached")
    fetch.set_defaults(func=_fetch)

    gguf = sub.add_parser("gguf", help="convert to GGUF, quantize, write KPDD metadata, verify")
    gguf.add_argument("input", help="a Hugging Face model folder, a PEFT LoRA adapter or a KPDD run folder")
    gguf.add_argument("-o", "--out", required=True, help="output folder")
    gguf.add_argument(
        "--types", default=GGUF_DEFAULT_TYPES, help=f"comma-separated (default {GGUF_DEFAULT_TYPES})"
    )
    gguf.add_argument(
        "--route",
        choices=("merged", "adapter"),
        default="merged",
        help="for a LoRA adapter: merge it into the weights, or write a GGUF LoRA adapter",
    )
    gguf.add_argument("--base", help="base model of a LoRA adapter (HF folder or GGUF file)")
    gguf.add_argument("--name", help="file name stem (default: the input folder's name)")
    gguf.add_argument("--threads", type=int, default=None)
    gguf.add_argument("--no-verify", action="store_true", help="skip loading each file in llama.cpp")
    gguf.add_argument("--no-space-check", action="store_true", help="skip the free disk space check")
    gguf.add_argument("--json", action="store_true", help="print the result as JSON")
    gguf.set_defaults(func=_gguf)

    onnx = sub.add_parser("onnx", help="export to ONNX (with KV cache) and an int8 variant")
    onnx.add_argument("input", help="a Hugging Face model folder, a PEFT LoRA adapter or a KPDD run folder")
    onnx.add_argument("-o", "--out", required=True, help="output folder (fp32/ and int8/ go inside)")
    onnx.add_argument("--base", help="base model of a LoRA adapter (HF folder or GGUF file)")
    onnx.add_argument("--no-int8", action="store_true", help="skip the int8 variant")
    onnx.add_argument("--no-space-check", action="store_true", help="skip the free disk space check")
    onnx.set_defaults(func=_onnx)

    check = sub.add_parser("check", help="side-by-side parity: agreement, accuracy, size, tokens/s")
    check.add_argument(
        "--hf", required=True, help="the float reference (HF folder or a GGUF file to dequantize)"
    )
    check.add_argument("--gguf", action="append", help="a GGUF file to compare (repeat)")
    check.add_argument("--onnx", action="append", help="an ONNX model folder to compare (repeat)")
    check.add_argument("--data", default="gsm8k", help="gsm8k|svamp|asdiv|multiarith|PATH.jsonl")
    check.add_argument("--data-dir", default=None, help="folder of the data sets")
    check.add_argument("--limit", type=int, default=10, help="number of problems")
    check.add_argument("--k", type=int, default=32, help="tokens compared for greedy agreement")
    check.add_argument("--max-tokens", type=int, default=256, help="cap of the generated solution")
    check.add_argument("--threads", type=int, default=None)
    check.add_argument("--out", help="save the table as JSON here")
    check.set_defaults(func=_check)

    manifest = sub.add_parser(
        "manifest", help="describe an exported adapter for resources/models/ (sha256, provenance)"
    )
    manifest.add_argument("run", help="the KPDD run folder the adapter was exported from")
    manifest.add_argument("adapter", help="the adapter GGUF (`kpdd export gguf RUN --route adapter`)")
    manifest.add_argument("--base", required=True, help="the base GGUF the adapter goes over")
    manifest.add_argument("--name", required=True, help="the name users see, e.g. 'KPDD SmolLM2-135M'")
    manifest.add_argument("--description", default="")
    manifest.add_argument("--license", default="")
    manifest.add_argument("--recipe-file", default="", help="the recipe of the last sitting, for the record")
    manifest.add_argument("--note", action="append", metavar="KEY=TEXT", help="a provenance note (repeat)")
    manifest.add_argument(
        "--merged-type",
        help="e.g. Q8_0: `kpdd setup` merges the adapter into its base in this type (measure it first: "
        "bench/bench_candidate.py --model)",
    )
    manifest.add_argument(
        "-o", "--out", required=True, help="the manifest (.json); the adapter is copied beside it"
    )
    manifest.set_defaults(func=_manifest)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m export")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["export", *(argv if argv is not None else sys.argv[1:])])
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())

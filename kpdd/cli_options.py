"""What several `kpdd` commands share: the extension points of the packages beside kpdd/, the options
that choose a model, a second opinion and samples, opening the solver they describe, and whether
programs may run here (the sandbox's protection, said on stderr)."""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import EntryPoint, distributions

from kpdd.format import Mode

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

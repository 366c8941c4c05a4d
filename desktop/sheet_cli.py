"""`kpdd sheet PROBLEMS -o OUT.pdf|.html|.md`: solve a list of problems and write a solution sheet.

Solving goes through `kpdd.batch` with its resumable results file, so an interrupted run continues
where it stopped. PDF needs Qt (PySide6, the `desktop` extra); HTML and Markdown do not.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers) -> None:
    from kpdd.cli_options import SAMPLES_HELP, add_model_arguments, samples_argument
    from kpdd.sheets import SolutionView
    from kpdd.solver import AUTO_SAMPLES

    parser = subparsers.add_parser(
        "sheet", help="solve a list of problems and write a solution sheet (PDF/HTML/MD)"
    )
    parser.add_argument(
        "problems",
        help="a .txt (one problem per paragraph, or per line when each line is a question), .csv or .jsonl list",
    )
    parser.add_argument("-o", "--out", required=True, help="OUT.pdf, OUT.html or OUT.md")
    parser.add_argument("--title", help="the sheet's title (default: from the file name)")
    parser.add_argument("--date", default="", help="the date printed on the sheet (default: today)")
    parser.add_argument(
        "--student-copy", action="store_true", help="problems with space to work, no solutions"
    )
    parser.add_argument("--answer-key", action="store_true", help="add the answers on their own last page")
    parser.add_argument(
        "--show", choices=[v.value for v in SolutionView], default=SolutionView.STEPS.value,
        help="a program's solution as worked steps (default), as the program, or both",
    )  # fmt: skip
    parser.add_argument("--mode", choices=["pot", "cot", "both"], default="pot")
    parser.add_argument(
        "--samples", type=samples_argument, default=AUTO_SAMPLES, help=SAMPLES_HELP + " (default: auto)"
    )
    parser.add_argument(
        "--results", help="where to keep solved results (default: in the data folder; resumable)"
    )
    add_model_arguments(parser)
    parser.set_defaults(func=cmd_sheet)


def cmd_sheet(args: argparse.Namespace) -> int:
    from kpdd.batch import default_results_path, describe_problems, read_problems, run_batch
    from kpdd.sheets import SheetItem, SheetOptions, SolutionView, verdict_summary

    out = Path(args.out)
    if out.suffix.lower() not in (".pdf", ".html", ".htm", ".md", ".markdown"):
        print("error: -o must end in .pdf, .html or .md", file=sys.stderr)
        return 2
    problems = read_problems(args.problems)
    # Said before the model loads: a list read as one problem is seen before minutes of solving.
    print("\n".join(describe_problems(problems, Path(args.problems).name)), file=sys.stderr, flush=True)
    results_path = (
        Path(args.results) if args.results else default_results_path(args.problems, args.mode, args.samples)
    )
    from kpdd.cli_options import open_solver, programs_may_run

    if not programs_may_run(args.mode):
        return 2
    solver = open_solver(args, batch=True)  # a worksheet: every answer checked when a second opinion is on

    from tqdm import tqdm

    bars: list = []

    def progress(p) -> None:
        if not bars:  # the first report, before any solving: say what is kept, then a bar for the rest
            if p.resumed:
                print(f"{p.resumed} of {p.total} problems were already solved (kept in {results_path}); "
                      f"solving the other {p.total - p.resumed}.", file=sys.stderr, flush=True)  # fmt: skip
            bars.append(tqdm(total=p.total - p.resumed, unit="problem", desc="solving", file=sys.stderr))
        bars[0].update(p.done - p.resumed - bars[0].n)

    try:
        outcome = run_batch(
            solver, problems, results_path, mode=args.mode, samples=args.samples, progress=progress
        )
    except KeyboardInterrupt:
        print(f"\nInterrupted: finished problems are kept in {results_path}; run the same command to resume.",
              file=sys.stderr)  # fmt: skip
        return 130
    finally:
        solver.backend.close()
        for bar in bars:
            bar.close()
    items = [SheetItem.from_result(r) if r is not None else SheetItem(problem=p.question)
             for p, r in zip(problems, outcome.results)]  # fmt: skip
    options = SheetOptions(
        title=args.title or Path(args.problems).stem.replace("_", " ").replace("-", " ").strip().capitalize(),
        date=args.date,
        student_copy=args.student_copy,
        answer_key=args.answer_key,
        solution_view=SolutionView(args.show),
    )
    from desktop.pdf import write_sheet

    write_sheet(items, options, out)
    count = f"{len(items)} problem" + ("" if len(items) == 1 else "s")
    print(f"Wrote {out} ({count}; {verdict_summary(items)})")
    return 0

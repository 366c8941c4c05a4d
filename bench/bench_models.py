"""Every model the tutor lists, on one seeded random sample of the four test sets (docs/MODEL_CARD.md).

Accuracy: `kpdd eval` on the same 300 problems of each set for every configuration: the dev split
(problems 1-300 of each set's `--shuffle 0` order, 1200 problems; tune here) or with `--split test`
the test split (301-600; report here, once per model we ship, in runs/bench-models-test), batched on llama.cpp (`--batch-size 8`: continuous batching, each
problem's stages in one sequence), so configurations are compared problem by problem (McNemar).
Time to answer: the first `--latency N` problems of each set's sample again, one at a time on 2
threads as the app solves them (`--batch-size 1`), in the same run so the figures sit side by side.
Every report is a resumable `kpdd eval --out` file under --out: an interrupted bench picks up where
it stopped, and a rerun only prints.

    .venv/bin/python bench/bench_models.py --configs student05-pot,qwen05-fewshot-pot
    .venv/bin/python bench/bench_models.py --limit 300 --latency 10          # the model card's run (dev)
    .venv/bin/python bench/bench_models.py --split test --configs cascade05-15 --latency 0  # a shipped model, reported
    .venv/bin/python bench/bench_models.py --render-only                     # print what is measured
    .venv/bin/python bench/bench_models.py --render-only --configs student05-pot --against runs/bench-models-s1
                                    # a new default against the old one's reports, kept in another folder

Configurations (`--configs`):
    qwen05-fewshot-pot   Qwen2.5-Coder-0.5B-Instruct Q4_K_M, few-shot in the KPDD format (the student's base)
    student05-pot        the KPDD Qwen2.5-Coder-0.5B student (the default), Program mode
    student05-cot        the same student, Steps mode
    student05-auto       the same student, Program mode with Auto samples (the app's default)
    student05-both       the same student, Both mode (program and steps checking each other)
    cascade05-15         the student first; the 1.5B's solution joins the vote when the student's answer looks
                         wrong (`--second-opinion`)
    cascade05-15-every   the same, the 1.5B asked about every answer (`--second-opinion-on every`)
    qwen15-fewshot-pot   Qwen2.5-Coder-1.5B-Instruct Q4_K_M, few-shot: the teacher's reference row
    smollm2-student-pot  the first student (KPDD SmolLM2-135M, gold data)
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_student import (  # noqa: E402
    SET_NAMES,
    SETS,
    accuracy_table,
    load_report,
    paired_table,
    pairs_table,
    report_path,
)

# Pairs compared problem by problem: the distillation (student against its own base), the new
# student against the first one, and against its teacher.
PAIRS = (
    ("student05-pot", "qwen05-fewshot-pot"),
    ("student05-pot", "smollm2-student-pot"),
    ("student05-pot", "qwen15-fewshot-pot"),
    ("student05-pot", "student05-cot"),
    ("student05-auto", "student05-pot"),
    ("cascade05-15", "student05-pot"),
)


def configs() -> dict[str, dict[str, Any]]:
    """name -> `kpdd eval` arguments (model names as `kpdd models` lists them)."""
    from kpdd import models

    student = next((e for e in models.bundled_students() if "0.5B" in e.name), None)
    old = next((e for e in models.bundled_students() if "SmolLM2" in e.name), None)
    out = {
        "qwen05-fewshot-pot": {"model": models.QWEN_CODER_05B.name, "mode": "pot"},
        "qwen15-fewshot-pot": {"model": models.QWEN_CODER_15B.name, "mode": "pot"},
    }
    if student is not None:
        out["student05-pot"] = {"model": student.name, "mode": "pot"}
        out["student05-cot"] = {"model": student.name, "mode": "cot"}
        out["student05-auto"] = {"model": student.name, "mode": "pot", "samples": "auto"}
        out["student05-both"] = {"model": student.name, "mode": "both"}
        out["cascade05-15"] = {
            "model": student.name,
            "mode": "pot",
            "second_opinion": models.QWEN_CODER_15B.name,
        }
        out["cascade05-15-every"] = {**out["cascade05-15"], "second_opinion_on": "every"}
    if old is not None:
        out["smollm2-student-pot"] = {"model": old.name, "mode": "pot"}
    return out


def split_words(split: str, limit: int) -> str:
    """Which problems a table is on, in words."""
    from kpdd.datasets import EVAL_SPLITS

    start, end = EVAL_SPLITS[split]
    return f"problems {start + 1}-{min(end, start + limit)} of each set's seeded order (--shuffle 0)"


def run_eval(name: str, config: dict[str, Any], data: str, limit: int, out: Path, batch_size: int,
             threads: int, data_dir: Path, split: str = "dev") -> None:  # fmt: skip
    """One resumable `kpdd eval`; its progress goes to a .log beside the report."""
    report = report_path(out, name, data)
    report.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "kpdd.cli", "eval", "--data", data, "--mode", config["mode"],
               "--model", config["model"], "--limit", str(limit), "--shuffle", "0",
               "--batch-size", str(batch_size), "--threads", str(threads), "--out", str(report),
               "--data-dir", str(data_dir), "--samples", str(config.get("samples", 1))]  # fmt: skip
    if split == "test":  # problems 301-600 of the same order; dev is its first 300, as the records were run
        command += ["--split", "test"]
    if config.get("lora"):
        command += ["--lora", str(config["lora"])]
    if config.get("second_opinion"):
        command += ["--second-opinion", config["second_opinion"]]
    if config.get("second_opinion_on"):
        command += ["--second-opinion-on", config["second_opinion_on"]]
    print(f"== {name} on {data} ({limit} problems, batch {batch_size})", file=sys.stderr, flush=True)
    with report.with_suffix(".log").open("a", encoding="utf-8") as log:
        subprocess.run(command, check=True, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)


def latency_table(out: Path, names: list[str]) -> str:
    """Seconds to the answer; with a second opinion also to the first model's answer, which the
    window shows while the second model works (a problem nobody was asked about: its whole time)."""
    lines = [
        "| configuration | problems | median s | p90 s | first answer: median s | p90 s | completion tokens/problem |",
        "|---|---|---|---|---|---|---|",
    ]

    def median_p90(values: list[float]) -> str:
        values = sorted(values)
        return f"{statistics.median(values):.2f} | {values[min(len(values) - 1, int(0.9 * len(values)))]:.2f}"

    for name in names:
        records = [r for data in SETS if (rep := load_report(out, name, data)) for r in rep["records"]]
        if not records:
            continue
        first = [r.get("first_answer_seconds") or r["seconds"] for r in records]
        tokens = statistics.mean(r["completion_tokens"] for r in records)
        lines.append(
            f"| {name} | {len(records)} | {median_p90([r['seconds'] for r in records])} | {median_p90(first)} "
            f"| {tokens:.0f} |"
        )
    return "\n".join(lines)


def answer_source_table(out: Path, names: list[str]) -> str:
    """How many answers came from a program that never set `answer` (read by its last assignment)."""
    lines = ["| configuration | answers | from the last assignment | of them right |", "|---|---|---|---|"]
    for name in names:
        records = [r for data in SETS if (rep := load_report(out, name, data)) for r in rep["records"]]
        answered = [r for r in records if r["prediction"] is not None]
        fallback = [
            r for r in answered if any(s.get("answer_source") == "last_assignment" for s in r["solutions"])
        ]
        if records:
            right = sum(r["correct"] for r in fallback)
            lines.append(f"| {name} | {len(answered)} | {len(fallback)} | {right} |")
    return "\n".join(lines)


def first_answer_table(out: Path, name: str) -> str:
    """A second-opinion configuration against its own first answers: the first model's greedy
    solution is the first of each record, so the pairing needs no separate run of the first model
    (on the same problems a separate greedy run gives the same answers: batches decode the same)."""
    from kpdd.answers import answers_match

    rows = []
    for data in SETS:
        report = load_report(out, name, data)
        if report is not None:
            pairs = [(r["correct"], bool(r["solutions"]) and answers_match(r["solutions"][0]["answer"], r["gold"]))
                     for r in report["records"]]  # fmt: skip
            asked = sum(bool(r["second_opinion"]) for r in report["records"])
            rows.append((f"{SET_NAMES[data]} (asked {asked})", pairs))
    if not rows:
        return f"(no {name} reports)"
    return pairs_table(rows, name, "its first answer")


def write_measured(out: Path, latency_out: Path, table: dict[str, dict[str, Any]], names: list[str],
                   threads: int, split: str = "dev") -> Path:  # fmt: skip
    """resources/models/measured.json: each model's Program-mode figures, shown by `kpdd models` and
    the app's model manager. Only configurations measured on all four sets are written."""
    from kpdd.models import MEASURED_FILE, files
    from kpdd.paths import atomic_write_text

    path = files.resources_dir() / "models" / MEASURED_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    models = data.get("models", {})
    for name in names:
        config = table[name]
        if config["mode"] != "pot" or config.get("samples", 1) != 1:
            continue
        reports = [load_report(out, name, d) for d in SETS]
        latency = [r for d in SETS if (rep := load_report(latency_out, name, d)) for r in rep["records"]]
        known = models.get(config["model"], {})
        if any(r is None for r in reports):
            # Timed again without its accuracy run (the time to answer is its own run anyway): the
            # figures already written keep their accuracy and take the new median.
            if latency and not config.get("second_opinion") and known.get("mode") == "pot":
                known["median_s"] = round(statistics.median(r["seconds"] for r in latency), 2)
            continue
        figures = {
            "mode": "cascade" if config.get("second_opinion") else "pot",
            "accuracy": round(statistics.mean(r["summary"]["accuracy"] for r in reports), 4),
            "by_set": {d: round(r["summary"]["accuracy"], 4) for d, r in zip(SETS, reports)},
            "problems": sum(r["summary"]["n"] for r in reports),
            "median_s": round(statistics.median(r["seconds"] for r in latency), 2) if latency else None,
            "threads": threads,
            "split": split,  # dev (tuned on) or test (reported): `kpdd models` says which
        }
        if config.get("second_opinion"):  # shown beside the first model's own figures
            figures["model"] = config["second_opinion"]
            key = "second_opinion_every" if config.get("second_opinion_on") == "every" else "second_opinion"
            models.setdefault(config["model"], {})[key + ("_test" if split == "test" else "")] = figures
        elif split == "test":  # the figure it ships with, beside the dev figures everything is tuned on
            models.setdefault(config["model"], {})["test"] = figures
        else:
            kept = {k: v for k, v in known.items() if k.startswith("second_opinion") or k == "test"}
            models[config["model"]] = {**figures, **kept}
    data = {
        "sample": "the first problems of a seeded random order (seed 0) of GSM8K test, SVAMP, ASDiv and "
        "MultiArith, the same for every model (`problems` counts them), greedy (under second_opinion: with "
        "that model asked when the first answer looks doubtful; under second_opinion_every: about every answer, "
        "composed from the two models' runs by bench/bench_every_answer.py); accuracy is the four-set average; "
        "time to answer on the first 10 of each set, one at a time",
        "command": "python bench/bench_models.py --render-only --write-measured (docs/MODEL_CARD.md lists the runs)",
        "models": models,
    }
    atomic_write_text(path, json.dumps(data, indent=1, sort_keys=True) + "\n")
    return path


def render(out: Path, latency_out: Path, table: dict[str, dict[str, Any]], names: list[str],
           args: argparse.Namespace) -> str:  # fmt: skip
    """The bench's report: accuracy, time to answer, answers read from a last assignment, and the
    pairs compared problem by problem."""
    accuracy, _ = accuracy_table(out, names)
    sections = [
        f"## Accuracy (%), {args.split} split: {split_words(args.split, args.limit)}\n" + accuracy,
        f"## Time to answer, one problem at a time on {args.threads} threads (first {args.latency} per set)\n"
        + latency_table(latency_out, names),
        "## Answers read from a program's last assignment\n" + answer_source_table(out, names),
        *(
            f"## {a} against {b}, problem by problem\n" + paired_table(out, a, b)
            for a, b in PAIRS
            if a in names and b in names
        ),
        *(
            f"## {name} against the first model's own answers, problem by problem\n"
            + first_answer_table(out, name)
            for name in names
            if table[name].get("second_opinion")
        ),
        *(
            f"## {name} against {name} in {args.against}, problem by problem\n"
            + paired_table(out, name, name, REPO / args.against, (name, args.against))
            for name in (names if args.against else [])
        ),
    ]
    return "\n\n".join(sections) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--configs", default="", help="comma-separated names (default: all available)")
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument(
        "--limit", type=int, default=300, help="problems per set in the seeded sample (0: only time them)"
    )
    parser.add_argument(
        "--latency", type=int, default=10, help="problems per set timed one at a time (0: none)"
    )
    parser.add_argument("--batch-size", type=int, default=8, help="problems decoded together for accuracy")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--split", choices=("dev", "test"), default="dev",
        help="dev: problems 1-300 of each set's seeded order (tune here); test: 301-600 (report here, once "
        "per shipped model)",
    )  # fmt: skip
    parser.add_argument(
        "--out", default=None, help="default: runs/bench-models (dev), runs/bench-models-test"
    )
    parser.add_argument(
        "--data-dir", default=str(REPO.parent / "shared" / "data"), help="folder holding the four test sets"
    )
    parser.add_argument(
        "--against",
        default="",
        help="another results folder (a previous default): each configuration paired with its namesake there",
    )
    parser.add_argument("--render-only", action="store_true")
    parser.add_argument(
        "--write-measured",
        action="store_true",
        help="write the figures to resources/models/measured.json (kpdd models, the app)",
    )
    args = parser.parse_args()

    table = configs()
    names = [n for n in args.configs.split(",") if n] or list(table)
    unknown = [n for n in names if n not in table]
    if unknown:
        parser.error(f"unknown or unavailable configurations: {', '.join(unknown)} (have {', '.join(table)})")
    sets = [d for d in args.sets.split(",") if d]
    out = REPO / (args.out or ("runs/bench-models" if args.split == "dev" else "runs/bench-models-test"))
    latency_out = out / "latency"
    data_dir = Path(args.data_dir).resolve()
    if not args.render_only:
        for name in names:
            for data in sets if args.limit else []:  # --limit 0: time only, the reports stay as they are
                run_eval(name, table[name], data, args.limit, out, args.batch_size, args.threads, data_dir,
                         args.split)  # fmt: skip
        if args.latency:
            for name in names:
                for data in sets:
                    run_eval(name, table[name], data, args.latency, latency_out, 1, args.threads, data_dir)
    text = render(out, latency_out, table, names, args)
    if not args.render_only and args.limit:
        (out / "results.md").write_text(text, encoding="utf-8")
    if args.write_measured:
        print(
            f"wrote {write_measured(out, latency_out, table, names, args.threads, args.split)}",
            file=sys.stderr,
        )
    print(text)
    print(json.dumps({"sets": [SET_NAMES[s] for s in sets]}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

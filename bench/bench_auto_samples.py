"""The student with Auto samples (what it does when the second opinion is off), on the whole seeded
sample, from the default's run plus a re-solve of only the problems Auto writes more for.

Auto writes one greedy solution and, only when its answer looks wrong (`kpdd.solver.looks_wrong`),
four more, and the five vote. The default's run (`bench/bench_models.py --configs cascade05-15`) holds
the student's greedy first answer to every problem, written exactly as Auto writes it. So Auto's answer
is that first answer wherever it looks fine today, and only the flagged problems need solving again,
with `--samples auto` and no second model (`kpdd eval` on a JSONL of them: resumable, and the first
answers are checked to come out as recorded). About one problem in four is flagged, so this costs a
quarter of a full `student05-auto` run.

Prints Auto against the student's first answers, problem by problem (McNemar), and the verdicts Auto's
answers get (how many land in each level and how often each is right: docs/VERDICTS.md), and writes
the composed reports as bench_models names the configuration (`<out>/student05-auto/<set>.json`, so
`bench_models.py --render-only --out <out>` reads them).

    .venv/bin/python bench/bench_auto_samples.py                          # runs/bench-models/cascade05-15
    .venv/bin/python bench/bench_auto_samples.py --default runs/bench-models/cascade05-15 --out runs/bench-auto
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_doubt_rule import solve_again  # noqa: E402
from bench_every_answer import composed, load_records, run_config, verdict_table  # noqa: E402
from bench_student import SET_NAMES, SETS, pairs_table  # noqa: E402

from kpdd.answers import answers_match  # noqa: E402
from kpdd.evaluate import summarize  # noqa: E402
from kpdd.format import Mode  # noqa: E402
from kpdd.judgement import looks_wrong  # noqa: E402
from kpdd.result import Solution  # noqa: E402

CONFIG_NAME = "student05-auto"


def flagged(record: dict[str, Any]) -> bool:
    """Auto writes four more solutions for this problem: its first answer looks wrong by today's rules."""
    first = record["solutions"][0]
    return looks_wrong(
        Solution(Mode(first["kind"]), first["text"], answer=first["answer"]), record["question"]
    )


def compose_auto(default: dict[str, dict], again: dict[str, dict]) -> list[dict]:
    """Auto's records, in the default's order: the re-solved record where the first answer is flagged
    (left out while it is not solved yet), else the first answer alone, voted by today's rules (a
    second model's solution in the default's record is dropped: Auto runs without one)."""
    out = []
    for pid, record in default.items():
        if not record["solutions"]:
            continue
        if flagged(record):
            if pid in again:
                out.append(composed(again[pid], again[pid]["solutions"], ""))
        else:
            out.append(composed(record, [{**record["solutions"][0], "model": ""}], ""))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--default", default="runs/bench-models/cascade05-15", help="the default's run")
    parser.add_argument("--out", default="runs/bench-auto", help="where re-solves and composed reports go")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--compose-only", action="store_true", help="solve nothing: compose what is solved")
    args = parser.parse_args()
    out = REPO / args.out
    (out / "resolved").mkdir(parents=True, exist_ok=True)
    rows, everything = [], []
    for data in SETS:
        default = load_records(REPO / args.default / f"{data}.json")
        if not default:
            continue
        model = run_config(REPO / args.default / f"{data}.json")["model"]
        todo = [r for r in default.values() if r["solutions"] and flagged(r)]
        again = load_records(out / "resolved" / f"{data}.json")
        if not args.compose_only:
            eval_args = ["--mode", "pot", "--samples", "auto", "--model", model]
            again = solve_again(todo, out / "resolved", data, eval_args, args.threads, args.batch_size)
        records = compose_auto(default, again)
        everything += records
        first = {pid: answers_match(r["solutions"][0]["answer"], r["gold"]) for pid, r in default.items()
                 if r["solutions"]}  # fmt: skip
        label = f"{SET_NAMES[data]} ({len(records)}; re-solved {sum(r['id'] in again for r in records)})"
        rows.append((label, [(r["correct"], first[r["id"]]) for r in records]))
        path = out / CONFIG_NAME / f"{data}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        report_config = {"data": data, "mode": "pot", "samples": "auto", "model": model,
                         "composed_from": [args.default, f"{args.out}/resolved"]}  # fmt: skip
        path.write_text(
            json.dumps({"config": report_config, "summary": summarize(records), "records": records})
        )
    if not rows:
        parser.error(f"no records in {args.default}")
    print("## Auto samples against the student's first answers, problem by problem\n")
    print(pairs_table(rows, "Auto", "first answer") + "\n")
    print("## The verdicts Auto's answers get\n")
    print(verdict_table(everything) + "\n")
    print(f"Composed reports: {args.out}/{CONFIG_NAME}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())

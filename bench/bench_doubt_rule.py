"""What a change to "looks wrong" (`kpdd.solver.looks_wrong`) does to the default with a second opinion.

A second-opinion run (`bench/bench_models.py --configs cascade05-15`) asks the second model only
about first answers that looked wrong by the rule of its day. When the rule flags more, only those
problems need the second model: every other problem is solved exactly as recorded (the student's
greedy first answer does not depend on the rule, and nothing is asked about it). This bench finds the
problems the current rule flags and the run did not ask about, solves just those with the second
opinion (`kpdd eval` on a JSONL of them: resumable), votes every problem again by today's rules
(`kpdd.solver.vote`: weights and tie-breaks), and prints the run's accuracy with the new answers
swapped in, paired problem by problem with the recorded one (McNemar).

    .venv/bin/python bench/bench_doubt_rule.py                          # runs/bench-models/cascade05-15
    .venv/bin/python bench/bench_doubt_rule.py --run runs/bench-models/cascade05-15 --out runs/doubt-rule
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_student import SET_NAMES, SETS, pairs_table, record_solutions  # noqa: E402

from kpdd.answers import answers_match  # noqa: E402
from kpdd.format import Mode  # noqa: E402
from kpdd.judgement import looks_wrong, vote  # noqa: E402
from kpdd.result import Solution  # noqa: E402


def newly_flagged(record: dict) -> bool:
    """The first answer looks wrong by today's rule, and the recorded run did not ask about it."""
    if record["second_opinion"] or not record["solutions"]:
        return False
    first = record["solutions"][0]
    solution = Solution(kind=Mode(first["kind"]), text=first["text"], answer=first["answer"])
    return looks_wrong(solution, record["question"])


def right_today(record: dict) -> bool:
    """The record's solutions voted by today's rules, against the gold answer."""
    return answers_match(vote(record_solutions(record), record["question"])[0], record["gold"])


def solve_again(
    records: list[dict], out: Path, data: str, eval_args: list[str], threads: int, batch_size: int
) -> dict[str, dict]:
    """Solve these recorded problems again with `kpdd eval` (`eval_args`: model, mode and what else
    differs), resumable, in `out/<data>.json`; the new records by problem id. Says on stderr where the
    student's greedy first answer did not come out as recorded (it should: greedy, same prompt)."""
    if not records:
        return {}
    problems = out / f"{data}-flagged.jsonl"
    problems.write_text("".join(json.dumps({"id": r["id"], "question": r["question"], "answer": r["gold"]})
                                + "\n" for r in records))  # fmt: skip
    result = out / f"{data}.json"
    command = [sys.executable, "-m", "kpdd.cli", "eval", "--data", str(problems), *eval_args,
               "--batch-size", str(batch_size), "--threads", str(threads), "--out", str(result)]  # fmt: skip
    with (out / f"{data}.log").open("a", encoding="utf-8") as log:
        subprocess.run(command, check=True, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    again = json.loads(result.read_text())["records"]
    recorded = {r["id"]: r["solutions"][0]["answer"] for r in records}
    moved = [r["id"] for r in again if r["solutions"] and r["solutions"][0]["answer"] != recorded[r["id"]]]
    if moved:
        print(
            f"{data}: {len(moved)} first answers differ from the recorded ones: {moved[:5]}", file=sys.stderr
        )
    return {r["id"]: r for r in again}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--run", default="runs/bench-models/cascade05-15", help="the second-opinion run's folder"
    )
    parser.add_argument("--out", default="runs/doubt-rule", help="where the re-solved problems go")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args()
    run, out = REPO / args.run, REPO / args.out
    out.mkdir(parents=True, exist_ok=True)
    reports = {d: json.loads((run / f"{d}.json").read_text()) for d in SETS if (run / f"{d}.json").is_file()}
    if not reports:
        parser.error(f"no reports in {run}")
    config = next(iter(reports.values()))["config"]
    rows = []
    for data, report in reports.items():
        flagged = [r for r in report["records"] if newly_flagged(r)]
        eval_args = ["--mode", config["mode"], "--model", config["model"],
                     "--second-opinion", config["second_opinion"]]  # fmt: skip
        solved = solve_again(flagged, out, data, eval_args, args.threads, args.batch_size)
        pairs = [(right_today(solved.get(r["id"], r)), r["correct"]) for r in report["records"]]
        rows.append((f"{SET_NAMES[data]} (newly asked {len(flagged)})", pairs))
    print("## Today's rule against the recorded run, problem by problem\n")
    print(pairs_table(rows, "today's rule", "recorded"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

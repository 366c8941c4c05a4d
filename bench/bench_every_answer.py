"""When to ask the second opinion: about doubtful answers only, or about every answer.

Both policies are composed from two recorded runs on the same seeded sample, so neither needs a
model run of its own: the default's run (`bench/bench_models.py --configs cascade05-15`), whose
records hold the student's greedy first answer and, where it was asked, the 1.5B's solution, and
the 1.5B's own run (`--configs qwen15-fewshot-pot`), which holds its greedy solution of every
problem. Per problem:

- doubtful: the student's solution, plus the 1.5B's when today's `looks_wrong` flags the first answer;
- every:    the student's solution and the 1.5B's, always;

each voted by today's rules (`kpdd.solver.vote`) and scored against the gold answer. The student's
first answers are paired with its own few-shot base, the first student and its own Steps mode too
(`--configs qwen05-fewshot-pot,smollm2-student-pot,student05-cot`, where their runs are there). It also prints
what the window's "Check it with ..." gives: the default's "not sure" answers the 1.5B was not
asked about, by their verdict once it has checked them. The 1.5B's
solution is the one the default's run recorded where it asked, else the one from the 1.5B's run
(the same greedy prompt; llama.cpp's batched decoding can differ in a token between batch
compositions, so a real run may differ on a few problems: `bench_models.py --configs
cascade05-15-every` runs the policy for real). The composed reports go to --out, in `kpdd eval`'s
report format, for bench/bench_verdicts.py's calibration table.

    .venv/bin/python bench/bench_every_answer.py
    .venv/bin/python bench/bench_verdicts.py runs/bench-composed/*/*.json
    .venv/bin/python bench/bench_models.py --render-only --write-measured --out runs/bench-composed \
        --configs cascade05-15-every      # with its times copied to runs/bench-composed/latency/
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

from bench_student import SET_NAMES, SETS, pairs_table, record_solutions  # noqa: E402

from kpdd.answers import answers_match  # noqa: E402
from kpdd.evaluate import summarize  # noqa: E402
from kpdd.format import Mode  # noqa: E402
from kpdd.judgement import looks_wrong, vote  # noqa: E402
from kpdd.result import Solution, SolveResult  # noqa: E402
from kpdd.verdict import Level, judge  # noqa: E402

POLICIES = ("doubtful", "every")
# The composed reports are named as bench_models.py names the configurations they stand for, so its
# --render-only and --write-measured read them (with --out set to this bench's --out).
CONFIG_NAMES = {"doubtful": "cascade05-15", "every": "cascade05-15-every"}
# Runs the student's first answers are paired with, where they are in the second model's run folder.
AGAINST = {"qwen05-fewshot-pot": "its few-shot base", "smollm2-student-pot": "the first student",
           "student05-cot": "the student in Steps mode"}  # fmt: skip


def load_records(path: Path) -> dict[str, dict[str, Any]]:
    """A report's records by problem id (a finished report, else its partial file: a run in progress)."""
    if path.is_file():
        return {r["id"]: r for r in json.loads(path.read_text(encoding="utf-8"))["records"]}
    partial = path.with_name(path.name + ".partial.jsonl")
    records = {}
    if partial.is_file():
        for line in partial.read_text(encoding="utf-8").splitlines()[1:]:
            try:
                record = json.loads(line)
            except ValueError:  # a line cut short by a crash
                continue
            records[record["id"]] = record
    return records


def run_config(path: Path) -> dict[str, Any]:
    """A run's configuration: from its finished report, else from its partial file's first line."""
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))["config"]
    partial = path.with_name(path.name + ".partial.jsonl")
    return json.loads(partial.read_text(encoding="utf-8").split("\n", 1)[0])["config"]


def composed(record: dict[str, Any], solutions: list[dict[str, Any]], second: str) -> dict[str, Any]:
    """The default's record with other solutions, voted and scored by today's rules."""
    prediction, confidence = vote(record_solutions({"solutions": solutions}), record["question"])
    correct = answers_match(prediction, record["gold"])
    error_kind = None if correct else ("wrong_answer" if prediction is not None else "no_output")
    return {**record, "solutions": solutions, "prediction": prediction, "confidence": confidence,
            "correct": correct, "error_kind": error_kind, "second_opinion": second if len(solutions) > 1 else ""}  # fmt: skip


def compose_set(default: dict[str, dict], second_run: dict[str, dict], second: str) -> dict[str, list[dict]]:
    """Per policy, the composed records of the problems both runs solved (in the default's order)."""
    out: dict[str, list[dict]] = {policy: [] for policy in POLICIES}
    for pid, record in default.items():
        other = second_run.get(pid)
        if other is None or not record["solutions"]:
            continue
        first = {**record["solutions"][0], "model": ""}
        asked = [s for s in record["solutions"] if s.get("model")]
        if asked:
            theirs = asked[0]
        elif other["solutions"]:
            theirs = {**other["solutions"][0], "model": second}
        else:
            theirs = None
        both = [first, theirs] if theirs else [first]
        flagged = looks_wrong(
            Solution(Mode(first["kind"]), first["text"], answer=first["answer"]), record["question"]
        )
        out["doubtful"].append(composed(record, both if flagged else [first], second))
        out["every"].append(composed(record, both, second))
    return out


def level_of(record: dict) -> Level:
    """The verdict level the app gives a record's answer (Program mode)."""
    return judge(SolveResult.from_record(record, Mode.POT)).level


def verdict_table(records: list[dict], heading: str = "verdict") -> str:
    """How many of these answers land in each verdict level, and how often those are right."""
    levels = [level_of(r) for r in records]
    lines = [f"| {heading} | answers | right |", "|---|---|---|"]
    for name, level in (
        ("checked", Level.CHECKED),
        ("not sure", Level.NOT_SURE),
        ("no answer", Level.NO_ANSWER),
    ):
        here = [r for r, at in zip(records, levels) if at == level]
        right = sum(r["correct"] for r in here)
        lines.append(
            f"| {name} | {len(here)} | {100 * right / len(here):.1f}% |" if here else f"| {name} | 0 | - |"
        )
    return "\n".join(lines)


def checks_on_request(pairs: list[tuple[dict, dict]]) -> str:
    """The default's lone "not sure" answers (the 1.5B not asked), and what a check makes of them:
    how many it leaves in each level and how often those are right."""
    lone = [(d, e) for d, e in pairs if len(d["solutions"]) == 1 and level_of(d) == Level.NOT_SURE]
    right_before = sum(d["correct"] for d, _ in lone)
    share = f"{100 * right_before / len(lone):.1f}%" if lone else "-"
    return (f"{len(lone)} of the default's answers are not sure with the 1.5B not asked; right {share} of "
            "the time as shown.\n\n" + verdict_table([e for _, e in lone], "after the check"))  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--default", default="runs/bench-models/cascade05-15", help="the default's run")
    parser.add_argument(
        "--second", default="runs/bench-models/qwen15-fewshot-pot", help="the second model's own run"
    )
    parser.add_argument("--out", default="runs/bench-composed", help="where the composed reports go")
    args = parser.parse_args()
    rows: dict[tuple[str, str], list] = {}
    on_request: list[tuple[dict, dict]] = []
    for data in SETS:
        path = REPO / args.default / f"{data}.json"
        default = load_records(path)
        second_run = load_records(REPO / args.second / f"{data}.json")
        if not default or not second_run:
            continue
        run = run_config(path)
        # The second model's name: the default's run names it where it asked; a run of the student
        # alone (--default .../student05-pot) does not, and the second model's own run does.
        second = run.get("second_opinion") or run_config(REPO / args.second / f"{data}.json")["model"]
        policies = compose_set(default, second_run, second)
        for policy, records in policies.items():
            config = {**run, "composed_from": [args.default, args.second]}
            if policy == "every":
                config["second_opinion_on"] = "every"
            path = REPO / args.out / CONFIG_NAMES[policy] / f"{data}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"config": config, "summary": summarize(records), "records": records}))
        every, doubtful = policies["every"], policies["doubtful"]
        on_request += zip(doubtful, every)
        alone = [answers_match(second_run[r["id"]]["prediction"], r["gold"]) for r in every]
        first = [answers_match(r["solutions"][0]["answer"], r["gold"]) for r in every]
        label = f"{SET_NAMES[data]} ({len(every)})"
        rows.setdefault(("every", "doubtful"), []).append(
            (label, [(a["correct"], b["correct"]) for a, b in zip(every, doubtful)])
        )
        rows.setdefault(("every", "1.5B alone"), []).append(
            (label, [(a["correct"], b) for a, b in zip(every, alone)])
        )
        rows.setdefault(("doubtful", "student's first answer"), []).append(
            (label, [(a["correct"], b) for a, b in zip(doubtful, first)])
        )
        for config, name in AGAINST.items():
            theirs = load_records(REPO / Path(args.second).parent / config / f"{data}.json")
            if all(r["id"] in theirs for r in every):
                rows.setdefault(("student's first answer", name), []).append(
                    (label, [(a, bool(theirs[r["id"]]["correct"])) for a, r in zip(first, every)])
                )
    if not rows:
        parser.error("no problem is in both runs")
    for (a, b), pairs in rows.items():
        print(f"## {a} against {b}, problem by problem\n")
        print(pairs_table(pairs, a, b) + "\n")
    print('## A check on request ("Check it with ...")\n')
    print(checks_on_request(on_request) + "\n")
    print(f"Composed reports: {', '.join(f'{args.out}/{name}/' for name in CONFIG_NAMES.values())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

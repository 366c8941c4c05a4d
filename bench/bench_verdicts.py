"""Calibration of the answer verdicts (kpdd.verdict): how often "checked" and "not sure" are right.

Reads `kpdd eval` reports, as bench/bench_models.py writes them (`runs/bench-models/<config>/<set>.json`),
gives every record the verdict the app would give its answer, and prints for each configuration:

1. how many answers land in each level and the share right within each (95% Wilson interval), against
   the goal (TARGET_CHECKED_RIGHT of "checked" answers right);
2. the same under other thresholds of "checked" (solutions agreeing, their share), so the effect of
   kpdd.verdict.CHECKED_MIN_AGREEING and CHECKED_MIN_SHARE is seen before one is changed;
3. for each doubt: how many answers carry it, and how often those, and those with no other doubt,
   are right (a doubt whose answers are right as often as checked ones is too strict).

No model runs here. Each record is voted again by the app's current rules (`kpdd.solver.finalize`;
Both mode runs a program in the sandbox when program and steps disagree), so a report made before a
rule changed reads as the app answers now (`--as-recorded` keeps the recorded answers).

A configuration of one greedy sample never has a second solution to agree with, so all its answers
are "not sure" or "no answer"; "checked" is reached through Auto samples that recheck, Both mode or
a second opinion, so measure those configurations too.

    .venv/bin/python bench/bench_verdicts.py                               # every configuration in runs/bench-models
    .venv/bin/python bench/bench_verdicts.py --configs student05-pot,student05-both
    .venv/bin/python bench/bench_verdicts.py runs/x/gsm8k.json runs/y     # report files or folders of them
    .venv/bin/python bench/bench_verdicts.py --card docs/VERDICTS.md      # also write the model card's table
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_student import wilson_interval  # noqa: E402

from kpdd.answers import answers_match  # noqa: E402
from kpdd.format import Mode  # noqa: E402
from kpdd.judgement import finalize  # noqa: E402
from kpdd.result import SolveResult  # noqa: E402
from kpdd.verdict import (  # noqa: E402
    CHECKED_MIN_AGREEING,
    CHECKED_MIN_SHARE,
    Level,
    Note,
    Verdict,
    VerdictPolicy,
    judge,
)

# The goal of the issue that introduced verdicts: a "checked" answer is right at least this often.
TARGET_CHECKED_RIGHT = 0.90
# Thresholds of "checked" compared side by side (solutions agreeing, their share of all written).
POLICIES = tuple(
    VerdictPolicy(agreeing, share)
    for agreeing, share in ((2, 0.5), (2, 0.6), (3, 0.6), (2, 0.8), (3, 0.8), (2, 1.0))
)
DEFAULT_OUT = "runs/bench-models"
LEVEL_NAMES = {Level.CHECKED: "checked", Level.NOT_SURE: "not sure", Level.NO_ANSWER: "no answer"}
CARD_BEGIN = "<!-- bench_verdicts: begin -->"
CARD_END = "<!-- bench_verdicts: end -->"


@dataclass
class Judged:
    """One record: whether its answer is right, and its verdict under each policy."""

    correct: bool
    verdicts: dict[VerdictPolicy, Verdict] = field(default_factory=dict)


def find_reports(paths: list[Path], configs: list[str]) -> dict[str, list[Path]]:
    """Report files by configuration (the folder a report lies in), in a stable order.

    A folder holding report files is one configuration; a folder of such folders (bench_models'
    --out) gives one per subfolder. Its `latency/` reports time the same answers and are skipped."""
    found: dict[str, list[Path]] = defaultdict(list)
    for path in paths:
        if path.is_file():
            found[path.parent.name].append(path)
            continue
        files = sorted(p for p in path.glob("*.json") if p.is_file())
        if files:
            found[path.name].extend(files)
        for folder in (
            sorted(p for p in path.iterdir() if p.is_dir() and p.name != "latency") if path.is_dir() else []
        ):
            found[folder.name].extend(sorted(p for p in folder.glob("*.json") if p.is_file()))
    return {name: files for name, files in found.items() if files and (not configs or name in configs)}


def load_records(report: Path, as_recorded: bool) -> tuple[Mode, list[dict[str, Any]]]:
    """A report's mode and records, each voted again by the app's rules unless `as_recorded`."""
    data = json.loads(report.read_text(encoding="utf-8"))
    mode = Mode(data.get("config", {}).get("mode", "pot"))
    records = [r for r in data.get("records", []) if isinstance(r, dict) and "solutions" in r]
    if not as_recorded:
        for record in records:
            result = SolveResult.from_record(record, mode)
            finalize(result)
            record["prediction"], record["confidence"] = result.answer, result.confidence
            record["agree"], record["stepped_past"] = result.agree, result.stepped_past
            record["correct"] = answers_match(result.answer, record.get("gold"))
    return mode, records


def judge_reports(files: list[Path], policies: tuple[VerdictPolicy, ...], as_recorded: bool) -> list[Judged]:
    judged = []
    for report in files:
        mode, records = load_records(report, as_recorded)
        for record in records:
            result = SolveResult.from_record(record, mode)
            judged.append(Judged(bool(record.get("correct")), {p: judge(result, p) for p in policies}))
    return judged


def cell(items: list[Judged], policy: VerdictPolicy, level: Level) -> tuple[int, int]:
    """(answers at this level, of them right)."""
    at_level = [j for j in items if j.verdicts[policy].level == level]
    return len(at_level), sum(j.correct for j in at_level)


def right_text(n: int, right: int) -> str:
    if n == 0:
        return "-"
    low, high = wilson_interval(right, n)
    return f"{100 * right / n:.1f}% [{low:.1f}, {high:.1f}]"


def levels_table(judged: dict[str, list[Judged]], policy: VerdictPolicy) -> str:
    lines = [
        "| configuration | answers | right overall | checked (share of answers) | checked right [95%] "
        "| not sure (share) | not sure right [95%] | no answer (share) | goal |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, items in judged.items():
        n = len(items)
        row = [name, str(n), f"{100 * sum(j.correct for j in items) / n:.1f}%" if n else "-"]
        for level in Level:
            count, right = cell(items, policy, level)
            row.append(f"{count} ({100 * count / n:.1f}%)" if n else "0")
            if level != Level.NO_ANSWER:
                row.append(right_text(count, right))
        checked, right = cell(items, policy, Level.CHECKED)
        if checked == 0:
            goal = "no checked answers"
        else:
            goal = "met" if right / checked >= TARGET_CHECKED_RIGHT else "missed"
        lines.append("| " + " | ".join(row + [goal]) + " |")
    return "\n".join(lines)


def thresholds_table(judged: dict[str, list[Judged]], policies: tuple[VerdictPolicy, ...]) -> str:
    lines = [
        "| configuration | solutions agreeing >= | their share >= | checked | checked right [95%] | not sure right |",
        "|---|---|---|---|---|---|",
    ]
    for name, items in judged.items():
        for policy in policies:
            checked, right = cell(items, policy, Level.CHECKED)
            unsure, unsure_right = cell(items, policy, Level.NOT_SURE)
            mark = " (in use)" if policy == VerdictPolicy() else ""
            lines.append(f"| {name} | {policy.min_agreeing}{mark} | {policy.min_share:.0%} | {checked} | "
                         f"{right_text(checked, right)} | {right_text(unsure, unsure_right)} |")  # fmt: skip
    return "\n".join(lines)


def doubts_table(judged: dict[str, list[Judged]], policy: VerdictPolicy) -> str:
    lines = [
        "| configuration | doubt | answers with it | right | with no other doubt (one solution aside) | right |",
        "|---|---|---|---|---|---|",
    ]
    for name, items in judged.items():
        for note in Note:
            having = [j for j in items if j.verdicts[policy].level == Level.NOT_SURE
                      and note in {f.note for f in j.verdicts[policy].doubts}]  # fmt: skip
            if not having:
                continue
            # A greedy configuration's answers all carry ONE_SOLUTION: it does not make a doubt less alone.
            alone = [
                j
                for j in having
                if not {f.note for f in j.verdicts[policy].doubts} - {note, Note.ONE_SOLUTION}
            ]
            lines.append(f"| {name} | {note.value} | {len(having)} | {right_text(len(having), sum(j.correct for j in having))} "
                         f"| {len(alone)} | {right_text(len(alone), sum(j.correct for j in alone))} |")  # fmt: skip
    return "\n".join(lines)


def render(judged: dict[str, list[Judged]], policies: tuple[VerdictPolicy, ...]) -> str:
    policy = VerdictPolicy()
    return "\n\n".join(
        [
            f"## Verdicts in use (checked: at least {CHECKED_MIN_AGREEING} solutions agree, "
            f"{CHECKED_MIN_SHARE:.0%} of those written; goal: {TARGET_CHECKED_RIGHT:.0%} of checked answers right)\n"
            + levels_table(judged, policy),
            '## Other thresholds of "checked"\n' + thresholds_table(judged, policies),
            "## Each doubt: how often the answers it marks are right\n" + doubts_table(judged, policy),
        ]
    )


def write_card(path: Path, text: str, sources: str) -> None:
    """Put the tables between the card's markers (appended, with the markers, when it has none)."""
    block = f"{CARD_BEGIN}\nMeasured by `python bench/bench_verdicts.py` on {sources}.\n\n{text}\n{CARD_END}"
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    if CARD_BEGIN in current and CARD_END in current:
        head, rest = current.split(CARD_BEGIN, 1)
        updated = head + block + rest.split(CARD_END, 1)[1]
    else:
        updated = current + ("\n" if current and not current.endswith("\n") else "") + block + "\n"
    path.write_text(updated, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("reports", nargs="*", type=Path,
                        help=f"report files or folders (default: {DEFAULT_OUT}, one configuration per subfolder)")  # fmt: skip
    parser.add_argument(
        "--configs", default="", help="comma-separated configuration names (default: all found)"
    )
    parser.add_argument(
        "--as-recorded", action="store_true", help="keep each report's answers (do not vote again)"
    )
    parser.add_argument(
        "--card", type=Path, help="also write the tables into this Markdown file (docs/VERDICTS.md)"
    )
    args = parser.parse_args(argv)

    paths = args.reports or [REPO / DEFAULT_OUT]
    configs = [c for c in args.configs.split(",") if c]
    reports = find_reports(paths, configs)
    if not reports:
        print(f"error: no kpdd eval reports in {', '.join(map(str, paths))}", file=sys.stderr)
        return 2
    policies = tuple(dict.fromkeys((VerdictPolicy(), *POLICIES)))
    judged = {name: judge_reports(files, policies, args.as_recorded) for name, files in reports.items()}
    text = render(judged, policies)
    print(text)
    if args.card:
        sets = sorted({f.stem for files in reports.values() for f in files})
        write_card(args.card, text, f"{sum(len(j) for j in judged.values())} answers of {', '.join(sets)}")
        print(f"wrote {args.card}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

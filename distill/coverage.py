"""How far teaching has come: per pass (greedy, sampled, rationalized), how many problems were tried,
how many have a verified record, the coverage of the data set so far, and the rate.

    .venv/bin/python -m distill.coverage runs/teach/*.jsonl [--data gsm8k-train] [--json OUT]

A record is verified when `kpdd filter` keeps it (its program gives the gold answer, nothing leaked).
The rate counts records per minute of teaching: the time between consecutive records, leaving out
gaps longer than `GAP_S` (the teacher was stopped, between sittings).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from distill.store import read_jsonl
from distill.teach import filter_records

GAP_S = 600.0
PASSES = ("greedy", "sampled", "rationalized", "student")


def record_pass(record: dict[str, Any]) -> str:
    """The pass a record came from; records written before passes were labelled are greedy or
    sampled by their temperature."""
    provenance = record.get("provenance") or {}
    if provenance.get("pass"):
        return str(provenance["pass"])
    temperature = (provenance.get("sampling") or {}).get("temperature") or 0
    return "sampled" if temperature > 0 else "greedy"


def teaching_minutes(records: list[dict[str, Any]]) -> float:
    times = sorted(
        datetime.fromisoformat(str(r["provenance"]["time"])).timestamp()
        for r in records
        if (r.get("provenance") or {}).get("time")
    )
    gaps = [b - a for a, b in zip(times, times[1:]) if b - a <= GAP_S]
    return sum(gaps) / 60


def coverage(paths: list[Path], total: int | None = None) -> dict[str, Any]:
    by_pass: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for path in paths:
        for record in read_jsonl(path):
            by_pass[record_pass(record)].append(record)
    report: dict[str, Any] = {"passes": {}, "total_problems": total}
    covered: set[str] = set()
    for name in [p for p in PASSES if p in by_pass] + [p for p in by_pass if p not in PASSES]:
        records = by_pass[name]
        kept, stats = filter_records(records)
        verified = {str(r["problem_id"]) for r in kept}
        new = verified - covered
        covered |= verified
        minutes = teaching_minutes(records)
        report["passes"][name] = {
            "records": len(records),
            "problems_tried": len({str(r["problem_id"]) for r in records}),
            "problems_verified": len(verified),
            "newly_covered": len(new),
            "covered_so_far": len(covered),
            "teaching_minutes": round(minutes, 1),
            "records_per_minute": round(len(records) / minutes, 2) if minutes else None,
            "failures": stats["failures"],
        }
    report["covered"] = len(covered)
    return report


def format_report(report: dict[str, Any]) -> str:
    total = report.get("total_problems")
    lines = ["| pass | records | problems tried | verified | newly covered | covered so far | rate (records/min) |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    for name, row in report["passes"].items():
        share = f" ({100 * row['covered_so_far'] / total:.1f}%)" if total else ""
        rate = row["records_per_minute"] if row["records_per_minute"] is not None else "?"
        lines.append(f"| {name} | {row['records']} | {row['problems_tried']} | {row['problems_verified']} | "
                     f"{row['newly_covered']} | {row['covered_so_far']}{share} | {rate} |")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--data", default="gsm8k-train", help="the data set the coverage is a share of")
    parser.add_argument("--data-dir")
    parser.add_argument("--json", type=Path, help="also write the report as JSON")
    args = parser.parse_args(argv)
    total = None
    try:
        from kpdd.datasets import load_dataset

        total = len(load_dataset(args.data, data_dir=args.data_dir).problems)
    except (FileNotFoundError, ValueError):
        pass
    report = coverage(args.files, total)
    print(format_report(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

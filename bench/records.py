"""Keep the per-problem records of long evaluations in the repository, so they outlive a machine.

`kpdd eval --out` writes every finished problem to `<report>.partial.jsonl`, and a run resumes from
there; but `runs/` is not committed, and a session that lands on a fresh machine has lost hours of
finished work (bench/records/smollm2-history.md, "What is not measured yet"). `pack` copies those records into
`bench/records/<config>/<set>.jsonl.gz` without the problem text (that is the data sets', under
their own licenses; the id says which problem it was). `unpack` puts them back as partial files
with the problem text read from the data set again, so `kpdd eval` with the same `--out` resumes
where the run stopped and `bench/bench_student.py` renders the tables from them.

    .venv/bin/python bench/records.py pack runs/results-s5 --configs stock-pot
    .venv/bin/python bench/records.py unpack runs/results-s5 --configs stock-pot
    .venv/bin/python bench/bench_student.py --limit 0 --small-limit 0 --shuffle 0 --jobs 2 \
        --out runs/results-s5 --configs stock-pot            # resumes, then renders

Neither command overwrites a file that holds more finished problems than it would write.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kpdd.jsonl import read_jsonl  # noqa: E402

RECORDS = REPO / "bench" / "records"
SETS = ("gsm8k", "svamp", "asdiv", "multiarith")


def read_partial(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The header and the finished records of a partial file (a line cut short by a crash is skipped)."""
    objects = read_jsonl(path)
    header = next(objects, {})
    return header, list(objects)


def finished_count(path: Path) -> int:
    return len(read_partial(path)[1]) if path.is_file() else 0


def write_lines(path: Path, header: dict[str, Any], records: list[dict[str, Any]]) -> None:
    """Write header + records, through a temporary file so an interrupted write leaves the old file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    text = "".join(json.dumps(item) + "\n" for item in [header, *records])
    if path.suffix == ".gz":
        # mtime=0: the same records give the same bytes, so an unchanged pack is no change in git.
        with open(temporary, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as handle:
            handle.write(text.encode("utf-8"))
    else:
        temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def pack(runs: Path, config: str, records_dir: Path) -> list[str]:
    """Copy the records of `runs/<config>/<set>.json.partial.jsonl` into `records_dir`, without the
    problem text. Returns one line per set saying what was done."""
    from kpdd.evaluate import partial_path

    said = []
    for data in SETS:
        source = partial_path(runs / config / f"{data}.json")
        if not source.is_file():
            continue
        header, records = read_partial(source)
        target = records_dir / config / f"{data}.jsonl.gz"
        kept = finished_count(target)
        if kept > len(records):
            said.append(f"{config}/{data}: kept {target} ({kept} problems; {source} has {len(records)})")
            continue
        write_lines(target, header, [{k: v for k, v in r.items() if k != "question"} for r in records])
        said.append(f"{config}/{data}: {len(records)} problems -> {target}")
    return said


def unpack(records_dir: Path, config: str, runs: Path, data_dir: str | None) -> list[str]:
    """Rebuild `runs/<config>/<set>.json.partial.jsonl` from the packed records, with the problem
    text from the data set, so `kpdd eval --out runs/<config>/<set>.json` resumes from them."""
    from kpdd.datasets import load_dataset
    from kpdd.evaluate import partial_path

    said = []
    for data in SETS:
        source = records_dir / config / f"{data}.jsonl.gz"
        if not source.is_file():
            continue
        header, records = read_partial(source)
        target = partial_path(runs / config / f"{data}.json")
        present = finished_count(target)
        if present >= len(records):
            said.append(f"{config}/{data}: kept {target} ({present} problems; the pack has {len(records)})")
            continue
        questions = {p.id: p.question for p in load_dataset(data, data_dir).problems}
        missing = [r["id"] for r in records if r["id"] not in questions]
        if missing:
            raise SystemExit(
                f"{source}: {len(missing)} problem ids are not in this copy of {data} "
                f"(first: {missing[0]}); is the data folder the one the records were made on?"
            )
        restored = [{"id": r["id"], "question": questions[r["id"]], **r} for r in records]
        write_lines(target, header, restored)
        said.append(f"{config}/{data}: {len(records)} problems -> {target}")
    return said


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("action", choices=("pack", "unpack"))
    parser.add_argument("runs", help="the bench's --out folder, e.g. runs/results-s5")
    parser.add_argument("--configs", required=True, help="comma-separated configurations, e.g. stock-pot")
    parser.add_argument("--records", default=str(RECORDS), help=f"the packed records (default: {RECORDS})")
    parser.add_argument("--data-dir", default=None, help="the data sets, for unpack (default: as kpdd eval)")
    args = parser.parse_args()
    runs, records_dir = Path(args.runs), Path(args.records)
    for config in (c for c in args.configs.split(",") if c):
        if args.action == "pack":
            said = pack(runs, config, records_dir)
        else:
            said = unpack(records_dir, config, runs, args.data_dir)
        for line in said or [f"{config}: no records found"]:
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())

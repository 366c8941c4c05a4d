"""Keep teacher rationales in the repository, so hours of teacher time outlive a machine.

`kpdd teach` appends to a JSONL under `runs/`, which is not committed, and a later sitting may start
on a fresh machine. `pack` copies a teacher file to `distill/records/NAME.jsonl.gz` without the
problem text (that is the data set's, under its own license; `problem_id` says which problem it was).
`unpack` writes it back with the text read from the data set again (or from the problem list it was
taught from, such as the committed distill/data/gsm8k-train-zh.jsonl), so `kpdd teach` with the same
`-o` resumes after the last packed problem and `kpdd filter` reads it as it was.

    .venv/bin/python -m distill.records pack runs/teach/qwen15b-pot-s0.jsonl
    .venv/bin/python -m distill.records unpack qwen15b-pot-s0 -o runs/teach/qwen15b-pot-s0.jsonl

Neither direction overwrites a file that holds more records than it would write. `select` cuts a
continuing run's slice out of `kpdd filter` output (distill/recipes/kpdd-qwen05b-continue.toml).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path
from typing import Any

from distill.store import read_jsonl

RECORDS = Path(__file__).resolve().parent / "records"


def _count(path: Path) -> int:
    if not path.is_file():
        return 0
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return sum(1 for line in handle if line.strip())


def _write(path: Path, records: list[dict[str, Any]], compress: bool) -> None:
    """Write through a temporary file, so an interrupted write leaves the old file whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    if compress:
        with gzip.GzipFile(temporary, "wb", mtime=0) as handle:  # mtime 0: the same records, the same bytes
            handle.write(text.encode("utf-8"))
    else:
        temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def pack(source: Path, name: str | None = None, folder: Path = RECORDS) -> Path:
    target = folder / f"{name or source.stem}.jsonl.gz"
    records = [{k: v for k, v in r.items() if k != "question"} for r in read_jsonl(source)]
    if _count(target) > len(records):
        raise SystemExit(
            f"{target} holds more records ({_count(target)}) than {source} ({len(records)}): not overwritten"
        )
    _write(target, records, compress=True)
    return target


def unpack(name: str, out: Path, data_dir: str | None = None, folder: Path = RECORDS) -> int:
    from kpdd.datasets import load_dataset

    source = folder / f"{name}.jsonl.gz"
    with gzip.open(source, "rt", encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle if line.strip()]
    if _count(out) > len(records):
        raise SystemExit(
            f"{out} holds more records ({_count(out)}) than {source} ({len(records)}): not overwritten"
        )
    questions: dict[str, str] = {}
    for data in sorted({_data_of(r) for r in records}):
        questions.update({p.id: p.question for p in load_dataset(data, data_dir=data_dir).problems})
    missing = [r["problem_id"] for r in records if r["problem_id"] not in questions]
    if missing:
        raise SystemExit(
            f"{len(missing)} records name problems the data set does not have (first: {missing[0]})"
        )
    _write(out, [{**r, "question": questions[r["problem_id"]]} for r in records], compress=False)
    return len(records)


def _data_of(record: dict[str, Any]) -> str:
    """Where a record's problem text is: a data set's name, or, for a problem list taught from a file
    (`source` "jsonl", such as distill/data/gsm8k-train-zh.jsonl), that file's path as taught."""
    source = str(record.get("source") or "gsm8k-train")
    if source == "jsonl":
        return str((record.get("provenance") or {}).get("data") or source)
    return source


def problem_index(problem_id: str) -> int:
    """The problem's position in its data set: `gsm8k-train-364` is 364."""
    return int(str(problem_id).rsplit("-", 1)[1])


def select(
    records: list[dict[str, Any]],
    first: int = 0,
    teacher_only: bool = False,
    steps_every: int = 1,
    before: int | None = None,
) -> list[dict[str, Any]]:
    """The filtered records a continuing run trains on: problems from index `first` on (and below
    `before`, when given: a slice sized to the CPU time of one sitting); with
    `teacher_only`, only those whose program an LLM teacher wrote and the sandbox verified (not a
    gold record, and no program `kpdd filter` filled in from a gold fallback); worked steps kept on
    every `steps_every`-th problem by index (the rest train their program alone), so Steps mode
    keeps being trained at a fraction of the cost."""
    if steps_every < 1:
        raise ValueError("steps_every must be at least 1")
    chosen = []
    for record in records:
        index = problem_index(record["problem_id"])
        provenance = record.get("provenance") or {}
        from_teacher = (
            record.get("program")
            and provenance.get("teacher_kind") != "gold"
            and "program" not in (provenance.get("fallback") or {})
        )
        if index < first or (before is not None and index >= before) or (teacher_only and not from_teacher):
            continue
        keep_steps = index % steps_every == 0
        chosen.append(record if keep_steps else {**record, "steps": None})
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pack", help="a teacher JSONL into distill/records/ (no problem text)")
    p.add_argument("source", type=Path)
    p.add_argument("--name", help="default: the file's name")
    u = sub.add_parser("unpack", help="distill/records/NAME.jsonl.gz back into a teacher JSONL")
    u.add_argument("name")
    u.add_argument("-o", "--out", type=Path, required=True)
    u.add_argument("--data-dir", help="folder holding the data sets (else KPDD_DATA_DIR or the config)")
    s = sub.add_parser("select", help="a slice of `kpdd filter` output for a continuing run")
    s.add_argument("source", type=Path, help="a `kpdd filter` JSONL")
    s.add_argument("-o", "--out", type=Path, required=True)
    s.add_argument("--first", type=int, default=0, help="the first problem index to keep")
    s.add_argument("--before", type=int, help="keep only problems whose index is below this")
    s.add_argument("--teacher-only", action="store_true", help="drop the gold fallbacks")
    s.add_argument("--steps-every", type=int, default=1, help="keep worked steps on every Nth problem")
    args = parser.parse_args(argv)
    if args.command == "pack":
        print(f"packed {_count(args.source)} records into {pack(args.source, args.name)}")
    elif args.command == "select":
        chosen = select(
            list(read_jsonl(args.source)), args.first, args.teacher_only, args.steps_every, args.before
        )
        _write(args.out, chosen, compress=False)
        with_steps = sum(1 for r in chosen if r.get("steps"))
        print(f"selected {len(chosen)} records ({with_steps} with steps) into {args.out}")
    else:
        print(f"unpacked {unpack(args.name, args.out, args.data_dir)} records into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

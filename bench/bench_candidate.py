"""A newly trained student against the shipped one, problem by problem, before it ships.

    .venv/bin/python bench/bench_candidate.py --lora runs/export-s5/kpdd-qwen05b-s5-lora-f16.gguf \\
        --out runs/bench-candidate-s5 [--limit 300] [--zh-limit 300]
    .venv/bin/python bench/bench_candidate.py --model runs/merged/kpdd-qwen05b-s4.Q4_K_M.gguf \\
        --out runs/bench-candidate-merged                # a whole GGUF: the shipped adapter merged
    .venv/bin/python bench/bench_candidate.py --model runs/merged/kpdd-qwen05b-s7.q8_0.gguf \\
        --split test --zh-limit 0 --out runs/bench-candidate-s7-test    # the report, once, before it ships

The candidate (the student's base GGUF with the new LoRA adapter, or a whole KPDD GGUF) solves the dev split in Program
mode, greedy, batched (`kpdd eval --batch-size 8`): problems 1-300 of each English set's
`--shuffle 0` order and the hand-translated Chinese dev set. The shipped student is read, not run,
on English: its own answers in the committed records of its dev run (`bench/records/kpdd-qwen05b-s6/
student05-pot`, the figure `kpdd models` shows). On Chinese, where no shipped record exists, it is
run beside the candidate. Every run is a resumable `kpdd eval` report under --out. Tune on dev; a
candidate chosen there is run once on the test split (`--split test`, problems 301-600 of each
English set), paired with the shipped student's committed test records (`bench/records/
kpdd-qwen05b-s6/test/student05-pot`): the figure it ships with.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_chinese import CONFIGS as CHINESE_CONFIGS  # noqa: E402
from bench_chinese import correct_by_id  # noqa: E402
from bench_chinese import run as run_chinese  # noqa: E402
from bench_models import run_eval  # noqa: E402
from bench_student import SET_NAMES, SETS, load_report, pairs_table  # noqa: E402

# The shipped student's own answers (solutions[0], greedy, Program mode), per split.
SHIPPED_RECORDS = {
    "dev": REPO / "bench" / "records" / "kpdd-qwen05b-s6" / "student05-pot",
    "test": REPO / "bench" / "records" / "kpdd-qwen05b-s6" / "test" / "student05-pot",
}
CHINESE_DEV = REPO / "bench" / "records" / "zh" / "gsm8k-dev-zh.jsonl"


def shipped_student_right(data: str, split: str = "dev") -> dict[str, bool]:
    """Per problem id, whether the shipped student's own answer (its first solution, before the
    1.5B was asked) equals gold, by the one comparison scoring uses."""
    from kpdd.answers import answers_match

    path = SHIPPED_RECORDS[split] / f"{data}.jsonl.gz"
    lines = gzip.open(path, "rt", encoding="utf-8").read().splitlines()
    right = {}
    for line in lines[1:]:  # the first line is the run's configuration
        record = json.loads(line)
        first = record["solutions"][0]
        if first.get("model"):  # a record whose first solution is not the student's: a broken file
            raise ValueError(f"{record['id']}: the first solution is {first['model']}'s, not the student's")
        right[record["id"]] = answers_match(first.get("answer"), record["gold"])
    return right


def main() -> int:
    from kpdd import models

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    candidate_arg = parser.add_mutually_exclusive_group(required=True)
    candidate_arg.add_argument(
        "--lora", type=Path, help="the candidate's adapter (kpdd export gguf --route adapter)"
    )
    candidate_arg.add_argument(
        "--model", type=Path, help="a whole KPDD GGUF (python -m export.gguf_merge: an adapter merged)"
    )
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "bench-candidate")
    parser.add_argument("--limit", type=int, default=300, help="English problems per set (0: none)")
    parser.add_argument("--zh-limit", type=int, default=300, help="Chinese dev problems (0: none)")
    parser.add_argument(
        "--split", choices=("dev", "test"), default="dev",
        help="dev: problems 1-300 (tune here); test: 301-600, English only (report, once a model)",
    )  # fmt: skip
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=REPO.parent / "shared" / "data",
        help="folder holding the four test sets",
    )
    args = parser.parse_args()
    given = args.lora or args.model
    if not given.is_file():
        parser.error(f"no such file: {given}")
    if args.split == "test" and args.zh_limit:
        parser.error("the Chinese set has a dev split only: add --zh-limit 0 to --split test")
    data_dir = args.data_dir.resolve()
    if args.lora:
        candidate = {
            "model": str(models.base_model_path(models.QWEN_CODER_05B)),
            "lora": str(args.lora.resolve()),
        }
    else:
        candidate = {"model": str(args.model.resolve())}
    candidate["mode"] = "pot"
    rows = []
    for data in SETS if args.limit else ():
        run_eval("candidate", candidate, data, args.limit, args.out, args.batch_size, args.threads,
                 data_dir, args.split)  # fmt: skip
        report = load_report(args.out, "candidate", data)
        shipped = shipped_student_right(data, args.split)
        pairs = [(bool(r["correct"]), shipped[r["id"]]) for r in report["records"] if r["id"] in shipped]
        rows.append((SET_NAMES[data], pairs))
    if rows:
        title = f"English {args.split} split: the candidate against the shipped student"
        print(f"## {title} ({args.limit} a set)\n")
        print(pairs_table(rows, "candidate", "shipped"))
    if args.zh_limit:
        model_args = ["--model", candidate["model"]] + (["--lora", candidate["lora"]] if args.lora else [])
        CHINESE_CONFIGS["candidate"] = {"args": [*model_args, "--second-opinion", "none", "--samples", "1"]}
        reports = {}
        for name in ("candidate", "student"):
            report = args.out / f"zh-{name}" / f"{CHINESE_DEV.stem}.json"
            report.parent.mkdir(parents=True, exist_ok=True)
            reports[name] = correct_by_id(
                run_chinese(name, CHINESE_DEV, report, args.zh_limit, args.threads, args.batch_size)
            )
        a, b = reports["candidate"], reports["student"]
        print(f"\n## Chinese dev set: the candidate against the shipped student ({len(a)} problems)\n")
        print(pairs_table([("GSM8K, Chinese", [(a[i], b[i]) for i in a if i in b])], "candidate", "shipped"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Chinese problems: each model on a translated set and on the same problems in English, paired.

    .venv/bin/python bench/bench_chinese.py --data bench/records/zh/gsm8k-dev-zh.jsonl [--configs a,b] [--limit N]

The set is what `kpdd translate` kept (its `question_en` holds each problem's English original, so
every configuration also solves those, and its Chinese accuracy is paired with its English one on
the same problems). Every run is a resumable `kpdd eval` report under --out. Configurations:

    student             the default student alone, Program mode, greedy
    qwen15-en-demos     Qwen2.5-Coder-1.5B few-shot with the English demonstrations (the solver's today)
    qwen15-zh-demos     the same with the Chinese demonstrations for a Chinese problem
                        (kpdd.format.SOLVER_DEMONSTRATIONS_BY_LANGUAGE on)
    default             the student, the 1.5B asked about doubtful answers (Auto samples)

Tune on a translation of the dev split; report on the test split's, once per shipped model.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_student import pairs_table  # noqa: E402

CONFIGS: dict[str, dict] = {
    "student": {"args": ["--second-opinion", "none", "--samples", "1"]},
    "qwen15-en-demos": {"args": ["--model", "Qwen2.5-Coder-1.5B-Instruct", "--second-opinion", "none", "--samples", "1"]},
    "qwen15-zh-demos": {"args": ["--model", "Qwen2.5-Coder-1.5B-Instruct", "--second-opinion", "none", "--samples", "1"],
                        "demos_by_language": True, "english": False},  # English problems: the same as en-demos
    "default": {"args": ["--samples", "auto"]},
}  # fmt: skip


def english_originals(chinese: Path, out: Path) -> Path:
    """The kept problems' English originals as a problem list, ids shared with the Chinese file."""
    path = out / f"{chinese.stem}-en.jsonl"
    lines = []
    for line in chinese.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            lines.append(
                json.dumps(
                    {"id": record["id"], "question": record["question_en"], "answer": record["answer"]}
                )
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(name: str, data: Path, report: Path, limit: int, threads: int, batch_size: int) -> dict:
    """One `kpdd eval`, in this process (the demonstrations switch is a module setting)."""
    from kpdd import cli
    from kpdd import format as kpdd_format

    kpdd_format.SOLVER_DEMONSTRATIONS_BY_LANGUAGE = bool(CONFIGS[name].get("demos_by_language"))
    args = ["eval", "--data", str(data), "--mode", "pot", "--out", str(report), "--threads", str(threads),
            "--batch-size", str(batch_size), *CONFIGS[name]["args"]]  # fmt: skip
    if limit:
        args += ["--limit", str(limit)]
    print(f"== {name} on {data.name}", file=sys.stderr, flush=True)
    if cli.main(args) != 0:
        raise SystemExit(f"kpdd eval failed for {name} on {data}")
    return json.loads(report.read_text(encoding="utf-8"))


def correct_by_id(report: dict) -> dict[str, bool]:
    return {record["id"]: bool(record["correct"]) for record in report["records"]}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", required=True, type=Path, help="the kept translations (kpdd translate -o)")
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "bench-chinese")
    args = parser.parse_args()
    names = [n for n in args.configs.split(",") if n]
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        parser.error(f"unknown configurations: {', '.join(unknown)} (have {', '.join(CONFIGS)})")
    english = english_originals(args.data, args.out)
    reports: dict[tuple[str, str], dict] = {}
    for name in names:
        for language, data in (("zh", args.data), ("en", english))[
            : 2 if CONFIGS[name].get("english", True) else 1
        ]:
            report = args.out / name / f"{data.stem}.json"
            report.parent.mkdir(parents=True, exist_ok=True)
            reports[name, language] = run(name, data, report, args.limit, args.threads, args.batch_size)
    print(f"## Accuracy (%) on {args.data.name} ({len(correct_by_id(reports[names[0], 'zh']))} problems) "
          "and on the same problems in English\n")  # fmt: skip
    print("| configuration | Chinese | English |\n|---|---|---|")
    for name in names:
        zh = reports[name, "zh"]["summary"]["accuracy"]
        en = reports[name, "en"]["summary"]["accuracy"] if (name, "en") in reports else None
        print(f"| {name} | {100 * zh:.1f} | {'-' if en is None else f'{100 * en:.1f}'} |")
    for name in [n for n in names if (n, "en") in reports]:
        zh, en = correct_by_id(reports[name, "zh"]), correct_by_id(reports[name, "en"])
        print(f"\n## {name}: Chinese against English, problem by problem\n")
        print(pairs_table([("all", [(zh[i], en[i]) for i in zh if i in en])], "Chinese", "English"))
    if {"qwen15-en-demos", "qwen15-zh-demos"} <= set(names):
        a, b = (
            correct_by_id(reports["qwen15-zh-demos", "zh"]),
            correct_by_id(reports["qwen15-en-demos", "zh"]),
        )
        print("\n## The 1.5B on the Chinese problems: Chinese against English demonstrations\n")
        print(pairs_table([("all", [(a[i], b[i]) for i in a if i in b])], "Chinese demos", "English demos"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

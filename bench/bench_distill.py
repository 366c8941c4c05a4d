"""Distillation benchmarks (prints measured figures; not a timed test).

1. Teacher throughput (rationales/s) against concurrency, on a real local llama.cpp server
   (`python -m llama_cpp.server` on the SmolLM2 GGUF) with the three-stage prompts.
2. Training tokens/s on this machine: fp32 against bf16 autocast, on a tiny random Llama with
   SmolLM2's tokenizer (and, with --smollm2, SmolLM2-135M itself loaded from the GGUF).
3. The gold teacher's coverage of GSM8K train (share of problems with a sandbox-verified program).

    .venv/bin/python bench/bench_distill.py --data-dir ../shared/data [--problems 4] [--smollm2]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))


def bench_gold(data_dir: Path) -> dict:
    from distill.gold import gold_rationale
    from kpdd.datasets import load_gsm8k

    problems = load_gsm8k(data_dir / "gsm8k", "train")
    started = time.perf_counter()
    failures: Counter = Counter()
    for problem in problems:
        failures[
            gold_rationale(problem.question, problem.solution, problem.answer).failure or "verified"
        ] += 1
    seconds = time.perf_counter() - started
    return {"problems": len(problems), "verified": failures["verified"],
            "coverage": round(failures["verified"] / len(problems), 4), "failures": dict(failures),
            "seconds": round(seconds, 1)}  # fmt: skip


def bench_teacher(gguf: Path, data_dir: Path, n: int, levels: list[int], tmp: Path) -> list[dict]:
    from test_distill_e2e import LlamaServer, free_port

    from distill.chat_client import OpenAIChat
    from distill.teach import run_teach
    from distill.teachers import ChatTeacher, Sampling
    from kpdd.datasets import load_gsm8k
    from kpdd.format import Mode

    problems = load_gsm8k(data_dir / "gsm8k", "train")[:n]
    server = LlamaServer(gguf, free_port())
    server.start()
    rows = []
    try:
        for level in levels:
            client = OpenAIChat(server.url, "smollm2", timeout_s=120, retries=2)
            teacher = ChatTeacher(client, f"openai:c{level}", "openai", Sampling(0.7, 32, 0), demos=1)
            stats = run_teach(teacher, problems, tmp / f"c{level}.jsonl", mode=Mode.POT, concurrency=level)
            tally = client.tally.to_dict()
            rows.append({"concurrency": level, "rationales": stats["written"], "seconds": stats["seconds"],
                         "rationales_per_s": stats["records_per_second"],
                         "completion_tok_per_s": round(tally["completion_tokens"] / stats["seconds"], 1),
                         "prompt_tokens": tally["prompt_tokens"], "failures": tally["failures"]})  # fmt: skip
            print(json.dumps(rows[-1]), flush=True)
    finally:
        server.kill()
    return rows


def bench_training(base: Path, data: Path, tmp: Path, steps: int, label: str) -> list[dict]:
    from distill.recipe import load_recipe
    from distill.train import run_training

    rows = []
    for precision in ("fp32", "bf16"):
        recipe = load_recipe(None, {
            "base_model": str(base), "data": [str(data)], "out": str(tmp / f"{label}-{precision}"), "lora": False,
            "max_steps": steps, "seq_len": 256, "batch_size": 8, "precision": precision, "eval_every": 0,
            "eval_fraction": 0.0, "save_every": 0, "log_every": 1, "threads": 2,
        })  # fmt: skip
        summary = run_training(recipe, log=lambda *a: None)
        rows.append({"model": label, "precision": precision, "steps": steps, "tokens": summary["tokens"],
                     "seconds": summary["seconds"], "tokens_per_s": summary["tokens_per_second"],
                     "parameters": summary["parameters"]})  # fmt: skip
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--gguf", default=None, help="SmolLM2 GGUF (default: the installed default model)")
    parser.add_argument("--problems", type=int, default=4)
    parser.add_argument("--concurrency", default="1,2,4")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--smollm2", action="store_true", help="also time SmolLM2-135M training")
    parser.add_argument("--skip", default="", help="comma list of gold,teacher,train to skip")
    args = parser.parse_args()
    data_dir = Path(args.data_dir)
    if args.gguf:
        gguf = Path(args.gguf)
    else:
        from conftest import SMOLLM2_PATH

        gguf = SMOLLM2_PATH
    skip = set(args.skip.split(","))
    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if "gold" not in skip:
            results["gold"] = bench_gold(data_dir)
            print("gold teacher:", json.dumps(results["gold"]), flush=True)
        if "teacher" not in skip:
            levels = [int(x) for x in args.concurrency.split(",")]
            results["teacher"] = bench_teacher(gguf, data_dir, args.problems, levels, tmp)
        if "train" not in skip:
            from distill.teach import filter_records, run_teach
            from distill.teachers import GoldTeacher
            from distill.tiny import make_tiny_model
            from kpdd.datasets import load_gsm8k
            from kpdd.format import Mode

            run_teach(
                GoldTeacher(), load_gsm8k(data_dir / "gsm8k", "train")[:64], tmp / "g.jsonl", mode=Mode.POT
            )
            kept, _ = filter_records(json.loads(x) for x in (tmp / "g.jsonl").read_text().splitlines())
            (tmp / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in kept))
            tiny = make_tiny_model(tmp / "tiny", gguf, hidden=256, layers=4)
            results["train"] = bench_training(tiny, tmp / "train.jsonl", tmp, args.steps, "tiny-llama-256x4")
            if args.smollm2:
                results["train"] += bench_training(gguf, tmp / "train.jsonl", tmp, args.steps, "smollm2-135m")
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

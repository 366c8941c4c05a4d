"""The shipped student as llama.cpp runs it today (its Q4_K_M base with the LoRA adapter applied at load
time) against the same adapter merged into the base (`python -m export.gguf_merge`), side by side.

Each problem is solved once by each variant in turn (order alternating), one at a time on 2 threads
as the app solves it (`Solver.solve`, Program mode, greedy): seconds to the answer, completion tokens
and tokens per second, and whether the two wrote the same program. The base alone, few-shot, is the
reference for llama.cpp's own speed on these weights (`--with-base`). Accuracy is bench_candidate.py's
(`--model MERGED`, the dev split): a merged file is requantized once more, so it must be measured.

    .venv/bin/python -m export.gguf_merge ~/.local/share/kpdd-tutor/models/Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf \\
        resources/models/kpdd-qwen05b-s6-lora-f16.gguf -o runs/merged/kpdd-qwen05b-s6.Q4_K_M.gguf
    .venv/bin/python bench/bench_merged.py --merged runs/merged/kpdd-qwen05b-s6.Q4_K_M.gguf --limit 10
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
STUDENT = "KPDD Qwen2.5-Coder-0.5B"  # resources/models/kpdd-qwen05b.json


def main() -> int:
    from kpdd import models
    from kpdd.datasets import load_dataset
    from kpdd.format import Mode
    from kpdd.llama_backend import LlamaBackend
    from kpdd.solver import Solver

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--merged", type=Path, nargs="+", required=True, help="merged student GGUFs")
    parser.add_argument("--limit", type=int, default=10, help="GSM8K dev problems (its seeded order)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--with-base", action="store_true", help="also the base alone, few-shot")
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    args = parser.parse_args()

    student = next(e for e in models.list_models() if e.kind == "bundled" and e.name == STUDENT)
    shipped = models.adapter_route(student)  # the adapter over the base, also where setup merged it
    variants = {
        "adapter (shipped)": LlamaBackend(shipped.path, lora_path=shipped.lora_path, threads=args.threads),
        **{f"merged: {path.name}": LlamaBackend(path, threads=args.threads) for path in args.merged},
    }
    if args.with_base:
        variants["base alone, few-shot"] = LlamaBackend(student.base_path, threads=args.threads)
    solvers = {name: Solver(backend) for name, backend in variants.items()}
    problems = load_dataset("gsm8k", data_dir=args.data_dir, limit=args.limit, eval_split="dev").problems
    times: dict[str, list[float]] = {name: [] for name in solvers}
    rates: dict[str, list[float]] = {name: [] for name in solvers}
    same_program = 0
    for i, problem in enumerate(problems):
        order = list(solvers) if i % 2 == 0 else list(reversed(solvers))
        programs = {}
        for name in order:
            started = time.perf_counter()
            result = solvers[name].solve(problem.question, Mode.POT)
            seconds = time.perf_counter() - started
            tokens = result.completion_tokens
            times[name].append(seconds)
            rates[name].append(tokens / seconds if seconds else 0.0)
            programs[name] = result.solutions[0].text if result.solutions else ""
        same_program += all(programs[n] == programs["adapter (shipped)"] for n in programs)
        print(f"[{i + 1}/{len(problems)}] " + ", ".join(f"{n} {times[n][-1]:.2f} s" for n in solvers),
              file=sys.stderr, flush=True)  # fmt: skip
    print(
        f"## The student as an adapter and merged ({len(problems)} GSM8K dev problems, {args.threads} threads)\n"
    )
    print("| variant | median s | tokens/s (median) | against the adapter |")
    print("|---|---|---|---|")
    base_s = statistics.median(times["adapter (shipped)"])
    for name in solvers:
        median_s = statistics.median(times[name])
        print(
            f"| {name} | {median_s:.2f} | {statistics.median(rates[name]):.1f} | {median_s / base_s:.2f}x time |"
        )
    print(f"\nThe same program from every variant: {same_program} of {len(problems)}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

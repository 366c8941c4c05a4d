"""Time to answer with 1 thread, all threads, and the CLI's automatic choice, beside busy programs.

llama.cpp's threads meet at every step and spin while they wait, so a thread that shares its core
with another busy program stalls the rest. The CLI's default (`kpdd.llama_backend.default_threads`)
counts the cores idle when it starts and uses those. This bench runs the default model on the same
problems with each thread count, alternating per problem, with 0, 1, ... busy neighbours (plain
Python loops the bench starts and stops), and prints the median time to answer and the ratios.

    python bench/bench_threads.py --n 6 [--mode pot] [--data-dir ../shared/data]

Run it on an otherwise quiet machine: the neighbours are the only load it means to measure.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from kpdd.datasets import load_dataset
from kpdd.llama_backend import default_threads
from kpdd.models import load_backend, resolve_model
from kpdd.solver import Solver

BUSY_LOOP = "import time\nend = time.time() + 600\nwhile time.time() < end: pass\n"


def start_neighbours(count: int) -> list[subprocess.Popen]:
    """`count` CPU-bound processes (each ends by itself after 10 minutes, should the bench die)."""
    return [subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) for _ in range(count)]


def stop(neighbours: list[subprocess.Popen]) -> None:
    for process in neighbours:
        process.kill()
        process.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=6, help="problems per thread count and load")
    parser.add_argument("--mode", default="pot", choices=["pot", "cot"])
    parser.add_argument("--model", help="a GGUF file or a listed model (default: the default model)")
    parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    args = parser.parse_args()

    cores = os.cpu_count() or 2
    problems = load_dataset("svamp", args.data_dir, limit=args.n, shuffle_seed=0).problems
    entry = resolve_model(args.model)
    solvers: dict[int, Solver] = {}

    def solver_for(threads: int) -> Solver:
        if threads not in solvers:  # loaded once, its cache warmed with the prompt prefix off the clock
            solvers[threads] = Solver(load_backend(entry, threads=threads))
            solvers[threads].solve(problems[0].question, args.mode, samples=1)
        return solvers[threads]

    fixed = sorted({1, cores})
    print(f"{entry.name}, {args.mode}, {len(problems)} SVAMP problems, {cores} cores")
    print("| busy neighbours | " + " | ".join(f"{t} thread(s), median s" for t in fixed)
          + " | automatic: threads | automatic, median s | slower fixed count / automatic |")  # fmt: skip
    print("|---|" + "---|" * len(fixed) + "---|---|---|")
    for busy in range(cores + 1):
        neighbours = start_neighbours(busy)
        try:
            time.sleep(1.0)  # let the neighbours take their cores before sampling
            automatic = default_threads()
            counts = sorted({*fixed, automatic})
            for threads in counts:
                solver_for(threads)
            seconds: dict[int, list[float]] = {t: [] for t in counts}
            for problem in problems:
                for threads in counts:  # alternating, so noise hits every count alike
                    started = time.perf_counter()
                    solvers[threads].solve(problem.question, args.mode, samples=1)
                    seconds[threads].append(time.perf_counter() - started)
        finally:
            stop(neighbours)
        medians = {t: statistics.median(v) for t, v in seconds.items()}
        slower = max(medians[t] for t in fixed)
        print(f"| {busy} | " + " | ".join(f"{medians[t]:.2f}" for t in fixed)
              + f" | {automatic} | {medians[automatic]:.2f} | {slower / medians[automatic]:.1f}x |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

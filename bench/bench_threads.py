"""Time to answer with 1 thread, all threads, and the CLI's automatic choice, beside busy programs.

llama.cpp's threads meet at every step and spin while they wait, so a thread that shares its core
with another busy program stalls the rest. The CLI's default (`kpdd.llama_backend.default_threads`)
counts the cores idle when it starts and uses those. This bench runs the default model on the same
problems with each thread count, alternating per problem, with 0, 1, ... busy neighbours (plain
Python loops the bench starts and stops), and prints the median time to answer and the ratios.

    python bench/bench_threads.py --n 6 [--mode pot] [--data-dir ../shared/data]
    python bench/bench_threads.py --app --n 8      # the same in the real app window (offscreen):
                                                   # Settings > CPU threads "Automatic" against 1

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


def app_solve_times(problems: list, mode: str, counts: list[int]) -> dict[int, list[float]]:
    """Seconds from Solve to the finished answer in real main windows (offscreen), one per thread
    setting (0 = "Automatic"), alternating per problem. Samples 1, a temporary KPDD home whose
    models folder is the real one, so the window loads the default model as a user's does."""
    import tempfile

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from kpdd import paths

    real_models = paths.models_dir()
    home = tempfile.mkdtemp(prefix="kpdd-bench-")
    os.environ["KPDD_HOME"] = home
    Path(home, "models").symlink_to(real_models, target_is_directory=True)
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from desktop.app import create_window
    from desktop.settings import DesktopSettings

    app = QApplication.instance() or QApplication(["kpdd-bench"])

    def wait(predicate, timeout_s: float = 600.0) -> None:
        """Run the event loop until `predicate()` holds, checking every 20 ms. The loop sleeps in
        between, as the app's does: a loop spinning on processEvents would keep a core busy, and
        Automatic would then rightly see only one idle core."""
        loop, timer = QEventLoop(), QTimer()
        deadline = time.monotonic() + timeout_s
        timer.timeout.connect(lambda: (predicate() or time.monotonic() > deadline) and loop.quit())
        timer.start(20)
        if not predicate():
            loop.exec()
        timer.stop()

    windows = {}
    for threads in counts:
        window = create_window(DesktopSettings(language="en", threads=threads, mode=mode, samples=1))
        window.show()
        window.solver_thread.preload()
        wait(lambda w=window: w.model_state in ("ready", "missing", "corrupt"))
        windows[threads] = window
    seconds: dict[int, list[float]] = {t: [] for t in counts}
    for problem in [problems[0], *problems]:  # the first round warms every window, off the clock
        for threads, window in windows.items():
            window.problem_card.edit.setPlainText(problem.question)
            started = time.perf_counter()
            window.session.solve()
            wait(lambda w=window: not w.busy)
            seconds[threads].append(time.perf_counter() - started)
    for window in windows.values():
        window.close()
    app.processEvents()
    return {t: v[1:] for t, v in seconds.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=6, help="problems per thread count and load")
    parser.add_argument("--mode", default="pot", choices=["pot", "cot"])
    parser.add_argument("--model", help="a GGUF file or a listed model (default: the default model)")
    parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--app", action="store_true", help="time solves in the app's window instead")
    args = parser.parse_args()

    cores = os.cpu_count() or 2
    problems = load_dataset("svamp", args.data_dir, limit=args.n, shuffle_seed=0).problems
    if args.app:
        seconds = app_solve_times(problems, args.mode, [0, 1])
        automatic, one = statistics.median(seconds[0]), statistics.median(seconds[1])
        print(
            f"The app, the default model, {args.mode}, samples 1, {len(problems)} SVAMP problems, {cores} cores"
        )
        print("| CPU threads setting | median s | p90 s |\n|---|---|---|")
        for threads, name in ((0, "Automatic"), (1, "1")):
            ordered = sorted(seconds[threads])
            p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
            print(f"| {name} | {statistics.median(ordered):.2f} | {p90:.2f} |")
        print(f"1 thread / Automatic: {one / automatic:.2f}x")
        return 0
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

"""Desktop tutor benchmark: launch to a usable window, and first streamed token, app vs CLI.

    .venv/bin/python bench/bench_desktop.py [--model PATH] [--repeats 3] [--threads N]

Every figure is wall time seen from outside, from starting the process (Popen) to:
- READY: the app's window is shown and its event loop idle (`kpdd-tutor --report-ready`);
- FIRST_TOKEN: the first non-blank streamed text of the core question, in the app
  (`kpdd-tutor --solve --report-first-token`) and in the CLI (`kpdd solve`), same problem, same
  model, same threads, runs interleaved so both see the same machine load.
Both runs start cold (a new process loads the model), so the first-token figures compare like for like.
A third figure is the app's usual case: Solve pressed once the model is loaded and has read the
few-shot examples in the background (the app does that at start; from MODEL_READY, printed when
that is done, to FIRST_TOKEN).
Runs use a temporary KPDD home (no history or settings of the user are touched).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROBLEM = "A farmer packs 6 baskets with 14 apples each. He gives away 20 apples. How many apples does he have left?"


def timed_until(command: list[str], env: dict[str, str], marker, timeout_s: float) -> float | None:
    """Seconds from start until `marker(buffer)` is true for the process's stdout, then kill it."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    buffer = b""
    try:
        while time.perf_counter() - t0 < timeout_s:
            chunk = proc.stdout.read1(4096) if hasattr(proc.stdout, "read1") else proc.stdout.read(1)
            if not chunk:
                return None
            buffer += chunk
            if marker(buffer.decode("utf-8", errors="replace")):
                return time.perf_counter() - t0
        return None
    finally:
        proc.kill()
        proc.wait()


def cli_first_token(text: str) -> bool:
    head = "== Core question ==\n"
    return head in text and bool(text.split(head, 1)[1].strip())


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", help="GGUF file (default: the default model, the KPDD student)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--threads", type=int, default=None, help="default: automatic, as the app and the CLI choose"
    )
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="kpdd-bench-") as home:
        # Threads 0 is the app's "Automatic" (chosen before each solve); the CLI then picks its own
        # default the same way (the cores idle when it starts).
        config: dict = {"desktop": {"threads": args.threads or 0, "language": "en"}}
        model_args: list[str] = []
        if args.model:
            model = str(Path(args.model).resolve())
            config.update(models=[model], active_model=model)
            model_args = ["--model", model]
        else:
            # The default model as users get it: the KPDD student is the real models folder's base
            # file plus the adapter in resources/ (its file path alone would be the stock model).
            from kpdd import paths

            Path(home, "models").symlink_to(paths.models_dir(), target_is_directory=True)
        Path(home, "config.json").write_text(json.dumps(config))
        env = {**os.environ, "KPDD_HOME": home, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
               "PYTHONPATH": str(REPO)}  # fmt: skip
        ready, app_ft, cli_ft, warm_ft = [], [], [], []
        for i in range(args.repeats):
            ready.append(timed_until([python, "-m", "desktop.app", "--report-ready", "--quit-after", "--no-preload"],
                                     env, lambda t: "READY" in t, args.timeout))  # fmt: skip
            app_ft.append(timed_until([python, "-m", "desktop.app", "--solve", "--report-first-token", "--quit-after",
                                       PROBLEM], env, lambda t: "FIRST_TOKEN" in t, args.timeout))  # fmt: skip
            threads_args = ["--threads", str(args.threads)] if args.threads else []
            cli_ft.append(timed_until([python, "-m", "kpdd.cli", "solve", *model_args, *threads_args, PROBLEM],
                                      env, cli_first_token, args.timeout))  # fmt: skip
            marks: dict[str, float] = {}

            def warm_marker(text: str, marks: dict[str, float] = marks) -> bool:
                for line in text.splitlines():
                    parts = line.split()
                    if len(parts) == 2 and parts[0] in ("MODEL_READY", "FIRST_TOKEN"):
                        marks[parts[0]] = float(parts[1])
                return "FIRST_TOKEN" in marks

            timed_until([python, "-m", "desktop.app", "--solve-when-loaded", "--report-first-token", "--quit-after",
                         PROBLEM], env, warm_marker, args.timeout)  # fmt: skip
            warm_ft.append(marks["FIRST_TOKEN"] - marks["MODEL_READY"] if len(marks) == 2 else None)
            print(f"run {i + 1}: window {ready[-1]}, app first token {app_ft[-1]}, cli first token {cli_ft[-1]}, "
                  f"app first token with the model loaded {warm_ft[-1]}", file=sys.stderr)  # fmt: skip

    def med(values: list[float | None]) -> str:
        good = [v for v in values if v is not None]
        return f"{statistics.median(good):6.2f} s" if good else "  failed"

    print(f"model: {Path(args.model).name if args.model else 'the default'}, "
          f"threads: {args.threads or 'automatic'}, repeats: {args.repeats}, "
          f"load average: {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"launch -> usable window (app)        {med(ready)}")
    print(f"launch -> first streamed token (app) {med(app_ft)}")
    print(f"launch -> first streamed token (CLI) {med(cli_ft)}")
    print(f"Solve click -> first token, model loaded and warmed up (app) {med(warm_ft)}")
    good = [(a, c) for a, c in zip(app_ft, cli_ft) if a is not None and c is not None]
    if good:
        ratio = statistics.median(a / c for a, c in good)
        print(f"app / CLI first-token ratio (median of paired runs): {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The installed (frozen) app against the source install: size, start to a usable window, solve time.

    .venv/bin/python bench/bench_packaging.py [--runs 3] [--solves 1] [--app dist/kpdd-tutor/kpdd-tutor]

Needs a built app (packaging/build.sh). Frozen and source runs alternate, so a busy machine slows
both alike; the machine's load is printed with the figures. Measured:
- bundle: the one-folder app's size, the model's share, the installer archive's size;
- window: wall time from starting the process to the desktop window shown and idle (offscreen;
  the app's own `--report-ready` line, printed from inside the process, is reported too);
- solve: the sample problem in PoT mode through `cli solve --json` (model load + three stages +
  sandbox), wall time and the solver's own seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROBLEM = "A farmer packs 6 baskets with 14 apples each. He gives away 20 apples. How many apples does he have left?"


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def evict(folders: list[Path]) -> int:
    """Drop these files from the page cache (posix_fadvise DONTNEED), so the next start reads them
    from disk: a cold start without dropping the whole machine's cache. Returns the files evicted."""
    count = 0
    for folder in folders:
        for path in folder.rglob("*") if folder.is_dir() else [folder]:
            if path.is_file() and not path.is_symlink():
                try:
                    fd = os.open(path, os.O_RDONLY)
                except OSError:
                    continue
                try:
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                    count += 1
                finally:
                    os.close(fd)
    return count


def source_files() -> list[Path]:
    """What a source start reads: the interpreter's stdlib, the site-packages it imports, the repo code."""
    import sysconfig

    site = Path(sysconfig.get_paths()["purelib"])
    names = [
        "PySide6",
        "shiboken6",
        "llama_cpp",
        "numpy",
        "numpy.libs",
        "platformdirs",
        "jinja2",
        "diskcache",
    ]
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    return [site / n for n in names] + [stdlib, REPO / "kpdd", REPO / "desktop", REPO / "resources"]


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(command: list[str], env: dict[str, str], timeout: float = 900) -> tuple[float, str, float]:
    """Wall seconds, stdout, and CPU seconds of the process (and its sandbox workers): on a busy
    machine the CPU time compares frozen and source better than the wall time."""
    cpu_before = children_cpu()
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout, cwd=REPO)
    wall = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(f"{command[:3]} failed ({completed.returncode}): {completed.stderr[-1500:]}")
    return wall, completed.stdout, children_cpu() - cpu_before


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", type=Path, default=REPO / "dist" / "kpdd-tutor" / "kpdd-tutor")
    parser.add_argument("--runs", type=int, default=3, help="window starts per variant")
    parser.add_argument("--solves", type=int, default=1, help="sample solves per variant")
    parser.add_argument("--cold", action="store_true",
                        help="evict the app's files (frozen: the bundle; source: stdlib, site-packages, repo) "
                        "from the page cache before each window start")  # fmt: skip
    args = parser.parse_args()
    if not args.app.exists():
        print(f"No built app at {args.app}: run packaging/build.sh first.", file=sys.stderr)
        return 2

    from kpdd import paths

    user_home = str(paths.home_dir())  # the source install's model lives here
    empty_home = tempfile.mkdtemp(prefix="kpdd-bench-home-")  # the frozen app uses its bundled model
    base = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8",
            "QT_QPA_PLATFORM": "offscreen", "KPDD_TUTOR_HARD_EXIT": "1"}  # fmt: skip
    frozen = ([str(args.app)], {**base, "KPDD_HOME": empty_home})
    source = ([sys.executable, str(REPO / "packaging" / "entry.py")], {**base, "KPDD_HOME": user_home})

    bundle = args.app.parent
    model = bundle / "_internal" / "resources" / "models"
    archives = sorted(bundle.parent.glob("kpdd-tutor-*-linux-*.tar.gz"))
    print(f"bundle: {folder_size(bundle) / 1e6:.1f} MB (model {folder_size(model) / 1e6:.1f} MB)"
          + (f", installer {archives[-1].stat().st_size / 1e6:.1f} MB ({archives[-1].name})" if archives else ""))  # fmt: skip

    window: dict[str, list[tuple[float, float]]] = {"frozen": [], "source": []}
    for _ in range(args.runs):
        for name, (command, env) in (("frozen", frozen), ("source", source)):
            if args.cold:
                evict([bundle] if name == "frozen" else source_files())
            wall, out, _ = run(command + ["--report-ready", "--quit-after", "--no-preload"], env)
            inside = next(float(line.split()[1]) for line in out.splitlines() if line.startswith("READY "))
            window[name].append((wall, inside))
    for name, values in window.items():
        walls = [w for w, _ in values]
        print(f"window ready{' (cold)' if args.cold else ''}, {name}: median {statistics.median(walls):.2f} s wall "
              f"(runs {', '.join(f'{w:.2f}' for w in walls)}; in-process READY median "
              f"{statistics.median(i for _, i in values):.2f} s)")  # fmt: skip
    ratio = statistics.median(w for w, _ in window["frozen"]) / statistics.median(
        w for w, _ in window["source"]
    )
    print(f"window ready, frozen / source: {ratio:.2f}x")

    solves: dict[str, list[tuple[float, float, float, int]]] = {"frozen": [], "source": []}
    for _ in range(args.solves):
        for name, (command, env) in (("frozen", frozen), ("source", source)):
            wall, out, cpu = run(command + ["cli", "solve", "--mode", "pot", "--json", PROBLEM], env)
            result = json.loads(out)
            solves[name].append(
                (wall, float(result.get("seconds", 0.0)), cpu, int(result["completion_tokens"]))
            )
    for name, values in solves.items() if args.solves > 0 else ():
        print(f"sample solve, {name}: median {statistics.median(v[0] for v in values):.1f} s wall, "
              f"solver {statistics.median(v[1] for v in values):.1f} s, CPU {statistics.median(v[2] for v in values):.1f} s "
              f"(runs: {'; '.join(f'{v[0]:.1f} s wall, {v[2]:.1f} s CPU, {v[3]} tokens' for v in values)})")  # fmt: skip
    if args.solves > 0:
        cpu_ratio = statistics.median(v[2] for v in solves["frozen"]) / statistics.median(
            v[2] for v in solves["source"]
        )
        print(f"sample solve CPU time, frozen / source: {cpu_ratio:.2f}x")
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else ["?"]
    print(f"machine: {os.cpu_count()} cores, load average {' '.join(load)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

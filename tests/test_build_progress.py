"""scripts/build_progress.py: setup shows how far llama.cpp's compilation is instead of going silent."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run(lines: list[str], tmp_path: Path, *options: str) -> tuple[list[str], str]:
    log = tmp_path / "build.log"
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "build_progress.py"), "--log", str(log), *options],
        input="".join(line + "\n" for line in lines), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines(), log.read_text()


def test_ninja_progress_is_shown_at_each_tenth_and_everything_is_logged(tmp_path):
    build = [
        "Collecting llama-cpp-python==0.3.36",
        "-- The C compiler identification is GNU 12.2.0",
        "-- Configuring done",
    ] + [f"[{n}/200] Building C object ggml/src/file{n}.c.o" for n in range(1, 201)]
    shown, log = run(build + ["Building wheel for llama-cpp-python (pyproject.toml): finished"], tmp_path)
    assert log.splitlines() == build + ["Building wheel for llama-cpp-python (pyproject.toml): finished"]
    compiling = [line for line in shown if "compiling" in line]
    assert [line.split(": compiling, ")[1].split(" (")[0] for line in compiling][-11:] == [
        f"{p}%" for p in range(0, 101, 10)
    ]  # fmt: skip
    assert "compiling, 50% (100/200)" in compiling[-6]
    assert shown[0].startswith("  llama.cpp: fetching the sources") or shown[0].startswith(
        "  llama.cpp: starting"
    )
    assert shown[-1].startswith("  llama.cpp: ") and shown[-1].endswith(" in all")


def test_make_percentages_and_a_heartbeat_while_nothing_is_printed(tmp_path):
    script = (
        "import sys, time\n"
        "print('[ 10%] Building CXX object llama.cpp', flush=True)\n"
        "time.sleep(2.5)\n"
        "print('[100%] Linking CXX shared library libllama.so', flush=True)\n"
    )
    log = tmp_path / "build.log"
    producer = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "build_progress.py"), "--log", str(log), "--heartbeat-s", "1"],
        stdin=producer.stdout, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    producer.wait()
    lines = done.stdout.splitlines()
    assert "compiling, 10% (10/100)" in lines[0]
    # While the build said nothing for 2.5 s, the status was repeated with the time going on.
    assert sum("compiling, 10% (10/100)" in line for line in lines) >= 2
    assert any("compiling, 100% (100/100)" in line for line in lines)

"""Progress of a long build, read from its output: one status line instead of minutes of silence.

    pip wheel -v llama-cpp-python ... 2>&1 | python3 scripts/build_progress.py --log build.log

Every line goes to the log; the terminal gets what stage the build is in, how far the compiler is
(ninja's "[120/290]" or make's "[ 41%]") and how long it has taken, rewritten in place on a
terminal, and a line at each tenth (or at least every minute) in a CI log. scripts/bootstrap.sh
uses it while llama.cpp compiles, which takes minutes on two cores and longer when they are busy.
Standard library only: it runs before the virtual environment has anything in it.
"""

from __future__ import annotations

import argparse
import re
import sys
import threading
import time
from pathlib import Path
from typing import TextIO

_NINJA = re.compile(r"^\s*\[(\d+)/(\d+)\]")
_MAKE = re.compile(r"^\s*\[\s*(\d+)%\]")
# Phases worth naming before the compiler starts and after it ends.
_PHASES = (
    (re.compile(r"Collecting|Downloading|Obtaining"), "fetching the sources"),
    (re.compile(r"-- (?:The C compiler|Configuring)|CMake|cmake"), "configuring"),
    (re.compile(r"Linking|linking"), "linking"),
    (re.compile(r"Building wheel|Created wheel|Saved "), "packing the wheel"),
)


def elapsed_text(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


class Progress:
    """What the build is doing now, from the lines it printed."""

    def __init__(self, label: str, out: TextIO, live: bool, heartbeat_s: float) -> None:
        self.label = label
        self.out = out
        self.live = live  # a terminal: one line rewritten in place
        self.heartbeat_s = heartbeat_s
        self.started = time.monotonic()
        self.phase = "starting"
        self.done = 0
        self.total = 0
        self.last_tenth = -1
        self.last_print = 0.0
        self.lock = threading.Lock()

    def status(self) -> str:
        where = self.phase
        if self.total:
            where = f"compiling, {100 * self.done // self.total}% ({self.done}/{self.total})"
        return f"  {self.label}: {where}, {elapsed_text(time.monotonic() - self.started)}"

    def feed(self, line: str) -> None:
        with self.lock:
            if match := _NINJA.match(line):
                self.done, self.total = int(match.group(1)), int(match.group(2))
            elif match := _MAKE.match(line):
                self.done, self.total = int(match.group(1)), 100
            else:
                for pattern, phase in _PHASES:
                    if pattern.search(line) and not (self.total and phase == "configuring"):
                        self.phase = phase
                        break
            tenth = 10 * self.done // self.total if self.total else -1
            due = time.monotonic() - self.last_print >= (1.0 if self.live else self.heartbeat_s)
            if due or tenth > self.last_tenth:
                self.last_tenth = max(self.last_tenth, tenth)
                self._print()

    def heartbeat(self, stop: threading.Event) -> None:
        """A line now and then while the build prints nothing (a long configure, a big file)."""
        while not stop.wait(min(1.0, self.heartbeat_s)):
            with self.lock:
                if time.monotonic() - self.last_print >= (1.0 if self.live else self.heartbeat_s):
                    self._print()

    def finish(self) -> None:
        with self.lock:
            end = f"  {self.label}: {elapsed_text(time.monotonic() - self.started)} in all"
            self.out.write(("\r\033[K" if self.live else "") + end + "\n")
            self.out.flush()

    def _print(self) -> None:
        self.last_print = time.monotonic()
        if self.live:
            self.out.write("\r\033[K" + self.status())
        else:
            self.out.write(self.status() + "\n")
        self.out.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--log", type=Path, required=True, help="where every line of the build goes")
    parser.add_argument("--label", default="llama.cpp", help="what is being built, for the status line")
    parser.add_argument("--heartbeat-s", type=float, default=60.0,
                        help="without a terminal: a status line at least this often (seconds)")  # fmt: skip
    args = parser.parse_args(argv)
    args.log.parent.mkdir(parents=True, exist_ok=True)
    progress = Progress(args.label, sys.stdout, sys.stdout.isatty(), args.heartbeat_s)
    stop = threading.Event()
    beat = threading.Thread(target=progress.heartbeat, args=(stop,), daemon=True)
    beat.start()
    with args.log.open("w", encoding="utf-8") as log:
        for line in sys.stdin:
            log.write(line)
            log.flush()
            progress.feed(line)
    stop.set()
    beat.join()
    progress.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())

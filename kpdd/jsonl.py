"""JSON Lines files that survive a kill: every long job here (teaching, evaluation, batches) appends
one record a line, and a process killed mid-write leaves its last line torn.

`read_jsonl` yields the objects of a file (plain or .gz) and skips a line that does not parse (the
torn one); `repair_tail` cuts that torn line off before appending, so the next record starts on a line
of its own; `append_jsonl` writes one record in one write, flushed and fsynced.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def read_jsonl(path: str | Path) -> Iterator[dict[str, Any]]:
    """The JSON objects of a file, one a line; blank lines and a line that does not parse (cut short
    by a crash) are skipped."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if not line:
                continue
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                yield value


def repair_tail(path: str | Path) -> int:
    """Cut a partial last line (no trailing newline) off the file; returns the bytes removed."""
    path = Path(path)
    if not path.exists():
        return 0
    size = path.stat().st_size
    if size == 0:
        return 0
    with path.open("rb+") as handle:
        handle.seek(size - 1)
        if handle.read(1) == b"\n":
            return 0
        position = size  # read backwards in blocks until the previous newline
        block = 4096
        while position > 0:
            start = max(0, position - block)
            handle.seek(start)
            chunk = handle.read(position - start)
            newline = chunk.rfind(b"\n")
            if newline != -1:
                keep = start + newline + 1
                handle.truncate(keep)
                return size - keep
            position = start
        handle.truncate(0)
        return size


def append_jsonl(path: str | Path, record: dict[str, Any], fsync: bool = True) -> None:
    """Append one record as a line of its own (a torn last line is cut off first)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    repair_tail(path)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        handle.flush()
        if fsync:
            os.fsync(handle.fileno())

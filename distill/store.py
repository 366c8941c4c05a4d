"""Append-only JSONL files of teacher records: crash-safe, resumable, never doubled.

Each record is one line, written with a single `write` and flushed (and fsynced) before the next, so
a kill loses at most the line being written. On open, a last line cut short by a crash is cut off the
file, finished keys are read back, and `append` refuses a key that is already there: a rerun skips
finished problems and never writes a duplicate, however often it is interrupted.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from kpdd.jsonl import read_jsonl, repair_tail

__all__ = ["RecordStore", "read_jsonl", "record_key", "repair_tail"]


def record_key(record: dict[str, Any]) -> str:
    """What makes a teacher record unique in a file: teacher, problem and sample index."""
    teacher = record.get("provenance", {}).get("teacher", "")
    return f"{teacher}|{record['problem_id']}|{record.get('sample', 0)}"


class RecordStore:
    """A JSONL file that many threads append records to, each key at most once."""

    def __init__(self, path: str | Path, fsync: bool = True) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.repaired_bytes = repair_tail(self.path)
        self.keys: set[str] = set()
        self.existing = 0
        if self.path.exists():
            for record in read_jsonl(self.path):
                try:
                    self.keys.add(record_key(record))
                    self.existing += 1
                except KeyError:
                    continue
        self._fsync = fsync
        self._lock = threading.Lock()
        self._handle = self.path.open("a", encoding="utf-8")

    def __contains__(self, key: str) -> bool:
        with self._lock:
            return key in self.keys

    def append(self, record: dict[str, Any]) -> bool:
        """Write one record unless its key is already there; True when written."""
        key = record_key(record)
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock:
            if key in self.keys:
                return False
            self._handle.write(line)
            self._handle.flush()
            if self._fsync:
                os.fsync(self._handle.fileno())
            self.keys.add(key)
            return True

    def close(self) -> None:
        with self._lock:
            if not self._handle.closed:
                self._handle.close()

    def __enter__(self) -> RecordStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

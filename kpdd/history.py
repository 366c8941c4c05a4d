"""The tutor's history: every solved problem, in SQLite (WAL) in the user's data folder.

Plain Python (no Qt), so the desktop app, tests and scripts share it. Each solve is one row written
in one transaction: a killed process either wrote the whole row or none of it, and WAL with
`synchronous=FULL` keeps committed rows across a crash of the process (and of the machine).
The full `SolveResult.to_dict()` is kept as JSON, so a history entry reopens with every stage,
program and sandbox result; the searchable columns are copies of its main fields.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kpdd import paths

SCHEMA_VERSION = 1
HISTORY_FILE = "history.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS solves (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at REAL NOT NULL,
    problem TEXT NOT NULL,
    mode TEXT NOT NULL,
    model TEXT NOT NULL DEFAULT '',
    core_question TEXT NOT NULL DEFAULT '',
    key_information TEXT NOT NULL DEFAULT '[]',
    answer REAL,
    confidence REAL NOT NULL DEFAULT 0,
    agree INTEGER,
    cancelled INTEGER NOT NULL DEFAULT 0,
    seconds REAL NOT NULL DEFAULT 0,
    result_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS solves_created ON solves(created_at);
"""


def history_path() -> Path:
    return paths.home_dir() / HISTORY_FILE


@dataclass
class HistoryEntry:
    """One saved solve. `result` is `SolveResult.to_dict()`; see `SolveResult.from_dict`."""

    id: int
    created_at: float
    problem: str
    mode: str
    model: str
    core_question: str
    key_information: list[str]
    answer: float | None
    confidence: float
    agree: bool | None
    cancelled: bool
    seconds: float
    result: dict[str, Any] = field(default_factory=dict)

    def verdict(self) -> str:
        """The verdict on the saved answer (a kpdd.verdict.Level value), worked out from the result."""
        from kpdd.result import SolveResult
        from kpdd.verdict import judge

        return judge(SolveResult.from_dict(self.result)).level.value

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "created_at": self.created_at,
            "created": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.created_at)),
            "problem": self.problem,
            "mode": self.mode,
            "model": self.model,
            "core_question": self.core_question,
            "key_information": self.key_information,
            "answer": self.answer,
            "verdict": self.verdict(),
            "confidence": self.confidence,
            "agree": self.agree,
            "cancelled": self.cancelled,
            "seconds": self.seconds,
            "result": self.result,
        }


class HistoryStore:
    """The history database. Open one per thread (sqlite3 connections are not shared)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else history_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so each save is one transaction.
        self.conn = sqlite3.connect(str(self.path), timeout=10.0, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.conn.executescript(_SCHEMA)
        self.conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    # -- writing -------------------------------------------------------------------------------

    def add(self, result: Any, created_at: float | None = None) -> int:
        """Save a `SolveResult` (or its `to_dict()`); returns the new entry's id."""
        row = (created_at if created_at is not None else time.time(), *self._columns(result))
        with self._transaction():
            cursor = self.conn.execute(
                "INSERT INTO solves (created_at, problem, mode, model, core_question, key_information,"
                " answer, confidence, agree, cancelled, seconds, result_json)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
        return int(cursor.lastrowid)

    def replace(self, entry_id: int, result: Any) -> bool:
        """Save a later state of an entry's solve in its place (a second model checked the answer),
        keeping when it was made; False when the entry is gone (deleted meanwhile)."""
        with self._transaction():
            cursor = self.conn.execute(
                "UPDATE solves SET problem = ?, mode = ?, model = ?, core_question = ?, key_information = ?,"
                " answer = ?, confidence = ?, agree = ?, cancelled = ?, seconds = ?, result_json = ?"
                " WHERE id = ?",
                (*self._columns(result), int(entry_id)),
            )
        return cursor.rowcount > 0

    @staticmethod
    def _columns(result: Any) -> tuple[Any, ...]:
        """A result's columns after created_at, in the table's order."""
        data = result.to_dict() if hasattr(result, "to_dict") else dict(result)
        agree = data.get("agree")
        return (
            data.get("problem", ""),
            str(data.get("mode", "")),
            data.get("model", "") or "",
            data.get("core_question", "") or "",
            json.dumps(list(data.get("key_information") or []), ensure_ascii=False),
            data.get("answer"),
            float(data.get("confidence") or 0.0),
            None if agree is None else int(bool(agree)),
            int(bool(data.get("cancelled"))),
            float(data.get("seconds") or 0.0),
            json.dumps(data, ensure_ascii=False, default=str),
        )

    def delete(self, entry_id: int) -> bool:
        with self._transaction():
            cursor = self.conn.execute("DELETE FROM solves WHERE id = ?", (int(entry_id),))
        return cursor.rowcount > 0

    def clear(self) -> None:
        with self._transaction():
            self.conn.execute("DELETE FROM solves")

    # -- reading -------------------------------------------------------------------------------

    def get(self, entry_id: int) -> HistoryEntry | None:
        row = self.conn.execute("SELECT * FROM solves WHERE id = ?", (int(entry_id),)).fetchone()
        return _entry(row) if row is not None else None

    def search(self, text: str = "", limit: int = 500) -> list[HistoryEntry]:
        """Newest first; `text` matches the problem, core question, key information or model."""
        text = (text or "").strip()
        if not text:
            rows = self.conn.execute(
                "SELECT * FROM solves ORDER BY created_at DESC, id DESC LIMIT ?", (limit,)
            ).fetchall()
        else:
            like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            rows = self.conn.execute(
                "SELECT * FROM solves WHERE problem LIKE ?1 ESCAPE '\\' OR core_question LIKE ?1 ESCAPE '\\'"
                " OR key_information LIKE ?1 ESCAPE '\\' OR model LIKE ?1 ESCAPE '\\'"
                " ORDER BY created_at DESC, id DESC LIMIT ?2",
                (like, limit),
            ).fetchall()
        return [_entry(row) for row in rows]

    def count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM solves").fetchone()[0])

    def integrity_check(self) -> str:
        return str(self.conn.execute("PRAGMA integrity_check").fetchone()[0])

    # -- export --------------------------------------------------------------------------------

    def export(self, path: str | Path, ids: Iterable[int] | None = None) -> int:
        """Write entries to `.json`, `.jsonl`, `.md` or `.html`/`.pdf`-less formats; returns how many.

        Markdown and HTML go through `kpdd.sheets` (a solution sheet of the chosen entries).
        """
        path = Path(path)
        entries = self.search(limit=1_000_000) if ids is None else [e for i in ids if (e := self.get(i))]
        suffix = path.suffix.lower()
        if suffix == ".jsonl":
            text = "".join(json.dumps(e.to_dict(), ensure_ascii=False) + "\n" for e in entries)
        elif suffix in (".md", ".html", ".htm"):
            from kpdd import sheets

            items = [sheets.SheetItem.from_result(e.result) for e in entries]
            options = sheets.SheetOptions(title="KPDD Tutor history")
            text = (sheets.render_markdown if suffix == ".md" else sheets.render_html)(items, options)
        else:
            text = json.dumps([e.to_dict() for e in entries], ensure_ascii=False, indent=2)
        paths.atomic_write_text(path, text)
        return len(entries)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _transaction(self) -> _Transaction:
        return _Transaction(self.conn)


class _Transaction:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.conn.execute("ROLLBACK" if exc_type is not None else "COMMIT")


def _entry(row: sqlite3.Row) -> HistoryEntry:
    try:
        result = json.loads(row["result_json"])
    except ValueError:
        result = {}
    agree = row["agree"]
    return HistoryEntry(
        id=int(row["id"]),
        created_at=float(row["created_at"]),
        problem=row["problem"],
        mode=row["mode"],
        model=row["model"],
        core_question=row["core_question"],
        key_information=json.loads(row["key_information"] or "[]"),
        answer=row["answer"],
        confidence=float(row["confidence"]),
        agree=None if agree is None else bool(agree),
        cancelled=bool(row["cancelled"]),
        seconds=float(row["seconds"]),
        result=result,
    )

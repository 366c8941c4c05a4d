"""History store: save, search, reopen, delete, export, and survival of a SIGKILLed writer."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kpdd.format import Mode
from kpdd.history import HistoryStore, history_path
from kpdd.result import Solution, SolveResult
from kpdd.sandbox import ProgramResult

REPO = Path(__file__).resolve().parents[1]


def make_result(problem: str, answer: float | None = 64.0) -> SolveResult:
    execution = ProgramResult(ok=True, answer=answer, stdout="", error="", error_kind=None, duration_s=0.01)
    return SolveResult(
        problem=problem,
        mode=Mode.POT,
        model="scripted",
        core_question="How many are left?",
        key_information=["6 baskets of 14", "20 given away"],
        solutions=[Solution(Mode.POT, "answer = 6 * 14 - 20", answer, execution)],
        answer=answer,
        confidence=1.0,
    )


def test_store_lives_in_home_and_uses_wal(kpdd_home):
    with HistoryStore() as store:
        assert store.path == history_path() == kpdd_home / "history.sqlite3"
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_add_search_get_delete_roundtrip(kpdd_home):
    with HistoryStore() as store:
        first = store.add(make_result("Apples: 6 baskets of 14, 20 given away."))
        store.add(make_result("A 100% discount on 5_000 pens?", answer=0.0))
        assert store.count() == 2
        assert [e.id for e in store.search("apples")] == [first]
        assert len(store.search("100%")) == 1  # LIKE wildcards in the query are taken literally
        assert len(store.search("5_0")) == 1
        assert len(store.search("scripted")) == 2  # model name
        entry = store.get(first)
        assert entry.answer == 64 and entry.key_information == ["6 baskets of 14", "20 given away"]
        result = SolveResult.from_dict(entry.result)
        assert result.program == "answer = 6 * 14 - 20"
        assert result.execution.ok and result.execution.answer == 64
        assert result.answer == 64 and result.mode == Mode.POT
        assert store.delete(first) and not store.delete(first)
        assert store.count() == 1


def test_export_formats(kpdd_home, tmp_path):
    with HistoryStore() as store:
        store.add(make_result("Apples problem"))
        assert store.export(tmp_path / "h.json") == 1
        assert json.loads((tmp_path / "h.json").read_text())[0]["answer"] == 64
        store.export(tmp_path / "h.jsonl")
        assert json.loads((tmp_path / "h.jsonl").read_text().splitlines()[0])["problem"] == "Apples problem"
        store.export(tmp_path / "h.md")
        assert (
            "Apples problem" in (tmp_path / "h.md").read_text()
            and "**Answer: 64**" in (tmp_path / "h.md").read_text()
        )


WRITER = r"""
import sys, time
from kpdd.history import HistoryStore
store = HistoryStore(sys.argv[1])
big = "x" * 200_000  # a large row makes a kill land inside a write now and then
i = 0
while True:
    i += 1
    entry_id = store.add({"problem": f"problem {i} " + (big if i % 3 == 0 else ""), "mode": "pot",
                          "answer": i, "solutions": [], "key_information": ["a", "b"]})
    print(entry_id, flush=True)
"""


@pytest.mark.parametrize("kill_after", [5, 40])
def test_sigkilled_writer_loses_nothing_saved(kpdd_home, tmp_path, kill_after):
    db = kpdd_home / "history.sqlite3"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(db)], stdout=subprocess.PIPE, text=True,
                            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})  # fmt: skip
    acknowledged = []
    try:
        while len(acknowledged) < kill_after:
            line = proc.stdout.readline()
            assert line, "the writer died on its own"
            acknowledged.append(int(line))
        time.sleep(0.01)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    # A fresh connection (as the next app start) sees every acknowledged row, intact.
    with HistoryStore(db) as store:
        assert store.integrity_check() == "ok"
        ids = {e.id for e in store.search(limit=10_000)}
        assert set(acknowledged) <= ids
        for entry_id in acknowledged:
            entry = store.get(entry_id)
            assert entry.problem.startswith(f"problem {entry.answer:.0f}")
        store.add(make_result("after the crash"))  # still writable
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_replace_saves_a_later_state_in_place_and_keeps_when_it_was_made(tmp_path):
    """A second model's check updates the entry the student already has, not a second one."""
    with HistoryStore(tmp_path / "h.sqlite") as store:
        entry_id = store.add(
            {"problem": "p", "mode": "pot", "answer": 64.0, "second_opinion": ""}, created_at=5.0
        )
        assert store.replace(
            entry_id, {"problem": "p", "mode": "pot", "answer": 54.0, "second_opinion": "teacher"}
        )
        (entry,) = store.search()
        assert (entry.id, entry.created_at, entry.answer) == (entry_id, 5.0, 54.0)
        assert entry.result["second_opinion"] == "teacher"
        store.delete(entry_id)
        assert not store.replace(entry_id, {"problem": "p"}) and store.count() == 0

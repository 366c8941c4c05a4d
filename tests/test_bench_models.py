"""bench/bench_models.py's figures as `kpdd models` and the model manager show them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

import bench_models  # noqa: E402

from kpdd import models  # noqa: E402


def _report(folder: Path, name: str, data: str, right: list[bool], seconds: float, second: str = "") -> None:
    records = [{"id": f"{data}-{i}", "question": "q", "gold": 1.0, "correct": ok, "seconds": seconds,
                "completion_tokens": 100, "prediction": 1.0 if ok else 2.0, "second_opinion": second,
                "solutions": [{"answer": 2.0, "kind": "pot", "text": "answer = 2"}]}
               for i, ok in enumerate(right)]  # fmt: skip
    summary = {"n": len(right), "accuracy": sum(right) / len(right)}
    path = folder / name / f"{data}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"config": {"mode": "pot", "samples": 1}, "summary": summary, "records": records})
    )


def test_the_second_opinion_is_written_beside_the_students_own_figures(tmp_path, monkeypatch):
    monkeypatch.setattr(models, "resources_dir", lambda: tmp_path / "resources")
    (tmp_path / "resources" / "models").mkdir(parents=True)
    out, latency = tmp_path / "runs", tmp_path / "runs" / "latency"
    table = {
        "student05-pot": {"model": "Student", "mode": "pot"},
        "cascade05-15": {"model": "Student", "mode": "pot", "second_opinion": "Big"},
    }
    for data in bench_models.SETS:
        _report(out, "student05-pot", data, [True, False], 3.0)
        _report(out, "cascade05-15", data, [True, True], 9.0, second="Big")
        _report(latency, "student05-pot", data, [True], 3.0)
        _report(latency, "cascade05-15", data, [True], 4.0, second="Big")
    path = bench_models.write_measured(out, latency, table, ["student05-pot", "cascade05-15"], 2)
    written = json.loads(path.read_text())["models"]["Student"]
    assert written["accuracy"] == 0.5 and written["median_s"] == 3.0 and written["mode"] == "pot"
    assert written["second_opinion"] == {**written["second_opinion"], "model": "Big", "accuracy": 1.0,
                                         "median_s": 4.0, "mode": "cascade"}  # fmt: skip
    assert models.measured_text(written).endswith("; with Big's second opinion 100.0%, 4.0 s")
    # Timed again without an accuracy run: the accuracy stays, the median is the new one.
    for data in bench_models.SETS:
        (out / "student05-pot" / f"{data}.json").unlink()
        _report(latency, "student05-pot", data, [True], 2.5)
    written = json.loads(bench_models.write_measured(out, latency, table, ["student05-pot"], 2).read_text())
    assert written["models"]["Student"]["accuracy"] == 0.5 and written["models"]["Student"]["median_s"] == 2.5
    assert written["models"]["Student"]["second_opinion"]["accuracy"] == 1.0

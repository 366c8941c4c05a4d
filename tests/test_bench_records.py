"""bench/records.py: an evaluation's finished problems survive a fresh machine, without the data sets' text."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kpdd.datasets import load_dataset
from kpdd.evaluate import EvalConfig, load_partial, partial_path
from kpdd.format import Mode

REPO = Path(__file__).resolve().parents[1]


def records_command(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "records.py"), *args, "--data-dir", str(data_dir)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done


def write_partial(report: Path, config: EvalConfig, problems: list) -> None:
    """A partial file as `kpdd eval` writes it: the config header, then one record per problem."""
    lines = [{"config": config.key()}]
    for p in problems:
        lines.append({"id": p.id, "question": p.question, "gold": p.answer, "prediction": p.answer,
                      "correct": True, "solutions": [], "seconds": 1.5, "completion_tokens": 40})  # fmt: skip
    partial = partial_path(report)
    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")


def test_pack_drops_the_problem_text_and_unpack_restores_a_resumable_run(tmp_path, data_dir):
    problems = load_dataset("svamp", data_dir, limit=3, shuffle_seed=0).problems
    config = EvalConfig(
        data="svamp", mode=Mode.POT, samples=1, model="SmolLM2-135M-Instruct", backend="llama"
    )
    write_partial(tmp_path / "runs" / "stock-pot" / "svamp.json", config, problems)

    packed_dir = tmp_path / "records"
    records_command("pack", str(tmp_path / "runs"), "--configs", "stock-pot", "--records", str(packed_dir),
                    data_dir=data_dir)  # fmt: skip
    packed = gzip.decompress((packed_dir / "stock-pot" / "svamp.jsonl.gz").read_bytes()).decode()
    assert all(p.question not in packed and p.id in packed for p in problems)

    fresh = tmp_path / "fresh-machine"
    records_command("unpack", str(fresh), "--configs", "stock-pot", "--records", str(packed_dir),
                    data_dir=data_dir)  # fmt: skip
    done = load_partial(fresh / "stock-pot" / "svamp.json", config)
    assert [done[p.id]["question"] for p in problems] == [p.question for p in problems]
    assert all(done[p.id]["correct"] and done[p.id]["gold"] == p.answer for p in problems)


def test_neither_direction_overwrites_more_finished_work(tmp_path, data_dir):
    problems = load_dataset("multiarith", data_dir, limit=4, shuffle_seed=0).problems
    config = EvalConfig(data="multiarith", mode=Mode.POT, samples=1, model="m", backend="llama")
    runs, packed_dir = tmp_path / "runs", tmp_path / "records"
    write_partial(runs / "stock-pot" / "multiarith.json", config, problems)
    records_command(
        "pack", str(runs), "--configs", "stock-pot", "--records", str(packed_dir), data_dir=data_dir
    )

    # The run on this machine lost problems (a shorter partial file): pack keeps the fuller pack...
    write_partial(runs / "stock-pot" / "multiarith.json", config, problems[:2])
    said = records_command("pack", str(runs), "--configs", "stock-pot", "--records", str(packed_dir),
                           data_dir=data_dir).stdout  # fmt: skip
    assert "kept" in said
    packed = gzip.decompress((packed_dir / "stock-pot" / "multiarith.jsonl.gz").read_bytes()).decode()
    assert len(packed.splitlines()) == 1 + 4
    # ...and unpack brings the four back over the two.
    records_command(
        "unpack", str(runs), "--configs", "stock-pot", "--records", str(packed_dir), data_dir=data_dir
    )
    assert len(load_partial(runs / "stock-pot" / "multiarith.json", config)) == 4

    # A machine that has gone further than the pack keeps its own file.
    write_partial(
        runs / "stock-pot" / "multiarith.json", config, load_dataset("multiarith", data_dir).problems[:6]
    )
    said = records_command("unpack", str(runs), "--configs", "stock-pot", "--records", str(packed_dir),
                           data_dir=data_dir).stdout  # fmt: skip
    assert "kept" in said
    assert len(load_partial(runs / "stock-pot" / "multiarith.json", config)) == 6


@pytest.mark.slow
def test_a_real_eval_resumes_from_unpacked_records(tmp_path, data_dir, smollm2_gguf):
    """The use it exists for: records of a real `kpdd eval`, packed, the runs folder lost, unpacked on
    a fresh one: the same eval resumes every problem and solves none again."""
    runs = tmp_path / "runs"
    report = runs / "stock-pot" / "multiarith.json"
    eval_args = [sys.executable, "-m", "kpdd.cli", "eval", "--data", "multiarith", "--data-dir", str(data_dir),
                 "--limit", "2", "--shuffle", "0", "--mode", "pot", "--model", str(smollm2_gguf),
                 "--threads", "2", "--out", str(report)]  # fmt: skip
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    first = subprocess.run(eval_args, capture_output=True, text=True, env=env, timeout=600)
    assert first.returncode == 0, first.stderr
    before = json.loads(report.read_text())

    packed_dir = tmp_path / "records"
    records_command(
        "pack", str(runs), "--configs", "stock-pot", "--records", str(packed_dir), data_dir=data_dir
    )
    fresh = tmp_path / "fresh-runs"
    records_command(
        "unpack", str(fresh), "--configs", "stock-pot", "--records", str(packed_dir), data_dir=data_dir
    )

    again = subprocess.run([*eval_args[:-1], str(fresh / "stock-pot" / "multiarith.json")],
                           capture_output=True, text=True, env=env, timeout=600)  # fmt: skip
    assert again.returncode == 0, again.stderr
    after = json.loads((fresh / "stock-pot" / "multiarith.json").read_text())
    assert after["summary"]["resumed"] == 2
    assert after["records"] == before["records"]
    assert again.stdout.strip().splitlines()[-1] == first.stdout.strip().splitlines()[-1]

"""The `kpdd` command as a user runs it: a real process, the real default model, no network."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

NATALIA = (
    "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. "
    "How many clips did Natalia sell altogether in April and May?"
)


def kpdd(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    # Proxies pointing nowhere: any network use would fail loudly.
    full_env.update({"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
                     "HF_HUB_OFFLINE": "1"})  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "kpdd.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
    )


@pytest.mark.slow
def test_solve_prints_every_stage_and_an_answer_line():
    done = kpdd("solve", "--threads", "2", NATALIA)
    out = done.stdout
    for heading in ("== Core question ==", "== Key information ==", "== Program ==", "== Answer =="):
        assert heading in out, out
    assert out.index("== Core question ==") < out.index("== Key information ==") < out.index("== Program ==")
    # The default student solves GSM8K's first training problem (greedy, so every run the same).
    assert "-- Sandbox: answer = 72" in out, out
    assert out.split("== Answer ==", 1)[1].split()[0] == "72"
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
def test_solve_json_and_edited_stages():
    done = kpdd("solve", "--json", "--mode", "cot", "--core-question", "How many clips in total?",
                "--key-information", "- 48 in April\n- half as many in May", NATALIA)  # fmt: skip
    result = json.loads(done.stdout)
    assert result["core_question"] == "How many clips in total?"
    assert result["key_information"] == ["48 in April", "half as many in May"]
    assert result["mode"] == "cot"
    assert result["stages"][0]["finish_reason"] == "given"
    assert result["solutions"][0]["kind"] == "cot"


def test_samples_must_be_a_count_or_auto():
    done = kpdd("solve", "--samples", "0", "What is 2 + 2?")
    assert done.returncode == 2
    assert "1 or more) or 'auto'" in done.stderr and "Traceback" not in done.stderr


def test_empty_problem_is_refused_with_a_message():
    done = kpdd("solve", "   ")
    assert done.returncode == 2
    assert "empty" in done.stderr


def test_a_problem_file_that_is_empty_or_not_text_is_named(tmp_path, capsys):
    from kpdd import cli

    empty, binary = tmp_path / "empty.txt", tmp_path / "photo.bin"
    empty.write_text("")
    binary.write_bytes(bytes(range(256)) * 4)
    assert cli.main(["solve", "-f", str(empty)]) == 2
    assert (
        capsys.readouterr().err
        == f"error: the problem is empty: {empty} is empty: write the problem in it.\n"
    )
    assert cli.main(["solve", "-f", str(binary)]) == 2
    assert (
        capsys.readouterr().err == f"error: {binary} is not a text file (UTF-8): give the problem as text.\n"
    )
    assert cli.main(["solve", "-f", str(tmp_path / "absent.txt")]) == 2
    assert "error: cannot read" in capsys.readouterr().err


def test_no_model_says_which_command_fetches_it(tmp_path):
    env = {"KPDD_HOME": str(tmp_path)}
    done = kpdd("solve", "What is 2 + 2?", env=env)
    assert done.returncode == 2
    assert "kpdd setup" in done.stderr
    listed = kpdd("models", env=env)
    assert "kpdd setup" in listed.stdout


def test_models_lists_the_default(qwen05_gguf):
    """After `kpdd setup` the default is the student merged into its base in Q8_0 (one file, about
    0.81 times the adapter-over-base's time: kpdd/models/merged.py), listed once."""
    done = kpdd("models", "--json")
    entries = json.loads(done.stdout)
    default = [e for e in entries if e["is_default"]]
    assert len(default) == 1
    assert default[0]["name"] == "KPDD Qwen2.5-Coder-0.5B" and default[0]["kind"] == "bundled"
    assert Path(default[0]["path"]).name == "kpdd-qwen05b.q8_0-merged.gguf", (
        "run `kpdd setup`: it merges the student"
    )
    assert (default[0]["architecture"], default[0]["quantization"]) == ("qwen2", "Q4_K_M + Q8_0")
    assert default[0]["lora_path"] is None and default[0]["merged_type"] == "Q8_0"
    assert [e["name"] for e in entries].count("KPDD Qwen2.5-Coder-0.5B") == 1


def test_models_add_and_use(tmp_path, smollm2_gguf):
    env = {"KPDD_HOME": str(tmp_path / "home")}
    link = tmp_path / "mine.gguf"
    link.symlink_to(smollm2_gguf)
    assert kpdd("models", "add", str(link), env=env).returncode == 0
    assert kpdd("models", "use", "mine", env=env).returncode == 0
    entries = json.loads(kpdd("models", "--json", env=env).stdout)
    assert [e["name"] for e in entries if e["kind"] != "bundled"] == ["mine"]
    mine = next(e for e in entries if e["name"] == "mine")
    assert mine["is_default"]  # with no base model installed, an added file is the default
    # the shipped KPDD student is listed, unusable until setup installs its base model
    assert all(not e["available"] and "kpdd setup" in e["problem"] for e in entries if e["kind"] == "bundled")
    bad = tmp_path / "bad.gguf"
    bad.write_text("not a model")
    done = kpdd("models", "add", str(bad), env=env)
    assert done.returncode == 2 and "not a GGUF" in done.stderr


def test_corrupt_model_is_a_clear_error(tmp_path):
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\xff" * 64)
    done = kpdd("solve", "--model", str(bad), "What is 2 + 2?")
    assert done.returncode == 2
    assert "error:" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow
def test_eval_reports_accuracy_and_resumes(tmp_path, data_dir):
    report = tmp_path / "report.json"
    first = kpdd("eval", "--data", "gsm8k", "--data-dir", str(data_dir), "--limit", "2", "--out", str(report),
                 "--threads", "2")  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().splitlines()[-1].startswith("accuracy: ")
    data = json.loads(report.read_text())
    assert [r["id"] for r in data["records"]] == ["gsm8k-test-0", "gsm8k-test-1"]
    for record in data["records"]:
        assert {
            "prediction",
            "gold",
            "correct",
            "error_kind",
            "completion_tokens",
            "seconds",
        } <= record.keys()
    # A longer run with the same report resumes: the two finished problems are not solved again.
    second = kpdd("eval", "--data", "gsm8k", "--data-dir", str(data_dir), "--limit", "3", "--out", str(report),
                  "--threads", "2")  # fmt: skip
    data = json.loads(report.read_text())
    assert data["summary"]["resumed"] == 2 and data["summary"]["n"] == 3
    line = second.stdout.strip().splitlines()[-1]
    correct = sum(r["correct"] for r in data["records"])
    assert line == f"accuracy: {100 * correct / 3:.2f}%"
    # Another configuration on the same report never truncates the finished work: it is set aside.
    partial = report.with_name(report.name + ".partial.jsonl")
    before = partial.read_text()
    other = kpdd("eval", "--data", "gsm8k", "--data-dir", str(data_dir), "--limit", "1", "--out", str(report),
                 "--threads", "2", "--mode", "cot")  # fmt: skip
    assert other.returncode == 0, other.stderr
    kept = report.with_name(partial.name + ".set-aside-1")
    assert kept.read_text() == before and "kept as " + kept.name in other.stderr
    assert json.loads(report.read_text())["summary"]["resumed"] == 0
    # A partial file holding only its header has nothing to keep: it is simply started again.
    partial.write_text(partial.read_text().splitlines()[0] + "\n")
    again = kpdd("eval", "--data", "gsm8k", "--data-dir", str(data_dir), "--limit", "1", "--out", str(report),
                 "--threads", "2")  # fmt: skip
    assert again.returncode == 0 and "kept as" not in again.stderr
    assert not report.with_name(partial.name + ".set-aside-2").exists()
    # --shuffle: a seeded random sample, solved into the same resumable records.
    from kpdd.datasets import load_dataset

    sampled = kpdd("eval", "--data", "gsm8k", "--data-dir", str(data_dir), "--limit", "2", "--shuffle", "7",
                   "--out", str(report), "--threads", "2")  # fmt: skip
    assert sampled.returncode == 0, sampled.stderr
    data = json.loads(report.read_text())
    expected = [p.id for p in load_dataset("gsm8k", data_dir, limit=2, shuffle_seed=7).problems]
    assert [r["id"] for r in data["records"]] == expected and data["config"]["shuffle"] == 7


def test_eval_on_a_jsonl_file_without_a_data_dir(tmp_path, qwen05_gguf):
    """A teacher's own problems: scored against the file's answers (the second one is given wrong)."""
    problems = tmp_path / "mine.jsonl"
    rows = [{"question": "What is 2 + 3?", "answer": 5}, {"question": "What is 10 - 4?", "answer": 7}]
    problems.write_text("".join(json.dumps(row) + "\n" for row in rows))
    out = tmp_path / "report.json"
    done = kpdd("eval", "--data", str(problems), "--threads", "2", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "accuracy: 50.00%"
    records = json.loads(out.read_text())["records"]
    assert [(r["prediction"], r["correct"]) for r in records] == [(5.0, True), (6.0, False)]


def test_eval_without_data_dir_explains_how_to_set_it(tmp_path):
    done = kpdd("eval", "--data", "gsm8k", env={"KPDD_HOME": str(tmp_path), "KPDD_DATA_DIR": ""})
    assert done.returncode == 2
    assert "--data-dir" in done.stderr and "Traceback" not in done.stderr


def test_config_stores_data_dir_absolute(tmp_path):
    env = {"KPDD_HOME": str(tmp_path)}
    subprocess.run([sys.executable, "-m", "kpdd.cli", "config", "data_dir", "rel/data"], cwd=tmp_path,
                   env={**os.environ, **env}, check=True)  # fmt: skip
    stored = json.loads((tmp_path / "config.json").read_text())["data_dir"]
    assert Path(stored) == tmp_path / "rel" / "data"


def test_eval_progress_counts_only_the_problems_solved_now():
    """90 problems came from the partial file in no time: the bar (and its estimate of the time left)
    counts the 10 solved in this run; the accuracy counts every finished problem."""
    import io

    from kpdd.evaluate import EvalProgress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Terminal()
    progress = EvalProgress(out)
    for done in range(1, 101):
        solved_now = max(0, done - 90)
        progress(done, 100, {"correct": done % 2 == 0}, solved_now, 90)
    assert progress.bar.total == 10 and progress.bar.n == 10
    last = out.getvalue().split("\r")[-1]
    assert "solving (90 resumed)" in last and "10/10" in last and "accuracy so far 50.0%" in last


def test_commands_and_backends_of_the_other_packages_come_from_their_entry_points():
    from kpdd.cli_options import COMMANDS_GROUP, EVAL_BACKENDS_GROUP, extension_points

    commands = {name: point.value for name, point in extension_points(COMMANDS_GROUP).items()}
    assert commands == {
        "teach": "distill.cli:register", "filter": "distill.cli:register", "train": "distill.cli:register",
        "analyze": "distill.cli:register", "translate": "distill.cli:register", "export": "export.cli:register",
        "sheet": "desktop.sheet_cli:register",
    }  # fmt: skip
    assert sorted(extension_points(EVAL_BACKENDS_GROUP)) == ["hf", "onnx"]
    done = kpdd("--help")
    assert "teach,filter,train,analyze,translate,export,sheet" in done.stdout


def test_a_command_whose_package_is_missing_says_so(monkeypatch, capsys):
    """An installer build leaves distill/ out: its commands are not in --help, and typed, they explain
    what to install."""
    from importlib.metadata import EntryPoint, EntryPoints

    from kpdd import cli, cli_options

    class GhostDistribution:
        entry_points = EntryPoints(
            [EntryPoint(name="ghost", value="no_such_package.cli:register", group=cli_options.COMMANDS_GROUP)]
        )

    monkeypatch.setattr(cli_options, "distributions", lambda: [GhostDistribution()])
    assert cli.main(["ghost"]) == 2
    message = capsys.readouterr().err
    assert "`kpdd ghost` is not part of this installation" in message and "no_such_package" in message
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    help_text = capsys.readouterr().out
    assert "solve" in help_text and "ghost" not in help_text

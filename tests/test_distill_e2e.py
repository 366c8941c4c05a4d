"""End to end on CPU with a real llama.cpp server (`python -m llama_cpp.server` on the SmolLM2 GGUF)
as the OpenAI-compatible teacher: teach (gold + server), filter, train a tiny model, evaluate with
`--backend hf`, analyze. Plus interruptions: the teach process killed, then the server killed, in the
middle of `kpdd teach`; the reruns finish with nothing lost or doubled."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LlamaServer:
    """A real llama-cpp-python OpenAI-compatible server on 127.0.0.1, restartable on the same port."""

    def __init__(self, model: Path, port: int) -> None:
        self.model, self.port = model, port
        self.process: subprocess.Popen | None = None
        self.url = f"http://127.0.0.1:{port}/v1"

    def start(self, timeout_s: float = 120.0) -> None:
        command = [sys.executable, "-m", "llama_cpp.server", "--model", str(self.model), "--host", "127.0.0.1",
                   "--port", str(self.port), "--n_threads", "1", "--n_ctx", "2048"]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(self.url + "/models", timeout=2):
                    return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError("llama_cpp.server did not start in time")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def llama_server(smollm2_gguf: Path):
    server = LlamaServer(smollm2_gguf, free_port())
    server.start()
    yield server
    server.kill()


def kpdd(*args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-m", "kpdd.cli", *args], capture_output=True, text=True, env=env,
                            timeout=timeout, cwd=REPO)  # fmt: skip
    if check and result.returncode != 0:
        raise AssertionError(
            f"kpdd {' '.join(args)} -> {result.returncode}\n{result.stdout}\n{result.stderr}"
        )
    return result


def server_teach_args(server: LlamaServer, out: Path, limit: int) -> list[str]:
    return ["teach", "--teacher", "openai", "--base-url", server.url, "--teacher-model", "smollm2",
            "--data", "gsm8k-train", "--limit", str(limit), "--mode", "pot", "--demos", "0", "--max-tokens", "8",
            "--concurrency", "1", "--timeout", "60", "--retries", "1", "--backoff", "0.05",
            "--max-consecutive-failures", "1", "--out", str(out)]  # fmt: skip


def lines_of(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n") or not text, "a partial line was left in the file"
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def wait_for_records(path: Path, count: int, process: subprocess.Popen, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists() and path.read_text(encoding="utf-8").count("\n") >= count:
            return
        if process.poll() is not None:
            raise AssertionError(f"teach ended early: {process.returncode}")
        time.sleep(0.1)
    raise AssertionError("no record appeared in time")


def test_end_to_end_teach_filter_train_eval_analyze(tmp_path, llama_server, smollm2_gguf, data_dir) -> None:
    os.environ["KPDD_DATA_DIR"] = str(data_dir)
    started = time.monotonic()
    gold, llm, train = tmp_path / "gold.jsonl", tmp_path / "llm.jsonl", tmp_path / "train.jsonl"
    kpdd("teach", "--teacher", "gold", "--data", "gsm8k-train", "--limit", "40", "--out", str(gold))
    result = kpdd(*server_teach_args(llama_server, llm, 1))
    assert '"written": 1' in result.stdout and '"requests": 3' in result.stdout  # three stages, token tally
    record = lines_of(llm)[0]
    assert record["provenance"]["teacher_kind"] == "openai" and record["usage"]["completion_tokens"] > 0
    result = kpdd("filter", str(gold), str(llm), "--out", str(train))
    stats = json.loads((tmp_path / "train.jsonl.stats.json").read_text())
    assert stats["records"] == 41 and stats["kept"] >= 38  # the 135M teacher with 8 tokens rarely passes

    from distill.tiny import make_tiny_model

    tiny = make_tiny_model(tmp_path / "tiny", smollm2_gguf, hidden=64, layers=2)
    run = tmp_path / "run"
    kpdd("train", "--data", str(train), "--base-model", str(tiny), "--out", str(run), "--full", "--max-steps",
         "8", "--seq-len", "384", "--batch-size", "4", "--learning-rate", "0.003", "--set", "eval_every=4",
         "--set", "log_every=1", "--set", "eval_fraction=0.1", "--set", "threads=1")  # fmt: skip
    info = json.loads((run / "kpdd_run.json").read_text())
    assert {"format_version", "modes", "base_model", "base_model_path", "adapter", "provenance"} <= set(info)
    assert info["adapter"] is False and info["modes"] == ["pot", "cot"]
    assert info["provenance"]["teachers"]["gold"] >= 38
    losses = [
        float(row.split(",")[2])
        for row in (run / "loss.csv").read_text().splitlines()[1:]
        if row.split(",")[2]
    ]
    assert len(losses) == 8 and losses[-1] < losses[0]

    report = tmp_path / "report.json"
    result = kpdd("eval", "--backend", "hf", "--model", str(run), "--data", "gsm8k", "--limit", "2", "--out",
                  str(report), "--threads", "1")  # fmt: skip
    assert result.stdout.strip().splitlines()[-1].startswith("accuracy: ")
    reference = tmp_path / "reference.jsonl"
    kpdd("teach", "--data", "gsm8k", "--limit", "2", "--reference-only", "--out", str(reference))
    result = kpdd("analyze", str(report), "--reference", str(reference), "--out", str(tmp_path / "a.json"))
    assert "(2 with reference key points)" in result.stdout
    assert time.monotonic() - started < 300


def test_teach_survives_kills_of_itself_and_of_the_server(tmp_path, llama_server, data_dir) -> None:
    os.environ["KPDD_DATA_DIR"] = str(data_dir)
    out = tmp_path / "teach.jsonl"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "kpdd.cli", *server_teach_args(llama_server, out, 4)]

    # 1. SIGKILL the teach process after its first record.
    process = subprocess.Popen(
        command, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_for_records(out, 1, process)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    after_first = len(lines_of(out))
    assert 1 <= after_first < 4

    # 2. Resume; kill the server after one more record: teach fails fast, keeps what it has.
    process = subprocess.Popen(
        command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    wait_for_records(out, after_first + 1, process)
    llama_server.kill()
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 1, stderr
    assert "run the same command again to resume" in stderr
    stats = json.loads(stdout[stdout.index("{") : stdout.rindex("}") + 1])
    assert stats["failed"] >= 1 and set(stats["failed_by_kind"]) <= {"connection", "timeout", "bad_reply"}

    # 3. Server back, rerun: everything done, each problem exactly once.
    llama_server.start()
    kpdd(*server_teach_args(llama_server, out, 4))
    records = lines_of(out)
    assert sorted(r["problem_id"] for r in records) == [f"gsm8k-train-{i}" for i in range(4)]

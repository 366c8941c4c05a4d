"""The teacher's three passes over GSM8K train: greedy, samples until one verifies, and
rationalization (the gold answer shown, a program that writes it refused). Each record says how it
was obtained, and every pass resumes after a kill without doubling a record."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from distill.cli import teach_unsolved
from distill.coverage import coverage
from distill.gguf_teacher import transcript_messages
from distill.store import read_jsonl
from distill.teach import filter_records, gold_leak, run_teach
from distill.teachers import Sampling, teaching_pass
from kpdd.datasets import Problem
from kpdd.format import Mode

FARMER = (
    "A farmer has 17 sheep and 3 times as many goats. He sells 12 goats. How many animals does he have now?"
)


def record(
    program: str, key_information: list[str], pass_name: str, gold: float = 56.0, question: str = FARMER
):
    return {"problem_id": "gsm8k-train-1", "question": question, "gold": gold, "mode": "pot",
            "core_question": "How many animals?", "key_information": key_information, "program": program,
            "steps": None, "provenance": {"pass": pass_name, "teacher": "t"}}  # fmt: skip


def test_a_rationalized_record_that_writes_the_answer_is_refused() -> None:
    honest = record(
        "sheep = 17\ngoats = 3 * sheep\nanswer = sheep + goats - 12", ["17 sheep"], "rationalized"
    )
    copied = record("sheep = 17\nanswer = 56", ["17 sheep"], "rationalized")
    told = record(
        "sheep = 17\ngoats = 3 * sheep\nanswer = sheep + goats - 12", ["He has 56 animals"], "rationalized"
    )
    kept, stats = filter_records([honest, copied, told])
    assert [r["program"] for r in kept] == [honest["program"]]
    assert stats["failures"] == {"program:gold_literal": 1, "key_information:gold_answer": 1}
    # Greedy records were never told the answer: the same program is no leak there.
    assert gold_leak(record("answer = 56", [], "greedy"), 56.0) is None
    # An answer that is one of the problem's own numbers may be written.
    same = record("answer = 17", [], "rationalized", gold=17.0)
    assert gold_leak(same, 17.0) is None


def test_the_answer_hint_keeps_the_shared_prefix_and_is_labelled() -> None:
    plain = transcript_messages(FARMER, Mode.POT)
    hinted = transcript_messages(FARMER, Mode.POT, answer=56.0)
    assert hinted[:-1] == plain[:-1]  # the batched teacher reads the demonstrations once for both
    assert hinted[-1]["content"].startswith(plain[-1]["content"])
    assert (
        "The correct final answer is 56." in hinted[-1]["content"]
        and "Never write 56 itself" in hinted[-1]["content"]
    )

    class Hinted:
        answer_hint = True

    assert teaching_pass(Hinted(), Sampling(0.0)) == "rationalized"
    assert (
        teaching_pass(object(), Sampling(0.7)) == "sampled"
        and teaching_pass(object(), Sampling(0.0)) == "greedy"
    )


class RightOnSample:
    """A teacher (the LLM edge) that gets problem i right from sample `right_from[i]` on."""

    name, kind, prompt_version = "scripted", "scripted", "test"

    def __init__(self, right_from: dict[str, int]) -> None:
        self.right_from = right_from
        self.asked: list[tuple[str, int]] = []

    def teach(self, problem: Problem, mode: Mode, sample: int) -> dict:
        self.asked.append((problem.id, sample))
        value = problem.answer if sample >= self.right_from[problem.id] else problem.answer + 1
        return {"core_question": "How many?", "key_information": ["a fact"], "program": f"answer = {value:g}",
                "steps": None, "failure": None}  # fmt: skip


def test_samples_until_one_verifies_ask_only_what_is_still_unsolved(tmp_path: Path) -> None:
    problems = [
        Problem(f"gsm8k-train-{i}", f"Problem {i} has {i} apples.", float(10 + i), "gsm8k-train")
        for i in range(4)
    ]
    teacher = RightOnSample({"gsm8k-train-0": 0, "gsm8k-train-1": 1, "gsm8k-train-2": 3, "gsm8k-train-3": 9})
    greedy = tmp_path / "greedy.jsonl"
    run_teach(teacher, problems, greedy, sampling=Sampling(0.0), data_name="gsm8k-train")
    sampled = tmp_path / "sampled.jsonl"

    def teach(chosen, count, first):
        return run_teach(teacher, chosen, sampled, samples=count, first_sample=first, sampling=Sampling(0.7),
                         data_name="gsm8k-train")  # fmt: skip

    args = argparse.Namespace(
        unsolved_in=[str(greedy)], until_verified=True, first_sample=1, out=str(sampled)
    )
    teacher.asked.clear()
    teach_unsolved(args, problems, 4, teach)
    # Round 1: the three greedy got wrong; round 2: the two still wrong; rounds 3, 4: only problem 3.
    by_round = sorted(teacher.asked, key=lambda asked: (asked[1], asked[0]))  # a round's jobs run in parallel
    assert by_round == [("gsm8k-train-1", 1), ("gsm8k-train-2", 1), ("gsm8k-train-3", 1),
                        ("gsm8k-train-2", 2), ("gsm8k-train-3", 2), ("gsm8k-train-2", 3), ("gsm8k-train-3", 3),
                        ("gsm8k-train-3", 4)]  # fmt: skip
    rounds = [sample for _, sample in teacher.asked]
    assert rounds == sorted(rounds)  # every round waits for the one before
    passes = {r["problem_id"]: r["provenance"]["pass"] for r in read_jsonl(sampled)}
    assert set(passes.values()) == {"sampled"}
    report = coverage([greedy, sampled], total=4)
    assert report["passes"]["greedy"]["problems_verified"] == 1
    assert report["passes"]["sampled"]["newly_covered"] == 2 and report["covered"] == 3


@pytest.mark.slow
@pytest.mark.parametrize("which", ["greedy", "sampled", "rationalized"])
def test_every_pass_resumes_after_a_kill(
    which: str, tmp_path: Path, smollm2_gguf: Path, data_dir: Path
) -> None:
    """A real `kpdd teach` (SmolLM2 as a weak GGUF teacher) killed once its first record is written,
    then run again: every job done, none twice."""
    base = [sys.executable, "-m", "kpdd.cli", "teach", "--teacher", "gguf", "--gguf", str(smollm2_gguf),
            "--data", "gsm8k-train", "--data-dir", str(data_dir), "--limit", "6", "--mode", "pot",
            "--parallel", "2", "--threads", "2", "--max-tokens", "60", "--demos", "1"]  # fmt: skip
    out = tmp_path / f"{which}.jsonl"
    extra = {
        "greedy": ["--temperature", "0"],
        "sampled": ["--temperature", "0.7", "--samples", "2", "--first-sample", "1", "--until-verified",
                    "--unsolved-in", str(tmp_path / "none.jsonl")],
        "rationalized": ["--temperature", "0", "--answer-hint", "--unsolved-in", str(tmp_path / "none.jsonl")],
    }[which]  # fmt: skip
    command = [*base, *extra, "-o", str(out)]
    env = {**os.environ, "KPDD_HOME": str(tmp_path / "home")}
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and (not out.exists() or not out.read_text().strip()):
        time.sleep(0.2)
    first.send_signal(signal.SIGKILL)
    first.wait()
    written_before = len(out.read_text().splitlines())
    assert 1 <= written_before < 6 * (2 if which == "sampled" else 1)
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    records = [json.loads(line) for line in out.read_text().splitlines()]
    keys = [(r["problem_id"], r["sample"]) for r in records]
    assert len(keys) == len(set(keys))  # nothing doubled
    assert {r["provenance"]["pass"] for r in records} == {which}
    ids = {r["problem_id"] for r in records}
    if which == "sampled":  # sample 2 only for problems sample 1 left unsolved
        assert {k for k in keys if k[1] == 1} == {(f"gsm8k-train-{i}", 1) for i in range(6)}
    else:
        assert ids == {f"gsm8k-train-{i}" for i in range(6)}
        if which == "rationalized":
            assert all(r["provenance"]["prompt_version"].endswith("-answer-hint") for r in records)


def test_a_chinese_problem_asks_the_teacher_for_chinese_stages() -> None:
    from distill.gguf_teacher import IN_CHINESE
    from kpdd.format import DEMONSTRATIONS_ZH

    chinese = transcript_messages(
        "一个农民有17只羊，山羊的数量是羊的三倍。他卖掉了12只山羊。一共有多少只动物？", Mode.POT
    )
    assert (
        chinese[0]["content"].endswith(IN_CHINESE) and DEMONSTRATIONS_ZH[0].problem in chinese[1]["content"]
    )
    english = transcript_messages(FARMER, Mode.POT)
    assert (
        IN_CHINESE not in english[0]["content"] and DEMONSTRATIONS_ZH[0].problem not in english[1]["content"]
    )

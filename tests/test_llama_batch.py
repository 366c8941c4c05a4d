"""Batched llama.cpp decoding (kpdd.llama_batch) and the batched GGUF teacher, on the real SmolLM2 GGUF."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kpdd.backend import CancelToken, Generation
from kpdd.format import STOP_STRINGS, KeyPoints, Mode, Stage, inference_prompt
from kpdd.llama_backend import LlamaBackend

pytestmark = pytest.mark.slow

PROBLEMS = [
    "A farmer has 12 cows and buys 5 more. How many cows does he have?",
    "Mia has 30 stickers and gives 7 to her brother. How many stickers does she keep?",
    "A box holds 6 eggs. How many eggs are in 4 boxes?",
    "Tom reads 15 pages a day. How many pages does he read in 3 days?",
    "There are 40 birds on a tree and 12 fly away. How many birds are left?",
]


@pytest.fixture(scope="module")
def backend(smollm2_gguf):
    b = LlamaBackend(smollm2_gguf, threads=2, n_ctx=2048)
    b.batch_parallel = 2  # fewer slots than prompts: slots are refilled as sequences finish
    yield b
    b.close()


def test_a_batch_shares_the_prompts_common_beginning_and_keeps_prompt_order(backend):
    prompts = [inference_prompt(p, Stage.CORE_QUESTION, few_shot=True) for p in PROBLEMS]
    done: list[int] = []
    generations = backend.batched_context().generate(
        prompts, stop=STOP_STRINGS, max_tokens=40, on_done=lambda i, _g: done.append(i)
    )
    assert len(generations) == len(PROBLEMS) and sorted(done) == list(range(len(PROBLEMS)))
    for generation in generations:
        assert generation.finish_reason in ("stop", "length", "eos")
        assert "###" not in generation.text
        # The few-shot demonstrations (about 800 tokens) were read once, not once per prompt.
        assert generation.prompt_tokens > 800 and generation.prompt_tokens_evaluated < 80
    # Greedy: the same batch again gives the same texts (the prefix now comes from the cache).
    again = backend.generate_batch(prompts, stop=STOP_STRINGS, max_tokens=40)
    assert [g.text for g in again] == [g.text for g in generations]


def test_a_follow_up_continues_the_same_sequence_from_its_cache(backend):
    first = [inference_prompt(p, Stage.CORE_QUESTION, few_shot=True) for p in PROBLEMS[:3]]
    stages: dict[int, list[Generation]] = {i: [] for i in range(3)}

    def follow_up(i: int, generation: Generation) -> tuple[str, int] | None:
        stages[i].append(generation)
        if len(stages[i]) == 2:
            return None
        key_points = KeyPoints(generation.text.strip() or "How many?")
        return inference_prompt(PROBLEMS[i], Stage.KEY_INFORMATION, key_points, few_shot=True), 40

    last = backend.generate_batch(first, stop=STOP_STRINGS, max_tokens=32, follow_up=follow_up)
    for i in range(3):
        assert len(stages[i]) == 2 and last[i] is stages[i][1]
        # The second stage read only what was added after the first stage's text, not the whole prompt.
        assert stages[i][1].prompt_tokens > 800 and stages[i][1].prompt_tokens_evaluated < 40


def test_a_prompt_too_long_for_its_slot_fails_alone(backend):
    prompts = [inference_prompt(PROBLEMS[0], Stage.CORE_QUESTION), "word " * 20_000]
    generations = backend.generate_batch(prompts, stop=STOP_STRINGS, max_tokens=24)
    assert generations[0].finish_reason in ("stop", "length", "eos") and generations[0].text
    assert generations[1].finish_reason == "too_long" and generations[1].text == ""


def test_a_cancelled_batch_returns_at_once(backend):
    cancel = CancelToken()
    cancel.cancel()
    generations = backend.batched_context().generate(
        [inference_prompt(p, Stage.CORE_QUESTION) for p in PROBLEMS], stop=STOP_STRINGS, max_tokens=24,
        cancel=cancel,
    )  # fmt: skip
    assert [g.finish_reason for g in generations] == ["cancelled"] * len(PROBLEMS)


def test_sampling_is_seeded_and_repeatable(backend):
    prompt = inference_prompt(PROBLEMS[2], Stage.PROGRAM, KeyPoints("How many eggs?", ["6 eggs a box", "4 boxes"]),
                              few_shot=True)  # fmt: skip
    batched = backend.batched_context()
    a = batched.generate([prompt, prompt], stop=STOP_STRINGS, max_tokens=30, temperature=1.0, seeds=[1, 2])
    b = batched.generate([prompt, prompt], stop=STOP_STRINGS, max_tokens=30, temperature=1.0, seeds=[1, 2])
    assert [g.text for g in a] == [g.text for g in b]
    assert all(g.completion_tokens > 0 for g in a)


def test_batched_staged_solve_runs_every_stage_and_reuses_each_problems_cache(backend):
    from kpdd.solver import Solver

    results = Solver(backend).solve_batch(PROBLEMS[:3], Mode.POT)
    for result in results:
        assert [s.stage for s in result.stages] == [Stage.CORE_QUESTION, Stage.KEY_INFORMATION, Stage.PROGRAM]
        assert result.core_question and result.solutions and result.solutions[0].kind == Mode.POT
        # Each later stage continued its problem's own sequence.
        assert all(s.prompt_tokens_evaluated < 30 for s in result.stages[1:])


def test_the_gguf_teacher_writes_labelled_transcripts_in_batches_and_resumes(tmp_path: Path, smollm2_gguf):
    """The batched teacher end to end through `run_teach`, with SmolLM2-Instruct as a (weak) teacher."""
    from distill.gguf_teacher import GGUFTeacher
    from distill.teach import run_teach
    from distill.teachers import Sampling
    from kpdd.datasets import Problem

    problems = [Problem(f"p{i}", q, 1.0, "mine") for i, q in enumerate(PROBLEMS[:3])]
    teacher = GGUFTeacher(smollm2_gguf, Sampling(temperature=0.0, max_tokens=120), parallel=2, threads=2)
    out = tmp_path / "teach.jsonl"
    try:
        prompt = teacher.prompt(PROBLEMS[0], Mode.POT)
        # The three demonstrations are answered turns; the problem's reply is opened at its first stage.
        assert prompt.count("<|im_start|>assistant\n### Core question") == 4
        assert prompt.endswith("<|im_start|>assistant\n### Core question\n") and "### Solution" not in prompt
        stats = run_teach(teacher, problems, out, mode=Mode.POT, data_name="mine")
        again = run_teach(teacher, problems, out, mode=Mode.POT, data_name="mine")
    finally:
        teacher.close()
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert stats["written"] == 3 and again["written"] == 0 and again["already_done"] == 3
    assert sorted(r["problem_id"] for r in records) == ["p0", "p1", "p2"]
    for record in records:
        assert record["provenance"]["teacher"] == f"gguf:{smollm2_gguf.name}"
        assert record["provenance"]["prompt_version"] == "kpdd-teach-transcript-1"
        assert record["mode"] == "pot" and record["steps"] is None
        assert record["usage"]["prompt_tokens"] > 500 and record["usage"]["completion_tokens"] > 0
        assert record["failure"] in (None, "format", "no_solution")


def test_batched_auto_rechecks_only_doubtful_answers_or_asks_a_second_opinion(backend):
    from kpdd.judgement import looks_wrong
    from kpdd.solver import AUTO_SAMPLES, RECHECK_SAMPLES, Solver

    # The stock model, few-shot, answers badly: some answers look wrong, some do not.
    alone = Solver(backend).solve_batch(PROBLEMS, Mode.POT, samples=AUTO_SAMPLES)
    assert any(looks_wrong(r.solutions[0], r.problem) for r in alone)
    for result in alone:
        if looks_wrong(result.solutions[0], result.problem):
            assert result.rechecked and [s.sample_index for s in result.solutions] == list(
                range(RECHECK_SAMPLES)
            )
        else:
            assert not result.rechecked and len(result.solutions) == 1
    # With a second opinion, that model is the recheck: one greedy solution of its own, no samples.
    cascade = Solver(backend, second_opinion=Solver(backend)).solve_batch(
        PROBLEMS, Mode.POT, samples=AUTO_SAMPLES
    )
    for result, first in zip(cascade, alone):
        assert result.solutions[0].text == first.solutions[0].text and not result.rechecked
        if looks_wrong(first.solutions[0], first.problem):
            assert result.second_opinion == backend.info.name and len(result.solutions) == 2
            assert result.solutions[-1].model == backend.info.name
        else:
            assert result.second_opinion == "" and len(result.solutions) == 1
    # Checking every answer: the other model solves every problem of the batch.
    every = Solver(backend, second_opinion=Solver(backend), check_every_answer=True).solve_batch(
        PROBLEMS, Mode.POT
    )
    assert all(r.second_opinion == backend.info.name and r.solutions[-1].model for r in every)

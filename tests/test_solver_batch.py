"""Batched solving (`kpdd eval --backend hf`): stage by stage through generate_batch."""

from __future__ import annotations

import pytest

from kpdd.format import Mode, Stage
from kpdd.solver import Solver

PROBLEMS = [
    "Tom has 3 apples and buys 4 more. How many apples does he have?",
    "A box holds 12 pencils. How many pencils are in 5 boxes?",
    "Sara had 20 dollars and spent 7. How much money is left?",
]


@pytest.fixture(scope="module")
def tiny_backend(tmp_path_factory, smollm2_gguf):
    from distill.hf_backend import HFBackend
    from distill.tiny import make_tiny_model

    folder = make_tiny_model(tmp_path_factory.mktemp("tiny"), smollm2_gguf)
    backend = HFBackend(str(folder), seed=0)
    yield backend
    backend.close()


@pytest.mark.slow
def test_solve_batch_runs_every_stage_for_every_problem(tiny_backend):
    calls: list[int] = []
    original = tiny_backend.generate_batch

    def counting(prompts, **kwargs):
        calls.append(len(prompts))
        return original(prompts, **kwargs)

    tiny_backend.generate_batch = counting
    try:
        solver = Solver(tiny_backend, max_tokens={Stage.CORE_QUESTION: 8, Stage.KEY_INFORMATION: 8,
                                                  Stage.PROGRAM: 12, Stage.STEPS: 12})  # fmt: skip
        results = solver.solve_batch(PROBLEMS, Mode.BOTH)
    finally:
        tiny_backend.generate_batch = original
    # One batched call per stage: core question, key information, program, steps.
    assert calls == [3, 3, 3, 3]
    assert [r.problem for r in results] == PROBLEMS
    for result in results:
        assert [s.stage for s in result.stages] == [Stage.CORE_QUESTION, Stage.KEY_INFORMATION,
                                                    Stage.PROGRAM, Stage.STEPS]  # fmt: skip
        assert [s.kind for s in result.solutions] == [Mode.POT, Mode.COT]
    # Batching changes how the work is scheduled, not what is written: each problem gets the stages
    # and solutions that solving it alone gives (greedy decoding).
    for problem, batched in zip(PROBLEMS, results, strict=True):
        alone = solver.solve(problem, Mode.BOTH)
        assert [s.text for s in batched.stages] == [s.text for s in alone.stages]
        assert [(s.answer, s.error_kind) for s in batched.solutions] == [
            (s.answer, s.error_kind) for s in alone.solutions
        ]
        assert batched.agree == alone.agree

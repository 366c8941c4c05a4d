"""desktop/screenshots.py shows the model a user would see: the KPDD student, not its base file alone."""

from __future__ import annotations

from desktop.screenshots import use_model
from kpdd import models


def test_screenshots_show_the_student_with_its_adapter(kpdd_home, smollm2_gguf):
    # The real home's models folder holds the base GGUF; the student is that file plus our adapter.
    use_model(None, smollm2_gguf.parent, "KPDD SmolLM2-135M")
    shown = models.active_model()
    assert shown.kind == "bundled" and shown.lora_path is not None and shown.lora_path.exists()
    assert shown.path.resolve() == smollm2_gguf.resolve()


def test_screenshots_keep_a_stock_model_the_user_chose(kpdd_home, smollm2_gguf):
    use_model(None, smollm2_gguf.parent, models.SMOLLM2.name)
    shown = models.active_model()
    assert shown.name == models.SMOLLM2.name and shown.lora_path is None


def test_the_scripted_screenshots_show_the_states_they_are_named_for():
    """`python -m desktop.screenshots OUT --scripted` solves with the demo model: each problem gives
    the verdict its screenshot is meant to show (through the real solver, sandbox and verdicts)."""
    from desktop.screenshots import APPLES, BIKE, BOOK, FARMER, MUFFINS, PENS, TEAMS, TICKETS, DemoBackend
    from kpdd.solver import Solver
    from kpdd.verdict import Level, Note, judge

    solver = Solver(DemoBackend())
    lone = solver.solve(FARMER, "pot")
    assert (lone.answer, judge(lone).level) == (75.0, Level.NOT_SURE)  # the farmer
    steps = judge(solver.solve(FARMER, "cot"))
    assert Note.ARITHMETIC_WRONG in [f.note for f in steps.doubts]
    for problem, answer in ((APPLES, 64), (BIKE, 7), (TICKETS, 42), (BOOK, 90), (PENS, 19)):
        both = solver.solve(problem, "both")
        assert (both.answer, judge(both).level) == (answer, Level.CHECKED), problem
    muffins = solver.solve(MUFFINS, "both")
    assert (muffins.answer, judge(muffins).level) == (118.0, Level.NOT_SURE)  # -118 never wins
    assert judge(solver.solve(TEAMS, "pot")).level == Level.NO_ANSWER

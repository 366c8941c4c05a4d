"""The second opinion as a user meets it: which model is asked, the one switch that `kpdd solve`, the
app and its Settings share, and what happens when the model is missing or damaged.

The real second-opinion model (Qwen2.5-Coder-1.5B, 1.1 GB) is not installed in CI, so these tests
name the SmolLM2 GGUF that setup installs as the second-opinion model and ask it about answers of a
copy of the same file under another name: real files, real llama.cpp, the same code paths.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from kpdd import models, paths  # noqa: E402
from tests.desktop_fixtures import qapp  # noqa: E402


@pytest.fixture
def second_installed(kpdd_home, smollm2_gguf, monkeypatch) -> models.ModelEntry:
    """SmolLM2 installed as the second-opinion model; returns a first model to ask it about (a user
    file holding the same weights under another name)."""
    monkeypatch.setattr(models, "SECOND_OPINION", models.SMOLLM2)
    paths.models_dir().mkdir(parents=True)
    (paths.models_dir() / models.SMOLLM2.file_name).symlink_to(smollm2_gguf)
    first = kpdd_home / "first-model.gguf"
    first.symlink_to(smollm2_gguf)
    return models.add_model(first)


def test_the_installed_second_opinion_is_found_and_never_asked_about_itself(second_installed):
    second = models.second_opinion_model(second_installed)
    assert second is not None and second.path.name == models.SMOLLM2.file_name and second.available
    assert models.second_opinion_model(second) is None


def test_one_switch_turns_it_off_for_everything(second_installed):
    assert models.second_opinion_enabled()  # on by default
    models.set_second_opinion_enabled(False)
    assert not models.second_opinion_enabled()
    assert paths.load_config()["second_opinion"] is False
    paths.update_config(second_opinion="off")  # as `kpdd config second_opinion off` stores it
    assert not models.second_opinion_enabled()
    models.set_second_opinion_enabled(True)
    assert models.second_opinion_enabled()


def test_a_missing_or_damaged_second_opinion_leaves_the_first_model_answering_alone(
    kpdd_home, smollm2_gguf, tmp_path, monkeypatch, capsys
):
    from kpdd.cli import build_parser, open_solver

    monkeypatch.setattr(models, "SECOND_OPINION", models.SMOLLM2)
    first = models.add_model(shutil.copy(smollm2_gguf, tmp_path / "first.gguf"))
    assert models.second_opinion_model(first) is None  # not installed
    paths.models_dir().mkdir(parents=True)
    damaged = paths.models_dir() / models.SMOLLM2.file_name
    data = bytearray(Path(smollm2_gguf).read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    args = build_parser().parse_args(["solve", "--model", str(first.path), "--threads", "1", "a problem"])
    solver = open_solver(args)  # the damage is found at load: said, and the first model answers
    solver.backend.close()
    assert solver.second_opinion is None
    assert "no second opinion" in capsys.readouterr().err


def test_kpdd_solve_asks_it_unless_told_not_to(second_installed):
    from kpdd.cli import build_parser, open_solver

    def solver_for(*extra: str):
        args = build_parser().parse_args(["solve", "--model", str(second_installed.path), "--threads", "1",
                                          *extra, "a problem"])  # fmt: skip
        return open_solver(args)

    solver = solver_for()
    try:
        assert solver.second_opinion is not None
        assert solver.second_opinion.backend.info.name == models.SMOLLM2.name
    finally:
        solver.second_opinion.backend.close()
        solver.backend.close()
    solver = solver_for("--second-opinion", "none")
    assert solver.second_opinion is None
    solver.backend.close()
    models.set_second_opinion_enabled(False)
    solver = solver_for()
    assert solver.second_opinion is None
    solver.backend.close()


def test_eval_measures_the_model_alone_unless_a_second_opinion_is_named(second_installed):
    from kpdd.cli import build_parser

    args = build_parser().parse_args(["eval", "--data", "gsm8k"])
    assert args.second_opinion == "none"


def test_the_app_loads_it_beside_the_student_and_settings_turn_it_off(second_installed):
    from desktop.settings import DesktopSettings, SettingsDialog
    from desktop.workers import SolverWorker
    from tests.desktop_fixtures import Recorder

    qapp()
    worker = SolverWorker(entry_provider=lambda: second_installed)
    ready = Recorder(worker.model_ready)
    solver = worker._ensure_solver()
    try:
        assert solver.second_opinion is not None
        assert ready.calls == [(f"{solver.backend.info.name} + {models.SMOLLM2.name}",)]
        dialog = SettingsDialog(DesktopSettings(language="en"))
        assert dialog.second_opinion.isEnabled() and dialog.second_opinion.isChecked()
        assert models.SMOLLM2.name in dialog.second_opinion.text()
        dialog.second_opinion.setChecked(False)
        assert dialog.second_opinion_choice() is False
        models.set_second_opinion_enabled(dialog.second_opinion_choice())
        solver = worker._ensure_solver()  # the next solve loads the student alone
        assert solver.second_opinion is None
    finally:
        worker.unload()


def test_settings_say_how_to_install_it_when_it_is_missing(kpdd_home):
    from desktop.settings import DesktopSettings, SettingsDialog

    qapp()
    dialog = SettingsDialog(DesktopSettings(language="en"))
    assert not dialog.second_opinion.isEnabled() and not dialog.second_opinion.isChecked()
    assert "kpdd setup --all" in dialog.second_opinion_note.text()
    assert dialog.second_opinion_choice() is None


def test_the_window_says_it_is_asking_and_whose_answer_it_shows(kpdd_home):
    """A doubtful answer in the real window: the note names the model asked while it works, and the
    verdict says the answer shown is the second model's and that the two disagree."""
    from desktop.app import create_window
    from desktop.settings import DesktopSettings
    from desktop.workers import SolverThread, SolverWorker
    from kpdd.format import Stage
    from tests.desktop_fixtures import SCRIPT, ScriptedBackend, close_window, wait_until

    qapp()
    student = ScriptedBackend({**SCRIPT, Stage.PROGRAM: "answer = 20 - 6 * 14"}, delay_s=0, name="student")
    teacher = ScriptedBackend(delay_s=0.01, name="teacher")
    worker = SolverWorker(
        backend_factory=lambda entry, threads: teacher if entry == "second" else student,
        entry_provider=lambda: "student",
        second_opinion_provider=lambda entry: "second",
    )
    window = create_window(DesktopSettings(language="en"), SolverThread(worker))
    try:
        window.problem_edit.setPlainText(
            "A farmer packs 6 baskets with 14 apples each. He gives away 20. How many are left?"
        )
        window.samples_spin.setValue(0)  # Auto
        window.solve()
        assert wait_until(lambda: "asking teacher for a second opinion" in window.notice_label.text(), 30)
        assert wait_until(lambda: not window.busy, 30)
        assert window.result.answer == 64.0 and window.result.second_opinion == "teacher"
        assert "a second model, teacher, was asked: this is its answer" in window.verdict_label.text()
        assert window.model_status.text() == "Model: student + teacher"
    finally:
        window.solver_thread.shutdown()
        close_window(window)

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
from tests.conftest import pretend_second_opinion  # noqa: E402
from tests.desktop_fixtures import qapp  # noqa: E402


@pytest.fixture
def second_installed(kpdd_home, smollm2_gguf, monkeypatch) -> models.ModelEntry:
    """SmolLM2 installed as the second-opinion model; returns a first model to ask it about (a user
    file holding the same weights under another name)."""
    pretend_second_opinion(monkeypatch, models.SMOLLM2)
    paths.models_dir().mkdir(parents=True)
    (paths.models_dir() / models.SMOLLM2.file_name).symlink_to(smollm2_gguf)
    first = kpdd_home / "first-model.gguf"
    first.symlink_to(smollm2_gguf)
    return models.add_model(first)


def test_the_installed_second_opinion_is_found_and_never_asked_about_itself(second_installed):
    second = models.second_opinion_model(second_installed)
    assert second is not None and second.path.name == models.SMOLLM2.file_name and second.available
    assert models.second_opinion_model(second) is None


def test_one_setting_says_when_it_is_asked_for_everything(second_installed, capsys):
    from kpdd.cli import main

    use = models.SecondOpinionUse
    assert (
        models.second_opinion_use() == models.DEFAULT_SECOND_OPINION_USE and models.second_opinion_enabled()
    )
    assert main(["config", "second_opinion"]) == 0  # nothing stored: the default in force is named
    assert capsys.readouterr().out == "every (the default)\n"
    models.set_second_opinion_use(use.OFF)
    assert not models.second_opinion_enabled() and paths.load_config()["second_opinion"] == "off"
    assert models.second_opinion_model(second_installed) is None
    assert main(["config", "second_opinion", "every"]) == 0
    assert main(["config", "second_opinion"]) == 0 and capsys.readouterr().out == "every\n"
    assert (
        models.second_opinion_use() == use.EVERY and models.second_opinion_model(second_installed) is not None
    )
    assert main(["config", "second_opinion", "sometimes"]) == 2  # refused, said, nothing stored
    assert "off, doubtful, every" in capsys.readouterr().err and models.second_opinion_use() == use.EVERY
    assert main(["config", "second_opinion", "on"]) == 0
    assert models.second_opinion_use() == models.DEFAULT_SECOND_OPINION_USE
    # A configuration written before the three choices (a plain true or false) still reads.
    paths.update_config(second_opinion=False)
    assert models.second_opinion_use() == use.OFF
    paths.update_config(second_opinion=True)
    assert models.second_opinion_use() == models.DEFAULT_SECOND_OPINION_USE


def test_a_missing_or_damaged_second_opinion_leaves_the_first_model_answering_alone(
    kpdd_home, smollm2_gguf, tmp_path, monkeypatch, capsys
):
    from kpdd.cli import build_parser
    from kpdd.cli_options import open_solver

    pretend_second_opinion(monkeypatch, models.SMOLLM2)
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
    from kpdd.cli import build_parser
    from kpdd.cli_options import open_solver

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
    models.set_second_opinion_use(models.SecondOpinionUse.EVERY)
    solver = solver_for()
    try:
        assert solver.second_opinion is not None and solver.check_every_answer
    finally:
        solver.second_opinion.backend.close()
        solver.backend.close()
    solver = solver_for("--second-opinion-on", "doubtful")
    try:
        assert solver.second_opinion is not None and not solver.check_every_answer
    finally:
        solver.second_opinion.backend.close()
        solver.backend.close()
    # A worksheet checks every answer whenever the second opinion is on.
    models.set_second_opinion_use(models.SecondOpinionUse.DOUBTFUL)
    args = build_parser().parse_args(["solve", "--model", str(second_installed.path), "--threads", "1", "p"])
    solver = open_solver(args, batch=True)
    try:
        assert solver.second_opinion is not None and solver.check_every_answer
    finally:
        solver.second_opinion.backend.close()
        solver.backend.close()
    models.set_second_opinion_use(models.SecondOpinionUse.OFF)
    solver = solver_for()
    assert solver.second_opinion is None
    solver.backend.close()
    assert open_solver(args, batch=True).second_opinion is None


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
        assert solver.check_every_answer  # the default: every answer checked
        dialog = SettingsDialog(DesktopSettings(language="en"))
        assert dialog.second_opinion.isEnabled()
        assert (
            dialog.second_opinion_choice()
            == models.DEFAULT_SECOND_OPINION_USE
            == models.SecondOpinionUse.EVERY
        )
        assert dialog.second_opinion.currentText() == "Asked about every answer"
        assert models.SMOLLM2.name in dialog.second_opinion_note.text()
        dialog.second_opinion.setCurrentIndex(1)
        assert dialog.second_opinion.currentText() == "Asked about doubtful answers only (faster)"
        assert dialog.second_opinion_choice() == models.SecondOpinionUse.DOUBTFUL
        models.set_second_opinion_use(dialog.second_opinion_choice())
        assert worker._ensure_solver() is solver and not solver.check_every_answer  # no reload needed
        dialog.second_opinion.setCurrentIndex(0)
        models.set_second_opinion_use(dialog.second_opinion_choice())
        solver = worker._ensure_solver()  # the next solve loads the student alone
        assert solver.second_opinion is None
        assert SettingsDialog(DesktopSettings(language="en")).second_opinion.currentIndex() == 0
    finally:
        worker.unload()


def test_settings_say_how_to_install_it_when_it_is_missing(kpdd_home):
    from desktop.settings import DesktopSettings, SettingsDialog

    qapp()
    dialog = SettingsDialog(DesktopSettings(language="en"))
    assert not dialog.second_opinion.isEnabled() and dialog.second_opinion.currentIndex() == 0  # off
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
        window.problem_card.edit.setPlainText(
            "A farmer packs 6 baskets with 14 apples each. He gives away 20. How many are left?"
        )
        window.problem_card.samples_spin.setValue(0)  # Auto
        window.session.solve()
        assert wait_until(
            lambda: "asking teacher for a second opinion" in window.problem_card.notice_label.text(), 30
        )
        assert wait_until(lambda: not window.session.busy, 30)
        assert window.session.result.answer == 64.0 and window.session.result.second_opinion == "teacher"
        assert "This is the answer of a second model, teacher" in window.answer_card.verdict_label.text()
        assert window.model_status.text() == "Model: student + teacher"
        # The card shows the second model's program, and says whose it is and what the first answered.
        assert window.solution_card.program_edit.toPlainText() == SCRIPT[Stage.PROGRAM]
        assert "The solution shown is teacher's. The first model, student, answered -64." in (
            window.answer_card.agreement_label.text()
        )
    finally:
        window.solver_thread.shutdown()
        close_window(window)


def test_checking_every_answer_shows_the_first_answer_then_the_verdict(kpdd_home):
    """Every answer checked, in the real window: the student's answer shows at once as not checked
    yet, the note names the model checking it, and when both agree the answer is checked."""
    from desktop import presenters
    from kpdd.verdict import Level
    from tests.desktop_fixtures import close_window, wait_until

    # The second model slow enough to see the answer wait.
    window, _student, _teacher = _window_with_a_second_model(teacher_delay_s=0.05, every=True)
    try:
        window.session.solve()
        assert wait_until(lambda: window.session.answer == "checking", 30)
        assert (
            window.answer_card.answer_label.text() == "64"
            and window.answer_card.verdict_badge.text() == "Checking..."
        )
        assert "teacher is solving the problem too" in window.answer_card.verdict_label.text()
        assert window.problem_card.notice_label.text() == "Checking the answer with teacher..."
        assert not window.answer_card.answer_label.font().bold()  # not the confident style until checked
        assert wait_until(lambda: not window.session.busy, 30)
        assert window.session.answer == "shown" and window.answer_card.answer_label.text() == "64"
        assert (
            window.answer_card.verdict_badge.text() == "Checked"
            and window.answer_card.answer_label.font().bold()
        )
        assert "A second model, teacher, gives the same answer." in window.answer_card.verdict_label.text()
        assert presenters.verdict_of(window.session.result).level == Level.CHECKED
    finally:
        window.solver_thread.shutdown()
        close_window(window)


def test_a_batch_in_the_app_checks_every_answer(kpdd_home, tmp_path):
    """The app's batch (worksheets): the second model solves every problem, not only doubtful ones,
    though single solves ask it about doubtful answers only."""
    from desktop.solve_request import BatchRequest
    from desktop.workers import SolverWorker
    from kpdd.batch import BatchProblem
    from tests.desktop_fixtures import Recorder, ScriptedBackend

    qapp()
    student, teacher = ScriptedBackend(delay_s=0, name="student"), ScriptedBackend(delay_s=0, name="teacher")
    worker = SolverWorker(
        backend_factory=lambda entry, threads: teacher if entry == "second" else student,
        entry_provider=lambda: "student",
        second_opinion_provider=lambda entry: "second",
        every_answer_provider=lambda: False,
    )
    finished = Recorder(worker.batch_finished)
    problem = "A farmer packs 6 baskets with 14 apples each. He gives away 20. How many are left?"
    worker.run_batch(BatchRequest([BatchProblem(0, problem)], tmp_path / "results.jsonl"))
    (outcome,) = finished.calls[0]
    assert outcome.results[0]["second_opinion"] == "teacher" and teacher.prompts
    teacher.prompts.clear()
    solver = worker._ensure_solver()  # as the next single solve gets it: doubtful answers only
    assert (
        not solver.check_every_answer and solver.solve(problem).second_opinion == "" and not teacher.prompts
    )


def test_a_checked_batch_reopened_in_the_dialog_shows_its_answers_as_already_solved(kpdd_home, tmp_path):
    """The dialog finds a batch's earlier answers by the same key the batch wrote them under (the
    model and the second model checking it), so reopening the list shows them and Start skips them."""
    from desktop.batch_view import BatchDialog
    from tests.desktop_fixtures import close_window, wait_signal

    window, student, teacher = _window_with_a_second_model(teacher_delay_s=0)
    try:
        problems = tmp_path / "week-4.txt"
        problems.write_text("A farmer packs 6 baskets with 14 apples each. How many apples?\n"
                            "Leo reads 30 pages a day for 5 days. How many pages does he read?\n")  # fmt: skip
        dialog = BatchDialog(window.solver_thread, window)
        dialog.show()
        assert dialog.load(problems)
        dialog.start_button.click()
        (outcome,) = wait_signal(dialog.batch_done, 60)
        assert outcome.complete and all(r["second_opinion"] == "teacher" for r in outcome.results)
        dialog.detach()

        student.prompts.clear()
        teacher.prompts.clear()
        again = BatchDialog(window.solver_thread, window)
        again.show()
        assert again.load(problems)
        assert again.eta_label.text() == "2 of 2 already solved"
        assert [again.table.item(r, 2).text() for r in range(2)] == ["64", "64"]
        again.start_button.click()
        (outcome,) = wait_signal(again.batch_done, 60)
        assert (
            outcome.resumed == 2 and outcome.solved_now == 0 and not student.prompts and not teacher.prompts
        )
        again.detach()
    finally:
        close_window(window)


def test_the_app_reads_the_second_opinions_examples_ahead_of_the_first_solve(kpdd_home):
    """The 1.5B is prompted with examples: the app reads them into its cache at start, as it does for
    a few-shot first model, so the first answer it is asked about does not wait for them."""
    from desktop.workers import SolverWorker
    from kpdd.format import Stage, inference_prompt
    from tests.scripted_backend import ScriptedBackend

    qapp()
    student = ScriptedBackend(delay_s=0, name="student")  # trained on the format: nothing to read ahead
    teacher = ScriptedBackend(delay_s=0, name="teacher", trained=False)
    worker = SolverWorker(
        backend_factory=lambda entry, threads: teacher if entry == "second" else student,
        entry_provider=lambda: "student",
        second_opinion_provider=lambda entry: "second",
    )
    worker.preload()
    assert student.prompts == []
    assert teacher.prompts == [inference_prompt("", Stage.CORE_QUESTION, few_shot=True)]


def _window_with_a_second_model(teacher_script=None, teacher_delay_s=0.02, every=False):
    """The real window over a scripted student and second model, the second asked about doubtful
    answers only (the default) or about `every` answer; returns (window, student, teacher)."""
    from desktop.app import create_window
    from desktop.settings import DesktopSettings
    from desktop.workers import SolverThread, SolverWorker
    from tests.scripted_backend import ScriptedBackend

    qapp()
    student = ScriptedBackend(delay_s=0, name="student")
    teacher = ScriptedBackend(teacher_script, delay_s=teacher_delay_s, name="teacher")
    worker = SolverWorker(
        backend_factory=lambda entry, threads: teacher if entry == "second" else student,
        entry_provider=lambda: "student",
        second_opinion_provider=lambda entry: "second",
        every_answer_provider=lambda: every,
    )
    window = create_window(DesktopSettings(language="en"), SolverThread(worker))
    window.problem_card.samples_spin.setValue(1)
    window.problem_card.edit.setPlainText(
        "A farmer packs 6 baskets with 14 apples each. He gives away 20. How many are left?"
    )
    return window, student, teacher


def test_a_not_sure_answer_can_be_checked_by_the_second_model_with_one_click(kpdd_home):
    """The default asks the second model only about answers that look wrong. A plausible lone answer
    is "not sure" and offers "Check it with ...": one click shows it as being checked, the second
    model solves the problem, the answer becomes checked, and history keeps one entry, now checked."""
    from tests.desktop_fixtures import close_window, wait_until

    window, student, teacher = _window_with_a_second_model()
    try:
        window.session.solve()
        assert wait_until(lambda: not window.session.busy, 30)
        assert window.session.result.second_opinion == "" and not teacher.prompts  # not asked: looked fine
        assert window.answer_card.verdict_badge.text() == "Not sure"
        button = window.answer_card.second_check_button
        assert not button.isHidden() and button.text() == "Check it with teacher"
        assert window.answer_card.verdict_label.text().endswith(
            "Have teacher solve it too, to check this answer, or work through it with the hints."
        )
        solved_by_student = len(student.prompts)
        button.click()
        assert window.session.answer == "checking" and window.answer_card.answer_label.text() == "64"
        assert window.answer_card.verdict_badge.text() == "Checking..." and button.isHidden()
        assert window.problem_card.notice_label.text() == "Checking the answer with teacher..."
        assert wait_until(lambda: not window.session.busy, 30)
        assert len(student.prompts) == solved_by_student and teacher.prompts  # only the second model ran
        assert (
            window.answer_card.verdict_badge.text() == "Checked"
            and window.answer_card.answer_label.font().bold()
        )
        assert "A second model, teacher, gives the same answer." in window.answer_card.verdict_label.text()
        assert window.problem_card.notice_label.text().startswith("Checked with teacher in ")
        assert button.isHidden()  # nothing more to check
        entries = window.session.history.search()
        assert len(entries) == 1 and entries[0].verdict() == "checked"
        assert entries[0].result["second_opinion"] == "teacher"
    finally:
        window.solver_thread.shutdown()
        close_window(window)


def test_a_check_that_disagrees_says_so_and_a_stopped_check_keeps_the_answer(kpdd_home):
    from kpdd.format import Stage
    from tests.desktop_fixtures import SCRIPT, close_window, wait_until

    other = {**SCRIPT, Stage.PROGRAM: "apples = 6 * 14\nanswer = apples - 30"}  # 54
    window, _student, teacher = _window_with_a_second_model(other, teacher_delay_s=0.05)
    try:
        window.session.solve()
        assert wait_until(lambda: not window.session.busy, 30)
        window.session.check_with_second_model()
        assert wait_until(lambda: bool(teacher.prompts), 30)
        window.session.stop()
        assert wait_until(lambda: not window.session.busy, 30)
        assert window.problem_card.notice_label.text() == "Check stopped: the answer is as it was."
        assert window.session.answer == "shown" and window.answer_card.answer_label.text() == "64"
        assert (
            window.answer_card.verdict_badge.text() == "Not sure"
            and not window.answer_card.second_check_button.isHidden()
        )
        assert window.session.history.search()[0].result["second_opinion"] == ""
        window.session.check_with_second_model()
        assert wait_until(lambda: not window.session.busy, 30)
        assert (
            window.answer_card.verdict_badge.text() == "Not sure"
            and window.session.result.second_opinion == "teacher"
        )
        assert "A second model, teacher, gives a different answer." in window.answer_card.verdict_label.text()
        assert window.answer_card.second_check_button.isHidden() and len(window.session.history.search()) == 1
    finally:
        window.solver_thread.shutdown()
        close_window(window)


def test_the_check_is_offered_only_with_a_second_model_and_on_not_sure_answers(kpdd_home):
    from desktop.app import create_window
    from desktop.settings import DesktopSettings
    from desktop.workers import SolverThread, SolverWorker
    from tests.desktop_fixtures import ScriptedBackend, close_window, wait_until

    qapp()
    worker = SolverWorker(
        backend_factory=lambda entry, threads: ScriptedBackend(delay_s=0, name="student"),
        entry_provider=lambda: "student",
        second_opinion_provider=lambda entry: None,
    )
    window = create_window(DesktopSettings(language="en"), SolverThread(worker))
    try:
        window.problem_card.edit.setPlainText(
            "A farmer packs 6 baskets with 14 apples each. He gives away 20."
        )
        window.problem_card.samples_spin.setValue(1)
        window.session.solve()
        assert wait_until(lambda: not window.session.busy, 30)
        assert (
            window.answer_card.verdict_badge.text() == "Not sure"
            and window.answer_card.second_check_button.isHidden()
        )
        assert window.session.check_with_second_model() is None
        assert "solve it in Both mode to have it checked" in window.answer_card.verdict_label.text()
    finally:
        window.solver_thread.shutdown()
        close_window(window)
    window, _student, teacher = _window_with_a_second_model()
    try:
        window.problem_card.mode_combo.setCurrentIndex(2)  # Both: the program and the steps agree, so checked
        window.session.solve()
        assert wait_until(lambda: not window.session.busy, 30)
        assert (
            window.answer_card.verdict_badge.text() == "Checked"
            and window.answer_card.second_check_button.isHidden()
        )
    finally:
        window.solver_thread.shutdown()
        close_window(window)


def test_solver_check_adds_the_second_models_answer_and_leaves_the_first_result_alone():
    from kpdd.format import Stage
    from kpdd.solver import Solver
    from kpdd.verdict import Level, judge
    from tests.scripted_backend import PROBLEM, SCRIPT, ScriptedBackend

    solver = Solver(ScriptedBackend(delay_s=0, name="student"),
                    second_opinion=Solver(ScriptedBackend(delay_s=0, name="teacher")))  # fmt: skip
    first = solver.solve(PROBLEM)
    assert first.second_opinion == "" and judge(first).level == Level.NOT_SURE
    events = []
    checked = solver.check(first, on_event=events.append)
    assert checked.second_opinion == "teacher" and len(checked.solutions) == 2
    assert judge(checked).level == Level.CHECKED and checked.answer == 64.0
    assert first.second_opinion == "" and len(first.solutions) == 1  # the first result is as it was
    assert [e.kind for e in events] == ["second_opinion", "answer"] and events[0].data.every_answer
    with pytest.raises(ValueError, match="already checked"):
        solver.check(checked)
    with pytest.raises(ValueError, match="no second model"):
        Solver(ScriptedBackend(delay_s=0)).check(first)
    wrong = Solver(ScriptedBackend(delay_s=0, name="student"),
                   second_opinion=Solver(ScriptedBackend({**SCRIPT, Stage.PROGRAM: "answer = 54"}, delay_s=0,
                                                         name="teacher")))  # fmt: skip
    assert judge(wrong.check(first)).level == Level.NOT_SURE


def test_stop_while_every_answer_is_checked_keeps_the_first_answer_unchecked(kpdd_home):
    """Every answer checked: the student's answer is on show while the second model works; Stop
    then ends the check, not the solve, and the answer stays, unchecked, with the check offered."""
    from tests.desktop_fixtures import close_window, wait_until

    window, _student, teacher = _window_with_a_second_model(teacher_delay_s=0.05, every=True)
    try:
        window.session.solve()
        assert wait_until(lambda: window.session.answer == "checking" and bool(teacher.prompts), 30)
        window.session.stop()
        assert wait_until(lambda: not window.session.busy, 30)
        assert window.problem_card.notice_label.text() == "Check stopped: the answer is not checked."
        assert window.session.answer == "shown" and window.answer_card.answer_label.text() == "64"
        assert window.answer_card.verdict_badge.text() == "Not sure" and not window.session.result.cancelled
        assert not window.answer_card.second_check_button.isHidden()
        (entry,) = window.session.history.search()
        assert entry.answer == 64.0 and entry.result["second_opinion"] == ""
    finally:
        window.solver_thread.shutdown()
        close_window(window)


def test_an_answer_reopened_from_history_can_be_checked_and_its_entry_is_updated(kpdd_home):
    from tests.desktop_fixtures import close_window, wait_until

    window, _student, _teacher = _window_with_a_second_model()
    try:
        window.session.solve()
        assert wait_until(lambda: not window.session.busy, 30)
        window.problem_card.edit.setPlainText("Another problem, typed after.")
        (entry,) = window.session.history.search()
        window.session.reopen(entry)
        assert (
            window.answer_card.answer_label.text() == "64"
            and not window.answer_card.second_check_button.isHidden()
        )
        window.answer_card.second_check_button.click()
        assert wait_until(lambda: not window.session.busy, 30)
        assert window.answer_card.verdict_badge.text() == "Checked"
        (updated,) = window.session.history.search()
        assert updated.id == entry.id and updated.verdict() == "checked"
    finally:
        window.solver_thread.shutdown()
        close_window(window)

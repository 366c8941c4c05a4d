"""The tutor window says how sure it is (issue 25): real widgets offscreen, the real solver and
sandbox, a scripted model where a verdict needs a fixed outcome."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

from kpdd.format import Stage  # noqa: E402
from tests.desktop_fixtures import (  # noqa: E402
    PROBLEM,
    SCRIPT,
    ScriptedBackend,
    close_window,
    make_window,
    shown,
    wait_signal,
)

FARMER = (
    "A farmer has 17 sheep and 3 times as many goats. He sells 12 goats. How many animals does he have now?"
)
FARMER_SCRIPT = {
    Stage.CORE_QUESTION: "How many animals does the farmer have now?",
    Stage.KEY_INFORMATION: "- 17 sheep\n- 3 times as many goats\n- 12 goats sold",
    Stage.PROGRAM: "sheep = 17\ngoats = sheep * 3\ndays = 7\nanswer = goats + 12 + 12",  # 75: the issue's
    Stage.STEPS: "17 sheep * 3 goats = 49 goats. 49 - 12 = 37. 17 + 37 = 54. The answer is 54.",
}


@pytest.fixture
def farmer(kpdd_home):
    window, backend = make_window(ScriptedBackend(FARMER_SCRIPT, delay_s=0.001))
    window.show()
    window.problem_card.edit.setPlainText(FARMER)
    window.problem_card.samples_spin.setValue(1)
    yield window
    close_window(window)


def solve(window):
    assert window.session.solve() is not None
    (result,) = wait_signal(window.solve_finished, 20)
    return result


def test_the_issues_wrong_answer_is_not_sure_and_the_right_one_is_not_called_wrong(farmer):
    result = solve(farmer)
    assert result.answer == 75.0
    # Not the confident style: plain type, an amber "Not sure", the reason in words, the hint path.
    assert (
        farmer.answer_card.answer_label.text() == "75" and not farmer.answer_card.answer_label.font().bold()
    )
    assert farmer.answer_card.verdict_badge.text() == "Not sure" and shown(farmer.answer_card.verdict_badge)
    assert farmer.answer_card.verdict_label.text().startswith(
        "Only one solution was written, so nothing checked it."
    )
    assert shown(farmer.answer_card.hint_path_button)
    # The program shows as worked steps a student reads; the unused `days = 7` is left out.
    text = farmer.solution_card.worked_view.toPlainText()
    assert "Goats = sheep × 3" in text and "= 17 × 3 = 51" in text and "Days" not in text
    assert "1 line(s) of the program are not needed" in text
    # Typing the right 56: the tutor does not claim the student is wrong.
    farmer.answer_card.check_edit.setText("56")
    farmer.answer_card.check_button.click()
    assert farmer.answer_card.correct is False
    assert (
        "differs from the tutor's answer, 75, but the tutor is not sure"
        in farmer.answer_card.check_label.text()
    )
    assert "Not quite" not in farmer.answer_card.check_label.text()
    # History marks it too.
    assert "check this one" in farmer.history_panel.list.item(0).text()


def test_the_hint_path_from_a_doubtful_answer(farmer):
    solve(farmer)
    farmer.answer_card.check_edit.setText("56")
    farmer.answer_card.check_button.click()
    assert "75" in farmer.answer_card.check_label.text()  # the solution is on screen: its answer is named
    farmer.answer_card.hint_path_button.click()
    assert "75" not in farmer.answer_card.check_label.text()  # hidden again for the hints: not given away
    assert farmer.session.hint is not None and farmer.answer_card.answer_label.text() == "?"
    assert farmer.stages.core.edit.toPlainText() == FARMER_SCRIPT[Stage.CORE_QUESTION]
    assert farmer.stages.key.edit.toPlainText() == "" and farmer.solution_card.worked_view.toPlainText() == ""
    assert farmer.problem_card.hint_button.text() == "Next &hint (2 of 6)"  # core, facts, three steps, answer
    assert not shown(farmer.answer_card.hint_path_button)


def test_false_arithmetic_in_the_steps_is_marked_in_place(farmer):
    farmer.problem_card.mode_combo.setCurrentIndex(1)  # Steps
    result = solve(farmer)
    assert result.answer == 54.0
    html = farmer.solution_card.steps_edit.toHtml()
    assert "line-through" in html and ">49<" in html and ">51<" in html
    assert (
        "A step gets its arithmetic wrong: 17 × 3 is 51, not 49." in farmer.answer_card.verdict_label.text()
    )
    assert farmer.answer_card.verdict_badge.text() == "Not sure"


def test_both_mode_agreeing_is_checked_and_history_says_so(kpdd_home):
    window, _ = make_window(ScriptedBackend(delay_s=0.001))
    window.show()
    try:
        window.problem_card.edit.setPlainText(PROBLEM)
        window.problem_card.mode_combo.setCurrentIndex(2)
        solve(window)
        assert (
            window.answer_card.verdict_badge.text() == "Checked"
            and window.answer_card.answer_label.font().bold()
        )
        assert "#1e7d3a" in window.answer_card.styleSheet()  # the confident edge, only when checked
        item = window.history_panel.list.item(0).text()
        assert "= 64  ·  checked  ·  Both  ·  " in item
    finally:
        close_window(window)


def test_both_mode_never_shows_an_impossible_answer(kpdd_home):
    muffins = "A bakery baked 160 muffins and sold 12 of them. How many muffins are left?"
    script = {
        **SCRIPT,
        Stage.PROGRAM: "left = 10 - 12\nanswer = left",
        Stage.STEPS: "160 - 12 = 148. The answer is 148.",
    }
    window, _ = make_window(ScriptedBackend(script, delay_s=0.001))
    window.show()
    try:
        window.problem_card.edit.setPlainText(muffins)
        window.problem_card.mode_combo.setCurrentIndex(2)
        result = solve(window)
        assert result.answer == 148.0 and window.answer_card.answer_label.text() == "148"
        assert (
            "The program and the worked steps give different answers."
            in window.answer_card.verdict_label.text()
        )
    finally:
        close_window(window)


def test_stop_says_stopped_not_no_answer(kpdd_home):
    window, _ = make_window(ScriptedBackend(delay_s=0.05))
    window.show()
    try:
        window.problem_card.edit.setPlainText(PROBLEM)
        window.session.solve()
        assert window.answer_card.verdict_badge.text() == "Solving..."
        wait_signal(window.first_token, 10)
        window.problem_card.stop_button.click()
        (result,) = wait_signal(window.solve_finished, 5)
        assert result.cancelled
        assert (
            window.answer_card.answer_label.text() == "Stopped"
            and not window.answer_card.answer_label.font().bold()
        )
        assert window.answer_card.verdict_label.text().startswith(
            "Solving was stopped before it found an answer."
        )
        assert not shown(window.answer_card.verdict_badge) and not shown(window.answer_card.hint_path_button)
        assert window.stages.core.edit.toPlainText()  # what streamed before Stop stays
    finally:
        close_window(window)


def test_no_answer_is_said_plainly(kpdd_home):
    window, _ = make_window(ScriptedBackend({**SCRIPT, Stage.PROGRAM: "answer = 6 * 14 / 0"}, delay_s=0.001))
    window.show()
    try:
        window.problem_card.edit.setPlainText(PROBLEM)
        window.problem_card.samples_spin.setValue(1)
        solve(window)
        assert window.answer_card.answer_label.text() == "No answer" and not shown(
            window.answer_card.verdict_badge
        )
        assert window.answer_card.verdict_label.text().startswith(
            "The model did not produce a usable answer. Try Steps or Both"
        )
        assert "no answer" in window.history_panel.list.item(0).text()
    finally:
        close_window(window)


def test_your_answer_is_cleared_for_another_problem(farmer):
    solve(farmer)
    farmer.answer_card.check_edit.setText("56")
    farmer.answer_card.check_button.click()
    assert farmer.answer_card.check_label.text()
    farmer.problem_card.edit.setPlainText(FARMER + " ")  # the same problem: the answer stays
    assert farmer.answer_card.check_edit.text() == "56"
    farmer.problem_card._sample_chosen(2)  # a sample problem
    assert farmer.answer_card.check_edit.text() == "" and farmer.answer_card.check_label.text() == ""
    assert farmer.answer_card.answer_label.text() == "" and not shown(farmer.answer_card.verdict_badge)
    # The cards held the last problem's stages: they are cleared for the new one.
    assert (
        farmer.stages.core.edit.toPlainText() == "" and farmer.solution_card.program_edit.toPlainText() == ""
    )


def _answer_colour(window) -> str:
    """The colour the program panel's highlighter gives the word `answer`."""
    block = window.solution_card.program_edit.document().firstBlock()
    while block.isValid():
        start = block.text().find("answer")
        for fmt in block.layout().formats() if start >= 0 else []:
            if fmt.start == start:
                return fmt.format.foreground().color().name()
        block = block.next()
    raise AssertionError("no highlighted `answer` in the program")


def test_the_theme_recolours_the_cards_and_the_verdict(farmer):
    from desktop import style
    from desktop.settings import DesktopSettings, apply_settings

    solve(farmer)
    assert style.LIGHT.window in farmer.styleSheet()
    assert _answer_colour(farmer) == style.LIGHT.syntax_answer
    try:
        apply_settings(DesktopSettings(theme="dark", language="en"))
        assert style.DARK.window in farmer.styleSheet() and style.LIGHT.window not in farmer.styleSheet()
        assert style.DARK.unsure_soft in farmer.answer_card.verdict_badge.styleSheet()
        assert farmer.answer_card.verdict_badge.text() == "Not sure"  # the result is shown again, not lost
        assert _answer_colour(farmer) == style.DARK.syntax_answer  # the program too
    finally:
        apply_settings(DesktopSettings(theme="light", language="en"))
    assert style.LIGHT.unsure_soft in farmer.answer_card.verdict_badge.styleSheet()
    assert _answer_colour(farmer) == style.LIGHT.syntax_answer


def test_batch_dialog_reads_a_list_per_line_and_reports_the_verdicts(kpdd_home, tmp_path):
    from desktop.batch_view import BatchDialog

    window, _ = make_window(ScriptedBackend(delay_s=0.001))
    try:
        problems = tmp_path / "week-3.txt"
        problems.write_text("\n".join(f"A farmer packs {n} baskets with 14 apples each. How many apples?"
                                      for n in range(1, 9)))  # fmt: skip
        dialog = BatchDialog(window.solver_thread, window)
        dialog.show()
        assert dialog.load(problems)
        assert dialog.file_label.text().startswith("Read 8 problems from week-3.txt")
        assert dialog.table.rowCount() == 8 and dialog.table.item(7, 1).text().startswith(
            "A farmer packs 8 baskets"
        )
        dialog.start_button.click()
        (outcome,) = wait_signal(dialog.batch_done, 60)
        assert outcome.complete
        assert [dialog.table.item(r, 3).text() for r in range(8)] == ["check this one"] * 8
        assert dialog.summary_label.text().startswith("0 of 8 answers checked. 8 to check by hand")
        dialog.view_combo.setCurrentIndex(1)  # the program itself on the sheet
        sheet = dialog.export_to(tmp_path / "sheet.md").read_text()
        assert "```python" in sheet and "(check this one)" in sheet
        dialog.detach()
    finally:
        close_window(window)


def test_a_damaged_model_file_is_reported_with_the_setup_command(kpdd_home, monkeypatch):
    """Issue 25, point 7: a pinned model whose bytes changed is refused at load, in the app too."""
    import hashlib

    from desktop.app import create_window
    from desktop.settings import DesktopSettings
    from kpdd import models, paths
    from tests.desktop_fixtures import qapp

    data = b"GGUF" + bytes(range(256)) * 1024
    paths.models_dir().mkdir(parents=True)
    path = paths.models_dir() / "tiny.gguf"
    path.write_bytes(data[:1000] + b"\xff" * 64 + data[1064:])  # damaged in the middle, same size
    source = models.ModelSource(name="Tiny", file_name="tiny.gguf", sha256=hashlib.sha256(data).hexdigest(),
                                size=len(data), license="Apache-2.0", parts=())  # fmt: skip
    monkeypatch.setitem(models.BASE_MODELS, "tiny.gguf", source)
    qapp()
    window = create_window(DesktopSettings(language="en"))
    window.solver_thread.worker.entry_provider = lambda: models.ModelEntry(name="Tiny", path=path)
    window.show()
    try:
        window.problem_card.edit.setPlainText(PROBLEM)
        window.session.solve()
        title, text = wait_signal(window.message_shown, 30)
        assert title == "The model could not be loaded"
        assert "tiny.gguf is damaged" in text and "Run `kpdd setup` again" in text
    finally:
        close_window(window)

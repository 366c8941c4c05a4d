"""The tutor session without Qt: what a solve is, on the real solver, sandbox and history, with the
scripted backend. Requests run inline through `desktop.solve_request.solve_request`, the function
the app's worker thread calls; what the window would draw is read from the session's state and the
changes it told."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from desktop.session import Answer, Change, Notice, Panels, Student, TutorSession
from desktop.solve_request import RequestFailed, SolveRequest, solve_request
from kpdd.format import Stage
from kpdd.history import HistoryStore
from kpdd.result import StageEvent
from kpdd.solver import Solver
from tests.scripted_backend import PROBLEM, SCRIPT, ScriptedBackend

ROOT = Path(__file__).resolve().parents[1]


class InlineWorker:
    """Runs the session's requests when told to (`run`), as the worker thread would: queued first."""

    def __init__(self, solver: Solver) -> None:
        self.solver = solver
        self.pending: list[SolveRequest] = []
        self.next_id = 0
        self.session: TutorSession | None = None
        self.on_event: Callable[[StageEvent], None] = lambda event: None  # a test's look at each event

    def submit(self, request: SolveRequest) -> None:
        self.next_id += 1
        request.request_id = self.next_id
        self.pending.append(request)

    def run(self) -> None:
        session = self.session
        assert session is not None
        while self.pending:
            request = self.pending.pop(0)
            if request.cancel.cancelled:
                session.on_failed(request.request_id, "cancelled")
                continue

            def on_event(event: StageEvent, request: SolveRequest = request) -> None:
                session.on_event(request.request_id, event)
                self.on_event(event)

            try:
                result = solve_request(self.solver, request, on_event)
            except RequestFailed as exc:
                session.on_failed(request.request_id, str(exc))
                continue
            session.on_finished(request.request_id, result)
            names = self.solver.step_names(result)  # then names for a Chinese program, as the worker does
            if names and not result.cancelled:
                session.on_named(request.request_id, names)


def make_session(
    tmp_path: Path, backend: ScriptedBackend | None = None, second: ScriptedBackend | None = None
):
    second_solver = Solver(second) if second is not None else None
    worker = InlineWorker(Solver(backend or ScriptedBackend(delay_s=0), second_opinion=second_solver))
    session = TutorSession(HistoryStore(tmp_path / "history.db"), worker.submit)
    worker.session = session
    told: list[tuple[Change, object]] = []
    session.listeners.append(lambda change, data: told.append((change, data)))
    if second is not None:
        session.second_model_ready(second.info.name)
    return session, worker, told


def streamed(told: list, stage: Stage) -> str:
    return "".join(data[1] for change, data in told if change == Change.STAGE_TEXT and data[0] == stage)


def test_the_session_imports_no_qt():
    code = "import sys, desktop.session; sys.exit(any(m.startswith('PySide6') for m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


def test_a_solve_streams_each_stage_then_shows_and_saves_the_result(tmp_path):
    session, worker, told = make_session(tmp_path)
    assert session.solve() is None  # nothing to solve yet
    session.set_problem(PROBLEM)
    request = session.solve()
    assert request is not None and session.busy and session.answer == Answer.SOLVING
    assert session.solve() is None  # one solve at a time
    worker.run()
    assert not session.busy
    for stage in (Stage.CORE_QUESTION, Stage.KEY_INFORMATION, Stage.PROGRAM):
        assert streamed(told, stage) == SCRIPT[stage]
    started = [data for change, data in told if change == Change.STAGE_STARTED]
    assert started == [Stage.CORE_QUESTION, Stage.KEY_INFORMATION, Stage.PROGRAM]
    assert any(change == Change.PROGRAM_RAN and data.answer == 64 for change, data in told)
    assert session.result is not None and session.result.answer == 64
    assert (session.panels, session.answer) == (Panels.RESULT, Answer.SHOWN)
    assert session.notice is not None and session.notice[0] == Notice.SOLVED
    assert [entry.answer for entry in session.history.search("apples")] == [64]
    assert told[-1] == (Change.FINISHED, session.result)


def test_stop_while_queued_is_immediate_and_the_late_answer_is_ignored(tmp_path):
    session, worker, told = make_session(tmp_path)
    session.set_problem(PROBLEM)
    session.solve()
    session.stop()  # the worker has not begun it (behind a batch or a model load)
    assert not session.busy and session.answer == Answer.STOPPED
    assert session.notice == (Notice.STOPPED, ())
    assert told[-1] == (Change.FINISHED, None)
    worker.run()  # the worker drops it; its late answer carries a stale id
    assert session.answer == Answer.STOPPED and session.result is None
    assert session.history.search("apples") == []


def test_a_late_answer_to_an_earlier_solve_is_not_drawn(tmp_path):
    session, worker, _ = make_session(tmp_path)
    session.set_problem(PROBLEM)
    first = session.solve()
    session.stop()  # still queued: over at once
    session.solve()  # the student solves again before the worker got to the first
    late = solve_request(worker.solver, SolveRequest(PROBLEM), lambda event: None)
    session.on_finished(first.request_id, late)  # the first request's answer, arriving now
    assert session.busy and session.result is None and session.answer == Answer.SOLVING
    worker.run()
    assert session.result is not None and session.result is not late and not session.busy


def test_stop_while_streaming_keeps_what_streamed_and_saves_nothing(tmp_path):
    session, worker, told = make_session(tmp_path)
    session.set_problem(PROBLEM)
    session.solve()
    worker.on_event = lambda event: event.stage == Stage.KEY_INFORMATION and session.stop()
    worker.run()
    assert (session.panels, session.answer) == (Panels.STOPPED, Answer.STOPPED)
    assert session.notice == (Notice.STOPPED, ())
    assert streamed(told, Stage.CORE_QUESTION) == SCRIPT[Stage.CORE_QUESTION]
    assert streamed(told, Stage.PROGRAM) == ""
    assert session.result is None and session.history.search("apples") == []


def test_hints_solve_out_of_sight_then_reveal_one_part_at_a_time(tmp_path):
    session, worker, told = make_session(tmp_path)
    session.set_problem(PROBLEM)
    session.next_hint()
    assert session.panels == Panels.MASKED
    worker.run()
    assert not any(change == Change.STAGE_TEXT for change, _ in told)  # nothing streamed into view
    hint = session.hint
    assert hint is not None and session.panels == Panels.HINT
    assert hint.shown("core_question") == [SCRIPT[Stage.CORE_QUESTION]] and hint.shown("step") == []
    assert session.answer == Answer.HIDDEN
    steps = sum(1 for part, _ in hint.sequence if part == "step")
    assert steps >= 2  # the program's worked steps, one hint each
    for _ in range(1 + steps):  # the key information, then each step
        session.next_hint()
        assert session.answer == Answer.HIDDEN
    session.next_hint()  # the answer
    assert hint.finished and session.answer == Answer.SHOWN
    assert len(hint.shown("step")) == steps


def test_checking_the_students_answer_solves_without_giving_the_answer_away(tmp_path):
    session, worker, _ = make_session(tmp_path)
    session.set_problem(PROBLEM)
    session.check_answer("  ")
    assert session.student == Student.TYPE_FIRST and not session.busy
    session.check_answer("64 apples")
    assert session.student == Student.SOLVING and session.panels == Panels.MASKED
    worker.run()
    assert (session.student, session.answer, session.panels) == (
        Student.VERDICT,
        Answer.HIDDEN,
        Panels.HIDDEN,
    )
    session.reveal_all()
    assert (session.answer, session.panels) == (Answer.SHOWN, Panels.RESULT)
    # The verdict is on what was checked: typing on does not re-judge it until Check is pressed.
    session.answer_typed("65")
    assert session.checked_answer == "64 apples" and session.student == Student.VERDICT
    # Another problem: the typed answer belonged to the last one, and so did the cards.
    session.set_problem("Tom has 3 boxes of 5 pens. How many pens does he have?")
    assert session.typed_answer == "" and session.student == Student.NONE
    assert (session.panels, session.answer, session.notice) == (Panels.EMPTY, Answer.EMPTY, None)


def test_solving_again_from_an_edited_core_question_keeps_it(tmp_path):
    backend = ScriptedBackend(delay_s=0)
    session, worker, told = make_session(tmp_path, backend)
    session.set_problem(PROBLEM)
    session.solve()
    worker.run()
    assert session.solve_from_core_question("   ") is None
    told.clear()
    edited = "How many apples are left after he gives 20 away?"
    request = session.solve_from_core_question(edited)
    assert request is not None and request.core_question == edited
    worker.run()
    assert streamed(told, Stage.CORE_QUESTION) == ""  # the student's question is not overwritten
    assert streamed(told, Stage.KEY_INFORMATION) == SCRIPT[Stage.KEY_INFORMATION]
    assert edited in backend.prompts[-1]
    assert session.result is not None and session.result.core_question == edited


def test_a_history_entry_reopens_with_its_mode(tmp_path):
    session, worker, told = make_session(tmp_path)
    session.set_problem(PROBLEM)
    session.set_mode("both")
    session.solve()
    worker.run()
    entry = session.history.search("apples")[0]
    session.set_mode("pot")
    session.set_problem("Another problem entirely: 2 + 2?")
    assert session.panels == Panels.EMPTY
    told.clear()
    session.reopen(entry)
    assert session.problem == PROBLEM and session.mode == "both"
    assert (Change.PROBLEM, None) in told and (Change.MODE, None) in told
    assert (session.panels, session.answer) == (Panels.RESULT, Answer.SHOWN)
    assert session.notice == (Notice.REOPENED, ())
    assert session.result_history_id == entry.id


def test_a_chinese_problem_shows_its_steps_in_chinese_again_when_reopened(tmp_path):
    from desktop.session import worked_of

    session, worker, told = make_session(tmp_path)
    session.set_problem("一个农民有6篮苹果，每篮14个。他送出了20个苹果。他还剩多少个苹果？")
    session.solve()
    worker.run()
    finished = [i for i, (change, _) in enumerate(told) if change == Change.FINISHED]
    redrawn = [i for i, (change, _) in enumerate(told) if change == Change.PANELS]
    assert redrawn[-1] > finished[-1]  # the answer first, the names after: drawn again
    labels = [step.label for step in worked_of(session.result).steps]
    assert labels == ["苹果总数", "送出的苹果", "答案"]
    entry = session.history.search("苹果")[0]
    session.set_problem(PROBLEM)
    session.reopen(entry)  # the names were saved with the entry: no model is asked again
    assert [step.label for step in worked_of(session.result).steps] == labels


def test_names_for_an_answer_no_longer_shown_are_dropped(tmp_path):
    from desktop.session import worked_of

    session, worker, _ = make_session(tmp_path)
    session.set_problem("一个农民有6篮苹果，每篮14个。他送出了20个苹果。他还剩多少个苹果？")
    request = session.solve()
    worker.pending.clear()
    session.on_finished(request.request_id, solve_request(worker.solver, request, lambda event: None))
    session.set_problem(PROBLEM)
    session.solve()
    worker.run()  # another answer is on show now
    session.on_named(request.request_id, {"apples": "苹果总数", "given_away": "送出的苹果", "answer": "答案"})
    assert [step.label for step in worked_of(session.result).steps] == ["Apples", "Given away", "Answer"]


def test_the_second_model_checks_a_doubtful_answer_and_history_keeps_one_entry(tmp_path):
    teacher = ScriptedBackend(delay_s=0, name="teacher")
    session, worker, _ = make_session(tmp_path, second=teacher)
    session.set_problem(PROBLEM)
    session.solve()
    worker.run()
    assert session.can_check_with_second_model()  # one program: nothing checked it
    first_id = session.result_history_id
    request = session.check_with_second_model()
    assert request is not None and session.answer == Answer.CHECKING
    assert session.checking is not None and session.checking[1] == "teacher"
    worker.run()
    assert session.answer == Answer.SHOWN and session.result.second_opinion == "teacher"
    assert session.notice is not None and session.notice[0] == Notice.CHECKED
    assert not session.can_check_with_second_model()  # checked once
    assert session.result_history_id == first_id and len(session.history.search("apples")) == 1


def test_a_check_without_a_second_model_says_so_and_keeps_the_answer(tmp_path):
    session, worker, _ = make_session(tmp_path)
    session.set_problem(PROBLEM)
    session.solve()
    worker.run()
    shown = session.result
    session.second_model = "teacher"  # loaded when asked, gone by the time the worker looks
    assert session.check_with_second_model() is not None
    worker.run()
    assert session.notice == (Notice.NO_SECOND_MODEL, ())
    assert session.answer == Answer.SHOWN and session.result is shown


@pytest.mark.parametrize("allowed", [True, False])
def test_programs_off_here_switch_to_steps(tmp_path, allowed):
    from kpdd.sandbox import Protection

    session, _, told = make_session(tmp_path)
    protection = Protection(protected=False, allowed=allowed)
    session.protection_known(protection)
    assert session.programs_allowed() is allowed
    assert session.mode == ("pot" if allowed else "cot")
    assert ((Change.MODE, None) in told) is not allowed


def test_another_problem_clears_a_verdict_even_when_the_box_was_emptied(tmp_path):
    session, worker, _ = make_session(tmp_path)
    session.set_problem(PROBLEM)
    session.check_answer("64")
    worker.run()
    session.answer_typed("")  # the student empties the box, then moves on
    session.set_problem("Tom has 3 boxes of 5 pens. How many pens does he have?")
    assert session.student == Student.NONE and session.checked_answer == ""


def test_a_stopped_check_says_nothing_more_about_the_students_answer(tmp_path):
    session, worker, _ = make_session(tmp_path)
    session.set_problem(PROBLEM)
    session.check_answer("64")
    assert session.student == Student.SOLVING
    session.stop()
    assert session.student == Student.NONE and session.answer == Answer.STOPPED

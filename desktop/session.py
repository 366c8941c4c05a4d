"""The tutor session: what a solve is, in plain Python (no Qt), so it is tested without a screen.

The session owns the problem, the mode, solving and stopping, the second model's check, hints stage
by stage, editing a stage and solving again, checking the student's answer and saving to history.
It hands requests to `submit` (the worker thread in the app, an inline runner in tests), takes the
worker's events back (`on_event`, `on_finished`, `on_failed`) and tells its listeners what changed
(a `Change`); the window and its cards (desktop/cards/) draw it from the session's state.

What the cards show follows from a few states: `panels` (the stage and solution cards), `answer`
(the answer card), `notice` (the line beside Solve) and `student` (the student's own answer).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from desktop.solve_request import SolveRequest
from kpdd.answers import format_answer
from kpdd.format import Mode, Stage, normalize_problem
from kpdd.history import HistoryStore
from kpdd.models import resources_dir
from kpdd.result import SolveResult, StageEvent
from kpdd.verdict import Level, judge
from kpdd.worked import WorkedSolution, worked_steps

# "Open file..." reads at most this much: a solve uses the first MAX_PROBLEM_CHARS characters anyway,
# and a large file picked by mistake must not be loaded into the editor on the UI thread.
MAX_PROBLEM_FILE_BYTES = 100_000


class Change(StrEnum):
    """What a listener is told changed (with the data named, where there is some)."""

    PROBLEM = "problem"  # the problem text (a history entry reopened)
    MODE = "mode"  # the mode (a history entry, or programs turned off)
    MODEL = "model"  # model_state, model_name, second_model
    PROTECTION = "protection"  # whether programs may run here
    PANELS = "panels"  # the stage and solution cards: drawn again from `panels`
    STAGE_STARTED = "stage_started"  # data: the Stage now streaming
    STAGE_TEXT = "stage_text"  # data: (Stage, text) streamed
    PROGRAM_RAN = "program_ran"  # data: the program's kpdd.result.Solution
    ANSWER = "answer"  # the answer card: drawn again from `answer`
    NOTICE = "notice"  # the line beside Solve: `notice`
    STUDENT = "student"  # the student's own answer: `typed_answer`, `checked_answer`, `student`
    STATE = "state"  # which actions are open (busy, result, hints)
    HISTORY = "history"  # a result was saved
    FIRST_TOKEN = "first_token"  # the model's first words of a solve
    SOLVE_STARTED = "solve_started"  # data: the SolveRequest
    FINISHED = "finished"  # data: the SolveResult, or None when there is none


class Panels(StrEnum):
    EMPTY = "empty"  # nothing (another problem, or nothing solved yet)
    STREAMING = "streaming"  # a solve writes into them (the stages a re-solve keeps stay)
    MASKED = "masked"  # a solve for hints or a check runs behind them
    STOPPED = "stopped"  # what streamed stays; `stopped_result` says whether a program ran
    RESULT = "result"  # the whole result
    HINT = "hint"  # the parts `hint` has revealed
    HIDDEN = "hidden"  # solved, kept out of sight while the student works (after a check)


class Answer(StrEnum):
    EMPTY = "empty"
    SOLVING = "solving"
    CHECKING = "checking"  # the first model's answer while the second model checks it (`checking`)
    SHOWN = "shown"
    HIDDEN = "hidden"
    STOPPED = "stopped"


class Student(StrEnum):
    NONE = "none"
    TYPE_FIRST = "type_first"  # Check pressed with nothing typed
    SOLVING = "solving"  # the tutor solves the problem to check the typed answer
    VERDICT = "verdict"  # the typed answer against the result


class Notice(StrEnum):
    SOLVING = "solving"
    STOPPING = "stopping"
    STOPPED = "stopped"
    SOLVED = "solved"  # args: seconds
    MODEL_ERROR = "model_error"  # args: the error
    NO_ANSWER = "no_answer"
    CHECK_STOPPED = "check_stopped"  # the answer is as it was
    CHECK_STOPPED_UNCHECKED = "check_stopped_unchecked"  # the first answer stands, unchecked
    SECOND_ERROR = "second_error"  # args: the error
    CHECKING = "checking"  # args: the second model
    DOUBTFUL = "doubtful"  # args: the second model, asked because the answer looks doubtful
    RECHECK = "recheck"  # args: how many solutions more
    CHECKED = "checked"  # args: the second model, seconds it took
    NO_SECOND_MODEL = "no_second_model"
    WENT_WRONG = "went_wrong"  # args: the message
    REOPENED = "reopened"


def solution_steps(result: SolveResult) -> list[str]:
    """The solution cut into steps for hint mode: a program's worked steps (its lines when it did not
    run), or the sentences/lines of the steps."""
    if result.program:
        worked = worked_of(result)
        if worked.ran and worked.steps:
            return [step.text() for step in worked.steps]
        return [line for line in result.program.splitlines() if line.strip()]
    steps: list[str] = []
    for line in result.steps.splitlines():
        steps += [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9])", line) if s.strip()]
    return steps


def worked_of(result: SolveResult | None) -> WorkedSolution:
    """The shown program of a result as worked steps (none when it has no program that ran)."""
    program = result.shown_solution(Mode.POT) if result is not None else None
    if program is None or program.answer is None:
        return WorkedSolution()
    return worked_steps(program.text, names=program.names)


@dataclass
class HintState:
    """Hint mode: core question, then key information, then the solution one step at a time, then the answer."""

    result: SolveResult
    revealed: int = 0  # how many of `sequence` are shown
    sequence: list[tuple[str, str]] = field(default_factory=list)  # (part, text)

    def __post_init__(self) -> None:
        r = self.result
        self.sequence = [
            ("core_question", r.core_question),
            ("key_information", "\n".join(r.key_information)),
        ]
        self.sequence += [("step", step) for step in solution_steps(r)]
        self.sequence.append(("answer", format_answer(r.answer) if r.answer is not None else ""))

    @property
    def finished(self) -> bool:
        return self.revealed >= len(self.sequence)

    def next(self) -> tuple[str, str] | None:
        if self.finished:
            return None
        self.revealed += 1
        return self.sequence[self.revealed - 1]

    def shown(self, part: str) -> list[str]:
        return [text for p, text in self.sequence[: self.revealed] if p == part]

    @property
    def answer_shown(self) -> bool:
        return any(p == "answer" for p, _ in self.sequence[: self.revealed])


class ProblemFileError(Exception):
    """A file that is not a word problem. `reason`: "folder" | "not_text" | "unreadable"; `detail`: the
    OS's words for an unreadable one."""

    def __init__(self, reason: str, name: str, detail: str = "") -> None:
        super().__init__(f"{name}: {reason} {detail}".strip())
        self.reason, self.name, self.detail = reason, name, detail


def read_problem_file(path: str | Path) -> str:
    """A text file's problem. A file picked by mistake (a video, a scan, a folder) raises
    ProblemFileError; it is never read whole."""
    path = Path(path)
    if path.is_dir():
        raise ProblemFileError("folder", path.name)
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(MAX_PROBLEM_FILE_BYTES + 1)
    except OSError as exc:
        raise ProblemFileError("unreadable", path.name, exc.strerror or str(exc)) from exc
    if size > MAX_PROBLEM_FILE_BYTES or b"\0" in head:
        raise ProblemFileError("not_text", path.name)
    return head.decode("utf-8-sig", errors="replace").strip()


def load_samples() -> list[dict[str, str]]:
    """Sample problems from resources/samples/problems.jsonl (written for this project)."""
    path = resources_dir() / "samples" / "problems.jsonl"
    samples = []
    try:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                samples.append({"title": item.get("title", ""), "question": item["question"]})
    except (OSError, ValueError, KeyError):
        pass
    return samples


Listener = Callable[[Change, Any], None]


class TutorSession:
    """One student's work on one problem at a time. Call from one thread (the UI thread in the app)."""

    def __init__(self, history: HistoryStore, submit: Callable[[SolveRequest], Any], mode: str = "pot",
                 samples: int = 1) -> None:  # fmt: skip
        self.history = history
        self.submit = submit  # hands a request to the worker; its events come back through on_*
        self.listeners: list[Listener] = []
        self.problem = ""  # the problem as typed
        self.mode, self.samples = mode, samples
        self.request: SolveRequest | None = None  # the request running (None: idle)
        self.result: SolveResult | None = None  # the result shown (or hidden in hint/check mode)
        self.result_problem = ""  # the normalized problem `result` belongs to
        self.result_history_id: int | None = None  # the history entry `result` is saved as
        # The last request answered and its result: names for its steps may follow (on_named).
        self.finished_request_id = 0
        self.finished_result: SolveResult | None = None
        self.hint: HintState | None = None
        self.panels = Panels.EMPTY
        self.stopped_result: SolveResult | None = None  # what a stopped solve left (Panels.STOPPED)
        self.answer = Answer.EMPTY
        self.checking: tuple[SolveResult, str] | None = None  # (first result, the model checking it)
        self.notice: tuple[Notice, tuple[Any, ...]] | None = None
        self.typed_answer = ""  # what the "Your answer" box holds
        self.checked_answer = ""  # what it held when Check was pressed: the verdict is on this
        self.student = Student.NONE
        self.check_problem = ""  # the normalized problem the typed answer belongs to
        self.shown_problem = ""  # the normalized problem the stage cards belong to ("" when empty)
        self.model_state = "idle"  # idle | loading | ready | missing | corrupt
        self.model_name = ""
        self.second_model = ""  # the model that can check an answer ("" when none is loaded)
        self.protection: Any = None  # kpdd.sandbox.Protection, once the worker has looked
        self.first_token_seen = False
        self.request_started = False  # an event came: the worker has begun the request

    # -- telling ------------------------------------------------------------------------------

    def _tell(self, change: Change, data: Any = None) -> None:
        for listener in list(self.listeners):
            listener(change, data)

    def _show_answer(self, answer: Answer) -> None:
        self.answer = answer
        self._tell(Change.ANSWER)

    def _show_panels(self, panels: Panels) -> None:
        self.panels = panels
        self._tell(Change.PANELS)

    def _say(self, notice: Notice | None, *args: Any) -> None:
        self.notice = (notice, args) if notice is not None else None
        self._tell(Change.NOTICE)

    def _set_student(self, student: Student) -> None:
        self.student = student
        self._tell(Change.STUDENT)

    # -- what holds ---------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self.request is not None

    def has_result_for_problem(self) -> bool:
        return self.result is not None and self.result_problem == normalize_problem(self.problem)

    def can_check_with_second_model(self) -> bool:
        """A "not sure" answer on show that the loaded second model has not checked yet."""
        result = self.result
        if not self.second_model or self.busy or result is None or self.answer != Answer.SHOWN:
            return False
        if result.second_opinion or result.answer is None or not self.has_result_for_problem():
            return False
        return judge(result).level == Level.NOT_SURE

    def programs_allowed(self) -> bool:
        return self.protection is None or self.protection.allowed

    # -- input --------------------------------------------------------------------------------

    def set_problem(self, text: str) -> None:
        """The problem box changed (typed, a sample, a file, a history entry)."""
        self.problem = text
        if not self.busy and self.hint is not None and not self.has_result_for_problem():
            self.hint = None
        current = normalize_problem(text)
        if (self.typed_answer or self.student != Student.NONE) and current != self.check_problem:
            # "Your answer" belongs to one problem: another problem starts with an empty box.
            self.typed_answer = self.checked_answer = ""
            self._set_student(Student.NONE)
        if not self.busy and self.shown_problem and current != self.shown_problem:
            # Another problem: what is on screen belongs to the last one.
            self.shown_problem = ""
            self.hint = None
            self._show_panels(Panels.EMPTY)
            self._say(None)
            self._show_answer(Answer.EMPTY)
        self._tell(Change.STATE)

    def set_mode(self, mode: str, samples: int | None = None) -> None:
        """The mode (and sample count) the next solve uses."""
        changed = mode != self.mode
        self.mode = mode
        self.samples = self.samples if samples is None else samples
        if changed:
            self._tell(Change.MODE)

    def answer_typed(self, text: str) -> None:
        self.typed_answer = text
        self.check_problem = normalize_problem(self.problem)

    # -- solving ------------------------------------------------------------------------------

    def solve(self, core_question: str | None = None, key_information: str | None = None,
              purpose: str = "show") -> SolveRequest | None:  # fmt: skip
        """Start a solve; stages given are kept (solving again from an edited stage)."""
        if self.busy or not self.problem.strip():
            return None
        self.request = SolveRequest(problem=self.problem, mode=self.mode, samples=self.samples,
                                    core_question=core_question, key_information=key_information,
                                    purpose=purpose)  # fmt: skip
        self._tell(Change.SOLVE_STARTED, self.request)
        self.hint = None if purpose != "hint" else self.hint
        self.first_token_seen = self.request_started = False
        self._set_student(Student.NONE)
        self._show_panels(Panels.STREAMING if purpose == "show" else Panels.MASKED)
        self._show_answer(Answer.SOLVING)
        self.shown_problem = normalize_problem(self.problem)
        self._say(Notice.SOLVING)
        self._tell(Change.STATE)
        self.submit(self.request)
        return self.request

    def solve_from_core_question(self, core_question: str) -> SolveRequest | None:
        return self.solve(core_question=core_question.strip()) if core_question.strip() else None

    def solve_from_key_information(self, core_question: str, key_information: str) -> SolveRequest | None:
        if not (core_question.strip() and key_information.strip()):
            return None
        return self.solve(core_question=core_question.strip(), key_information=key_information.strip())

    def stop(self) -> None:
        request = self.request
        if request is None:
            return
        request.cancel.cancel()
        self._say(Notice.STOPPING)
        if self.request_started:
            return  # the worker answers with a cancelled result within a fraction of a second
        # Still queued (behind a batch or a model load): nothing to wait for. The worker drops the
        # cancelled request when it gets to it; its late signals carry a stale id.
        self.request = None
        if request.to_check is not None:
            self._say(Notice.CHECK_STOPPED)
            self._show_answer(Answer.SHOWN)
        else:
            self._say(Notice.STOPPED)
            self.stopped_result = None
            self._show_panels(Panels.STOPPED)
            self._show_answer(Answer.STOPPED)
            self._solve_ended_without_result(request)
        self._tell(Change.STATE)
        self._tell(Change.FINISHED, None)

    def check_with_second_model(self) -> SolveRequest | None:
        """Have the second model solve the problem too, to check the answer shown: its answer joins
        the vote and the verdict is worked out again (what checking every answer does for each)."""
        if not self.can_check_with_second_model():
            return None
        first = self.result
        assert first is not None
        self.request = SolveRequest(problem=first.problem, mode=first.mode.value, to_check=first)
        self.first_token_seen = self.request_started = False
        self._say(Notice.CHECKING, self.second_model)
        self.checking = (first, self.second_model)
        self._show_answer(Answer.CHECKING)
        self._tell(Change.STATE)
        self.submit(self.request)
        return self.request

    # -- the worker's answers -----------------------------------------------------------------

    def _current(self, request_id: int) -> bool:
        return self.request is not None and request_id == self.request.request_id

    def on_event(self, request_id: int, event: StageEvent) -> None:
        if not self._current(request_id):
            return
        request = self.request
        assert request is not None
        self.request_started = True
        if event.kind == "text" and event.text.strip() and not self.first_token_seen:
            self.first_token_seen = True
            self._tell(Change.FIRST_TOKEN)
        if request.purpose != "show":
            return  # hints and checks solve out of sight
        stage = event.stage
        kept = {Stage.CORE_QUESTION: request.core_question is not None,
                Stage.KEY_INFORMATION: request.key_information is not None}  # fmt: skip
        if event.kind == "stage_start" and not kept.get(stage, False):
            self._tell(Change.STAGE_STARTED, stage)
        elif event.kind == "text" and stage is not None and not kept.get(stage, False):
            self._tell(Change.STAGE_TEXT, (stage, event.text))
        elif event.kind == "second_opinion" and getattr(event.data, "every_answer", False):
            self._say(Notice.CHECKING, event.text)
            if event.data.first.answer is not None:
                self.checking = (event.data.first, event.text)
                self._show_answer(Answer.CHECKING)
        elif event.kind == "second_opinion":
            self._say(Notice.DOUBTFUL, event.text)
        elif event.kind == "recheck":
            self._say(Notice.RECHECK, event.data - 1)
        elif event.kind == "program_result":
            self._tell(Change.PROGRAM_RAN, event.data)

    def on_finished(self, request_id: int, result: SolveResult) -> None:
        if not self._current(request_id):
            return
        request, self.request = self.request, None
        assert request is not None
        self.finished_request_id, self.finished_result = request_id, result
        if request.to_check is not None:
            self._check_finished(request.to_check, result)
        elif result.cancelled:
            self._say(Notice.STOPPED)
            self.stopped_result = result  # what streamed stays on screen; the answer says Stopped
            self._show_panels(Panels.STOPPED)
            self._show_answer(Answer.STOPPED)
            self._solve_ended_without_result(request)
        else:
            self._say(*self._finished_notice(request, result))
            self.result, self.result_problem = result, normalize_problem(request.problem)
            self.result_history_id = None
            if result.solutions or result.core_question:
                self.result_history_id = self.history.add(result)
                self._tell(Change.HISTORY)
            if request.purpose == "hint":
                self.hint = HintState(result)
                self.next_hint()
            elif request.purpose == "check":
                self._show_panels(Panels.HIDDEN)
                self._show_answer(Answer.HIDDEN)
                self._set_student(Student.VERDICT)
            else:
                self._show_result()
        self._tell(Change.STATE)
        self._tell(Change.FINISHED, result)

    def on_named(self, request_id: int, names: dict[str, str]) -> None:
        """Chinese names for the shown program's worked steps arrived (after the answer): drawn, and
        saved with the history entry. Names for an answer no longer on show are dropped."""
        program = self.result.shown_solution(Mode.POT) if self.result is not None else None
        if (request_id != self.finished_request_id or self.result is not self.finished_result
                or self.request is not None or program is None):  # fmt: skip
            return
        program.names = dict(names)
        if self.result_history_id is not None:
            self.history.replace(self.result_history_id, self.result)
        if self.panels in (Panels.RESULT, Panels.HINT):
            self._tell(Change.PANELS)

    @staticmethod
    def _finished_notice(
        request: SolveRequest, result: SolveResult
    ) -> tuple[Notice, ...] | tuple[Notice, Any]:
        if result.error:
            return Notice.MODEL_ERROR, result.error
        if result.answer is None:
            return (Notice.NO_ANSWER,)
        if request.cancel.cancelled and result.first_answer_seconds is not None and not result.second_opinion:
            return (Notice.CHECK_STOPPED_UNCHECKED,)  # stopped while the second model checked it
        return Notice.SOLVED, result.seconds

    def _check_finished(self, first: SolveResult, result: SolveResult) -> None:
        """A second model's check is over: the checked result replaces the shown one (in history
        too); stopped or failed, the answer stays as it was."""
        if result.cancelled or result.error:
            self._say(*((Notice.CHECK_STOPPED,) if result.cancelled else (Notice.SECOND_ERROR, result.error)))
            self._show_answer(Answer.SHOWN)
            return
        self.result = result
        if self.result_history_id is None or not self.history.replace(self.result_history_id, result):
            self.result_history_id = self.history.add(result)
        self._tell(Change.HISTORY)
        self._show_result()
        self._say(Notice.CHECKED, result.second_opinion, result.seconds - first.seconds)

    def on_failed(self, request_id: int, message: str) -> None:
        if not self._current(request_id):
            return
        request, self.request = self.request, None
        assert request is not None
        if message == "no second model":
            self._say(Notice.NO_SECOND_MODEL)
        else:
            self._say(None if message in ("no model", "cancelled") else Notice.WENT_WRONG, message)
        if request.to_check is not None:  # the answer a check was asked about stays on show
            self._show_answer(Answer.SHOWN)
        else:
            self.stopped_result = None
            self._show_panels(Panels.STOPPED)
            self._show_answer(Answer.EMPTY)
            self._solve_ended_without_result(request)
        self._tell(Change.STATE)
        self._tell(Change.FINISHED, None)

    def _solve_ended_without_result(self, request: SolveRequest) -> None:
        """A solve for "Check my answer" stopped or failed: its "solving to check" line goes."""
        if request.purpose == "check" and self.student == Student.SOLVING:
            self._set_student(Student.NONE)

    def _show_result(self) -> None:
        assert self.result is not None
        self.hint = None
        self.shown_problem = normalize_problem(self.result.problem)
        self._show_panels(Panels.RESULT)
        self._show_answer(Answer.SHOWN)

    # -- tutoring -----------------------------------------------------------------------------

    def start_hints(self) -> None:
        """The way on from a doubtful answer: hide it and walk through the solution step by step."""
        if self.busy or not self.has_result_for_problem():
            return
        self.hint = None
        self.next_hint()

    def next_hint(self) -> None:
        """Reveal the next part: core question, key information, each solution step, the answer."""
        if self.busy or not self.problem.strip():
            return
        if not self.has_result_for_problem():
            self.hint = None
            self.solve(purpose="hint")
            return
        assert self.result is not None
        if self.hint is None:
            self.hint = HintState(self.result)
        self.hint.next()
        self._show_panels(Panels.HINT)
        self._show_answer(Answer.SHOWN if self.hint.answer_shown else Answer.HIDDEN)
        self._tell(Change.STATE)

    def reveal_all(self) -> None:
        if self.result is not None and not self.busy:
            self._show_result()
            self._tell(Change.STATE)

    def check_answer(self, typed: str) -> None:
        """Check the student's own answer: against the result when there is one for this problem,
        else after solving it out of sight."""
        self.typed_answer = self.checked_answer = typed
        if not typed.strip():
            self._set_student(Student.TYPE_FIRST)
            return
        self.check_problem = normalize_problem(self.problem)
        if self.has_result_for_problem():
            self._set_student(Student.VERDICT)
            return
        if self.busy or not self.problem.strip():
            return
        self.solve(purpose="check")
        self._set_student(Student.SOLVING)

    def reopen(self, entry: Any) -> None:  # a kpdd.history.HistoryEntry
        if self.busy:
            return
        result = SolveResult.from_dict(entry.result)
        self.set_problem(result.problem)
        self._tell(Change.PROBLEM)
        if self.programs_allowed() or result.mode == Mode.COT:  # else Steps stays: Program is off here
            self.set_mode(result.mode.value)
        self.result, self.result_problem = result, normalize_problem(result.problem)
        self.result_history_id = entry.id
        self._show_result()
        self._say(Notice.REOPENED)
        self._tell(Change.STATE)

    # -- the model and the sandbox ------------------------------------------------------------

    def model_loading(self, name: str) -> None:
        self.model_state, self.model_name, self.second_model = "loading", name, ""
        self._tell(Change.MODEL)
        self._tell(Change.STATE)

    def model_ready(self, name: str) -> None:
        self.model_state, self.model_name = "ready", name
        self._tell(Change.MODEL)

    def second_model_ready(self, name: str) -> None:
        self.second_model = name
        self._tell(Change.MODEL)
        if self.answer == Answer.SHOWN and self.result is not None:
            self._tell(Change.ANSWER)  # its advice may now point at the second model
        self._tell(Change.STATE)

    def model_failed(self, kind: str) -> None:
        self.model_state = kind
        self._tell(Change.MODEL)

    def protection_known(self, protection: Any) -> None:
        """Program and Both mode are off where programs may not run (Steps still works)."""
        self.protection = protection
        if not self.programs_allowed():
            self.set_mode(Mode.COT.value)
        self._tell(Change.PROTECTION)

    def close(self) -> None:
        if self.request is not None:
            self.request.cancel.cancel()
        self.listeners.clear()
        self.history.close()

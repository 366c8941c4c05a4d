"""The solver worker: one QThread that loads the model once and runs every solve and batch in turn.

The UI thread never loads a model, generates or runs a program. It sends requests through queued
signals; the worker streams `StageEvent`s back as signals. Stop sets the request's CancelToken from
the UI thread (a threading.Event), which the llama.cpp backend checks between tokens and between
prompt chunks, and the sandbox checks while a program runs, so it takes effect within a fraction of
a second.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from desktop.solve_request import BatchRequest, RequestFailed, SolveRequest, solve_request
from kpdd.backend import BackendError, CancelToken


def default_backend_factory(entry: Any, threads: int | None) -> Any:
    from desktop.settings import automatic_threads
    from kpdd.models import load_backend

    return load_backend(entry, threads=threads or automatic_threads())


def default_entry_provider() -> Any:
    from kpdd.models import active_model

    return active_model()


def default_second_opinion_provider(entry: Any) -> Any:
    """The model asked about answers of `entry` (the setting is on and it is installed), or None."""
    from kpdd import models

    return models.second_opinion_model(entry) if isinstance(entry, models.ModelEntry) else None


def default_every_answer_provider() -> bool:
    """Whether the second opinion is asked about every answer, not only doubtful ones (Settings)."""
    from kpdd import models

    return models.checks_every_answer()


class SolverWorker(QObject):
    """Lives on the worker thread; slots run there, signals are delivered queued to the UI."""

    model_loading = Signal(str)
    model_ready = Signal(str)
    second_model_ready = Signal(str)  # the model that can check answers, "" when none is loaded
    model_failed = Signal(str, str)  # (kind: "missing" | "corrupt", message)
    event = Signal(int, object)  # (request_id, StageEvent)
    finished = Signal(int, object)  # (request_id, SolveResult)
    named = Signal(int, object)  # (request_id, names): a Chinese program's names, after `finished`
    failed = Signal(int, str)
    batch_progress = Signal(object)  # BatchProgress
    batch_finished = Signal(object)  # BatchOutcome
    batch_failed = Signal(str)
    warmed_up = Signal(float)  # seconds spent reading the few-shot examples ahead of the first solve
    protection_known = Signal(object)  # kpdd.sandbox.Protection: whether programs run, and protected

    def __init__(
        self,
        backend_factory: Callable[[Any, int | None], Any] = default_backend_factory,
        entry_provider: Callable[[], Any] = default_entry_provider,
        second_opinion_provider: Callable[[Any], Any] = default_second_opinion_provider,
        every_answer_provider: Callable[[], bool] = default_every_answer_provider,
    ) -> None:
        super().__init__()
        self.backend_factory = backend_factory
        self.entry_provider = entry_provider
        self.second_opinion_provider = second_opinion_provider
        self.every_answer_provider = every_answer_provider
        self.solver: Any = None
        self.loaded_key: tuple[str, int | None, str] | None = None
        self.threads: int | None = None
        # Set by the UI thread when a solve is requested: the warm-up gives way at once, and so does
        # the naming of the last answer's steps.
        self.warm_cancel = CancelToken()
        self.names_cancel = CancelToken()

    # -- model ---------------------------------------------------------------------------------

    def _ensure_solver(self) -> Any:
        """Load the active model when it is not loaded yet (or the choice changed)."""
        from kpdd.models import ModelNotFoundError
        from kpdd.solver import Solver

        try:
            entry = self.entry_provider()
        except ModelNotFoundError as exc:
            self.model_failed.emit("missing", str(exc))
            return None
        second_entry = self.second_opinion_provider(entry)
        key = (str(getattr(entry, "key", entry)), self.threads, str(getattr(second_entry, "key", "")))
        if self.solver is not None and self.loaded_key == key:
            self.solver.check_every_answer = self.every_answer_provider()  # Settings may have changed it
            return self.solver
        self.unload()
        self.model_loading.emit(str(getattr(entry, "name", entry)))
        try:
            backend = self.backend_factory(entry, self.threads)
        except ModelNotFoundError as exc:
            self.model_failed.emit("missing", str(exc))
            return None
        except BackendError as exc:
            self.model_failed.emit("corrupt", str(exc))
            return None
        second = None
        if second_entry is not None:
            try:
                second = Solver(self.backend_factory(second_entry, self.threads))
            except BackendError:  # ModelNotFoundError included: the first model still answers alone
                traceback.print_exc()
        self.solver = Solver(backend, second_opinion=second, check_every_answer=self.every_answer_provider())
        self.loaded_key = key
        name = backend.info.name
        if second is not None:
            name = f"{name} + {second.backend.info.name}"  # the status bar: "Model: student + second opinion"
        self.second_model_ready.emit(second.backend.info.name if second is not None else "")
        self.model_ready.emit(name)
        return self.solver

    @Slot()
    def check_protection(self) -> None:
        """Whether programs run behind an operating-system layer here, as a real sandbox worker says
        (it starts one: tens of milliseconds, so here and not on the UI thread)."""
        from kpdd import sandbox

        self.protection_known.emit(sandbox.protection())

    @Slot()
    def preload(self) -> None:
        self.check_protection()
        solver = self._ensure_solver()
        if solver is not None:
            self._warm_up(solver)
            # The second opinion too (the 1.5B is prompted with examples): else the first answer
            # it is asked about would wait while it reads them.
            if solver.second_opinion is not None:
                self._warm_up(solver.second_opinion, report=False)

    def _warm_up(self, solver: Any, report: bool = True) -> None:
        """Read the few-shot examples into the model's cache while the student is still typing.

        A model not trained on the KPDD format is prompted with about 900 tokens of examples before
        the problem; every prompt starts with them, and the llama.cpp backend reuses a cached prefix,
        so reading them now takes that time off the first Solve (the benchmark shows the difference).
        """
        import time

        from kpdd.format import STOP_STRINGS, Stage, inference_prompt

        token = self.warm_cancel
        if not solver.few_shot or token.cancelled:
            return
        started = time.perf_counter()
        try:
            generation = solver.backend.generate(inference_prompt("", Stage.CORE_QUESTION, few_shot=True),
                                                 stop=STOP_STRINGS, max_tokens=1, cancel=token)  # fmt: skip
        except BackendError:
            return  # the first solve reports model trouble properly
        if report and generation.finish_reason != "cancelled":
            self.warmed_up.emit(time.perf_counter() - started)

    @Slot(object)
    def set_threads(self, threads: Any) -> None:
        """A fixed thread count, or None for "Automatic"."""
        self.threads = int(threads) if threads else None

    def _adapt_threads(self, solver: Any) -> None:
        """With "Automatic" threads, run this solve on the cores idle right now: a thread that
        shares its core with a busy program stalls the others (desktop.settings.automatic_threads)."""
        if self.threads is not None:
            return
        from desktop.settings import automatic_threads

        threads = None  # measured once: each look at the machine's load takes a tenth of a second
        for backend in (solver.backend, getattr(solver.second_opinion, "backend", None)):
            set_threads = getattr(backend, "set_threads", None)
            if set_threads is not None:
                threads = threads or automatic_threads()
                set_threads(threads)

    @Slot()
    def unload(self) -> None:
        if self.solver is not None:
            for solver in (self.solver, self.solver.second_opinion):
                try:
                    if solver is not None:
                        solver.backend.close()
                except Exception:  # closing a broken model must not take the app down
                    pass
        self.solver = None
        self.loaded_key = None

    # -- solving -------------------------------------------------------------------------------

    @Slot(object)
    def solve(self, request: SolveRequest) -> None:
        if request.cancel.cancelled:
            self.failed.emit(request.request_id, "cancelled")
            return
        solver = self._ensure_solver()
        if solver is None:
            self.failed.emit(request.request_id, "no model")
            return
        self._adapt_threads(solver)

        def on_event(event: Any) -> None:
            self.event.emit(request.request_id, event)

        try:
            result = solve_request(solver, request, on_event)
        except RequestFailed as exc:
            self.failed.emit(request.request_id, str(exc))
            return
        except Exception as exc:  # a bug must reach the user as a message, not kill the thread
            traceback.print_exc()
            self.failed.emit(request.request_id, str(exc) or type(exc).__name__)
            return
        # Then, with the answer on screen, a Chinese problem's worked steps get Chinese names: one
        # more generation, as long as a solve, that the next request stops (SolverThread.solve).
        # The token is new before the answer goes out, so a request sent on seeing it cancels it.
        names_cancel = self.names_cancel = CancelToken()
        self.finished.emit(request.request_id, result)
        if not result.cancelled and not request.cancel.cancelled:
            try:
                names = solver.step_names(result, names_cancel)
            except Exception:  # naming is a nicety: a bug in it must not reach the student
                traceback.print_exc()
                names = {}
            if names:
                self.named.emit(request.request_id, names)

    @Slot(object)
    def run_batch(self, request: BatchRequest) -> None:
        from kpdd.batch import run_batch

        solver = self._ensure_solver()
        if solver is None:
            self.batch_failed.emit("no model")
            return
        self._adapt_threads(solver)
        # A worksheet: every answer checked whenever a second opinion is on (it is loaded only when
        # on: kpdd.models.checks_every_answer(batch=True)); the next solve sets it back.
        solver.check_every_answer = solver.second_opinion is not None
        try:
            outcome = run_batch(
                solver,
                request.problems,
                request.results_path,
                mode=request.mode,
                samples=request.samples,
                progress=self.batch_progress.emit,
                cancel=request.cancel,
            )
        except Exception as exc:
            traceback.print_exc()
            self.batch_failed.emit(str(exc) or type(exc).__name__)
            return
        self.batch_finished.emit(outcome)


class SolverThread(QObject):
    """Owns the worker thread; the UI calls these methods, which queue work onto the thread."""

    _solve = Signal(object)
    _batch = Signal(object)
    _preload = Signal()
    _unload = Signal()
    _threads = Signal(object)
    _protection = Signal()

    def __init__(self, worker: SolverWorker | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thread = QThread()
        self.thread.setObjectName("kpdd-solver")
        self.worker = worker or SolverWorker()
        self.worker.moveToThread(self.thread)
        self._solve.connect(self.worker.solve)
        self._batch.connect(self.worker.run_batch)
        self._preload.connect(self.worker.preload)
        self._unload.connect(self.worker.unload)
        self._threads.connect(self.worker.set_threads)
        self._protection.connect(self.worker.check_protection)
        # The worker dies on its own thread when that thread ends (Qt's documented pattern), so no
        # wrapper deletes it from the UI thread at interpreter exit.
        self.thread.finished.connect(self.worker.deleteLater)
        self.thread.start()
        self.next_id = 0

    def solve(self, request: SolveRequest) -> SolveRequest:
        self.next_id += 1
        request.request_id = self.next_id
        self.worker.warm_cancel.cancel()  # a running warm-up stops at its next prompt chunk
        self.worker.names_cancel.cancel()  # so does naming the last answer's steps
        self._solve.emit(request)
        return request

    def run_batch(self, request: BatchRequest) -> None:
        self.worker.warm_cancel.cancel()
        self.worker.names_cancel.cancel()
        self._batch.emit(request)

    def preload(self) -> None:
        self.worker.warm_cancel = CancelToken()
        self._preload.emit()

    def check_protection(self) -> None:
        """Ask again whether programs may run (the user changed `unsafe_programs` in Settings)."""
        self._protection.emit()

    def reload(self, threads: int | None = None) -> None:
        """The active model or the thread count changed: load again on the next solve."""
        self._threads.emit(threads)
        self._unload.emit()

    def shutdown(self, wait_ms: int = 5000) -> None:
        if not self.thread.isRunning():
            return
        self._unload.emit()
        self.thread.quit()
        self.thread.wait(wait_ms)


class OnUiThread(QObject):
    """Calls `call` on the thread this object was made on (the UI thread). A worker's signal
    connected straight to a plain-Python receiver (the tutor session) would run it on the worker's
    thread, beside the widgets it redraws."""

    def __init__(self, call: Callable[..., Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.call = call

    def run(self, *args: Any) -> None:
        self.call(*args)

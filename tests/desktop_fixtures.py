"""Qt helpers for the desktop tests: an offscreen QApplication, waiting on signals, a scripted backend.

`ScriptedBackend` speaks the real `kpdd.backend.Backend` protocol with canned stage texts, streamed
piece by piece with a small delay and honouring the CancelToken like llama.cpp's backend does, so UI
flows (hint, check, edit + re-solve, batch) run in milliseconds. Tests marked slow use the real
SmolLM2 GGUF instead.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from kpdd.backend import CancelToken, Generation, ModelInfo  # noqa: E402
from kpdd.format import MARKERS, Stage  # noqa: E402

PROBLEM = "A farmer packs 6 baskets with 14 apples each. He gives away 20 apples. How many apples does he have left?"

SCRIPT = {
    Stage.CORE_QUESTION: "How many apples does the farmer have left?",
    Stage.KEY_INFORMATION: "- 6 baskets hold 14 apples each.\n- He gives away 20 apples.",
    Stage.PROGRAM: "apples = 6 * 14\ngiven_away = 20\nanswer = apples - given_away",
    Stage.STEPS: "He packs 6 * 14 = 84 apples. He gives away 20, so 84 - 20 = 64 are left. The answer is 64.",
}


def qapp() -> QApplication:
    """The app's own QApplication (desktop.qt_app): with the Chinese font registered, as users get it."""
    from desktop.qt_app import create_app

    return create_app(["kpdd-test"])


def wait_until(predicate: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    """Process Qt events until `predicate()` holds (True) or the time runs out (False)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        if predicate():
            return True
        time.sleep(0.005)
    QCoreApplication.processEvents()
    return predicate()


def wait_signal(signal, timeout_s: float = 10.0) -> list:
    """Block (processing events) until `signal` fires; returns its arguments. Fails on timeout."""
    received: list = []
    loop = QEventLoop()

    def on_signal(*args) -> None:
        received.append(args)
        loop.quit()

    signal.connect(on_signal)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    signal.disconnect(on_signal)
    if not received:
        pytest.fail(f"signal not received within {timeout_s} s")
    return list(received[0])


class Recorder:
    """Connect to a signal now, wait later: for signals emitted by the worker thread, which may
    fire before a `wait_signal` call would have connected."""

    def __init__(self, signal) -> None:
        self.calls: list[tuple] = []
        signal.connect(lambda *args: self.calls.append(args))

    def wait(self, timeout_s: float = 10.0) -> list:
        if not wait_until(lambda: bool(self.calls), timeout_s):
            pytest.fail(f"signal not received within {timeout_s} s")
        return list(self.calls[0])


class ScriptedBackend:
    """A deterministic backend: answers each stage from `script`, streaming in small pieces."""

    def __init__(
        self,
        script: dict[Stage, str] | None = None,
        delay_s: float = 0.002,
        name: str = "scripted",
        trained: bool = True,
        greedy: dict[Stage, str] | None = None,
    ) -> None:
        self.script = dict(script or SCRIPT)
        # Texts for greedy generations (temperature 0) where they differ from the sampled ones.
        self.greedy = dict(greedy or {})
        self.temperatures: list[float] = []
        self.delay_s = delay_s
        # trained: no few-shot preamble (and no warm-up); untrained models get both, like SmolLM2.
        self.info = ModelInfo(name=name, format_version="kpdd-1" if trained else None)
        self.prompts: list[str] = []
        self.closed = False

    def generate(self, prompt, *, stop, max_tokens, temperature=0.0, seed=None, on_text=None,
                 cancel: CancelToken | None = None) -> Generation:  # fmt: skip
        self.prompts.append(prompt)
        stage = next(s for s in (Stage.STEPS, Stage.PROGRAM, Stage.KEY_INFORMATION, Stage.CORE_QUESTION)
                     if prompt.rstrip("\n").endswith(MARKERS[s]))  # fmt: skip
        self.temperatures.append(temperature)
        text = self.greedy.get(stage, self.script[stage]) if temperature == 0 else self.script[stage]
        started = time.perf_counter()
        out = ""
        for i in range(0, len(text), 4):
            if cancel is not None and cancel.cancelled:
                return Generation(
                    out, "cancelled", len(prompt), len(prompt), len(out) // 4, time.perf_counter() - started
                )
            piece = text[i : i + 4]
            out += piece
            if on_text is not None:
                on_text(piece)
            time.sleep(self.delay_s)
        return Generation(
            out, "stop", len(prompt), len(prompt), len(out) // 4, time.perf_counter() - started, 0.0
        )

    def count_tokens(self, text: str) -> int:
        return len(text) // 4

    def close(self) -> None:
        self.closed = True


def close_window(window) -> None:
    """Close a window and let Qt delete it now (WA_DeleteOnClose), not at interpreter exit."""
    from PySide6.QtCore import QEvent

    window.close()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def make_window(backend=None, settings=None):
    """A main window whose worker uses `backend` (a ScriptedBackend by default)."""
    from desktop.app import create_window
    from desktop.settings import DesktopSettings
    from desktop.workers import SolverThread, SolverWorker

    qapp()
    backend = backend or ScriptedBackend()
    worker = SolverWorker(backend_factory=lambda entry, threads: backend, entry_provider=lambda: "scripted")
    window = create_window(settings or DesktopSettings(language="en"), SolverThread(worker))
    return window, backend

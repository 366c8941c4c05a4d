"""Qt helpers for the desktop tests: an offscreen QApplication, waiting on signals, a window whose
worker runs the scripted backend (tests/scripted_backend.py). Tests marked slow use the real SmolLM2
GGUF instead.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from tests.scripted_backend import PROBLEM, SCRIPT, ScriptedBackend  # noqa: E402, F401 (the tests' imports)


def qapp() -> QApplication:
    """The app's own QApplication (desktop.qt_app): with the Chinese font registered, as users get it."""
    from desktop.qt_app import create_app

    return create_app(["kpdd-test"])


def shown(widget) -> bool:
    """Whether a widget shows when its window does (the offscreen window itself may be hidden)."""
    return widget.isVisibleTo(widget.window())


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

"""`kpdd-tutor`: start the desktop tutor.

    kpdd-tutor [PROBLEM] [--solve] [--mode pot|cot|both]

The model loads on the worker thread while the window is already usable. Flags used by the
benchmark and the screenshot script: `--report-ready` prints `READY <seconds>` once the window is
shown and idle, `--report-first-token` prints `FIRST_TOKEN <seconds>` at the first streamed token
(seconds since the process started), and `--quit-after` exits after that.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

_T0 = time.perf_counter()

from desktop.qt_app import create_app  # noqa: E402  (after _T0: the startup time counts imports)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kpdd-tutor", description="KPDD Tutor: offline math word-problem tutor"
    )
    parser.add_argument("problem", nargs="*", help="a problem to put in the box")
    parser.add_argument("--solve", action="store_true", help="solve the problem right away")
    parser.add_argument("--mode", choices=["pot", "cot", "both"], default=None)
    parser.add_argument("--report-ready", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--report-first-token", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--quit-after", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--solve-when-loaded", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-preload", action="store_true", help="load the model only at the first solve")
    parser.add_argument("--verbose", action="store_true",
                        help="print llama.cpp's own log (else it goes to logs/llama.log in the data folder)")  # fmt: skip
    return parser


def create_window(settings=None, solver_thread=None, history=None):
    """The main window with settings applied (theme, font, language)."""
    from desktop.main_window import MainWindow
    from desktop.settings import DesktopSettings, apply_settings
    from desktop.style import app_icon

    settings = settings or DesktopSettings.load()
    apply_settings(settings)
    create_app().setWindowIcon(app_icon())
    if solver_thread is None:
        from desktop.settings import effective_threads
        from desktop.workers import SolverThread

        solver_thread = SolverThread()
        solver_thread.reload(effective_threads(settings))
    return MainWindow(settings, solver_thread, history)


def missing_display() -> str | None:
    """Why the window cannot open here (a Linux session with no display), in words; None when it can.

    Qt would abort with a message about its xcb plugin, naming libraries that are installed."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return None
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    return (
        "KPDD Tutor opens a window, and this session has no display (neither DISPLAY nor WAYLAND_DISPLAY "
        "is set: a server, or a terminal reached over SSH without X forwarding). Start it from the "
        'desktop, or solve from the terminal: kpdd solve "your problem".'
    )


def main(argv: list[str] | None = None) -> int:
    # Frozen apps start the program sandbox's worker through this same executable: first thing.
    from kpdd.sandbox import maybe_run_worker

    maybe_run_worker()
    args = build_parser().parse_args(argv if argv is not None else sys.argv[1:])
    if args.verbose:
        from kpdd.llama_log import ENV_VERBOSE

        os.environ[ENV_VERBOSE] = "1"
    no_display = missing_display()
    if no_display:
        print(f"error: {no_display}", file=sys.stderr)
        return 1
    from PySide6.QtCore import QTimer

    app = create_app()
    window = create_window()
    if args.mode:
        window.session.set_mode(args.mode)
    if args.problem:
        window.problem_card.edit.setPlainText(" ".join(args.problem))
    window.show()

    def ready() -> None:
        if args.report_ready:
            print(f"READY {time.perf_counter() - _T0:.3f}", flush=True)
            if args.quit_after and not args.solve:
                window.close()
                app.quit()
                return
        if args.solve:
            window.session.solve()
        elif args.solve_when_loaded:
            # Benchmark: time to first token once the model is already loaded (the usual case).
            def loaded(_seconds: float) -> None:
                print(f"MODEL_READY {time.perf_counter() - _T0:.3f}", flush=True)
                window.session.solve()

            window.solver_thread.worker.warmed_up.connect(loaded)
            window.solver_thread.preload()
        elif not args.no_preload:
            _check_model_then_preload(window)

    if args.report_first_token:

        def first_token() -> None:
            print(f"FIRST_TOKEN {time.perf_counter() - _T0:.3f}", flush=True)
            if args.quit_after:
                window.session.stop()

        window.first_token.connect(first_token)
    if args.quit_after and (args.solve or args.solve_when_loaded):
        window.solve_finished.connect(lambda _result: (window.close(), app.quit()))
    QTimer.singleShot(0, ready)
    code = app.exec()
    if os.environ.get("KPDD_TUTOR_HARD_EXIT"):
        os._exit(code)
    return code


def _check_model_then_preload(window) -> None:
    """No model: say so now (not at the first Solve). Else load it in the background."""
    from kpdd.models import ModelNotFoundError, active_model

    try:
        active_model()
    except ModelNotFoundError as exc:
        window.report_model_failure("missing", str(exc))
        return
    window.solver_thread.preload()


if __name__ == "__main__":
    sys.exit(main())

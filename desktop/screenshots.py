"""Screenshots of the tutor's main states, taken from a real window under Xvfb.

    python -m desktop.screenshots OUT_DIR [--model PATH] [--threads N] [--timeout 600]

With no display it re-runs itself under `xvfb-run` (Debian: apt-get install -y xvfb). It drives the
real app with the real model: empty window, solving (streaming), solved with a program, the batch
dialog at work, the settings dialog, and the solved window in the dark theme in Simplified Chinese.
History and settings go to a temporary KPDD home, never the user's.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _grab(widget, path: Path) -> None:
    from PySide6.QtGui import QGuiApplication

    QGuiApplication.processEvents()
    screen = widget.screen() or QGuiApplication.primaryScreen()
    pixmap = None
    if QGuiApplication.platformName() == "xcb":
        pixmap = screen.grabWindow(widget.winId())  # what the X server shows
    if pixmap is None or pixmap.isNull():
        pixmap = widget.grab()
    pixmap.save(str(path))
    print(f"saved {path} ({pixmap.width()}x{pixmap.height()})", flush=True)


def _wait(predicate, timeout_s: float) -> bool:
    from PySide6.QtCore import QCoreApplication, QEventLoop

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def use_model(model: str | None, real_models: Path | None, active_name: str | None) -> None:
    """Point the temporary home at the model to show: a GGUF file (`--model`), or the real home's
    models folder and its active model by name (a KPDD student is a base file there plus the
    adapter in resources/, so its file path alone would show the stock model)."""
    from kpdd import paths
    from kpdd.models import list_models

    if model:
        path = str(Path(model).resolve())
        paths.update_config(models=[path], active_model=path)
        return
    if real_models is not None and real_models.is_dir():
        paths.models_dir().parent.mkdir(parents=True, exist_ok=True)
        paths.models_dir().symlink_to(real_models, target_is_directory=True)
    entry = next((e for e in list_models() if e.name == active_name and e.available), None)
    if entry is not None and not entry.is_default:
        paths.update_config(active_model=entry.key)


def take(out: Path, model: str | None, timeout_s: float, threads: int = 0, real_models: Path | None = None,
         active_name: str | None = None) -> int:  # fmt: skip
    from PySide6.QtWidgets import QApplication

    from desktop.app import create_app, create_window
    from desktop.settings import DesktopSettings, apply_settings
    from kpdd.models import resources_dir

    out.mkdir(parents=True, exist_ok=True)
    use_model(model, real_models, active_name)
    app = create_app()
    settings = DesktopSettings(theme="light", language="en", threads=threads)
    window = create_window(settings)
    window.resize(1280, 800)
    window.show()
    window.solver_thread.preload()
    _wait(lambda: window.model_state in ("ready", "missing", "corrupt"), timeout_s)
    _grab(window, out / "01-empty.png")

    window.problem_edit.setPlainText(window.samples[0]["question"])
    window.solve()
    _wait(lambda: len(window.key_panel.edit.toPlainText()) > 25 or not window.busy, timeout_s)
    _grab(window, out / "02-solving.png")
    _wait(lambda: not window.busy, timeout_s)
    window.check_edit.setText("64")
    window.check_answer()
    _grab(window, out / "03-solved-program.png")

    window.open_batch()
    dialog = window.batch_dialog
    dialog.load(resources_dir() / "samples" / "worksheet.txt")
    dialog.start()
    _wait(lambda: dialog.progress.value() >= 1 or not dialog.running, timeout_s)
    _grab(dialog, out / "04-batch.png")
    dialog.cancel()
    _wait(lambda: not dialog.running, 30)
    dialog.hide()

    window.open_settings()
    settings_dialog = window.settings_dialog
    _wait(lambda: settings_dialog.isVisible(), 5)
    _grab(settings_dialog, out / "05-settings.png")
    settings_dialog.reject()

    apply_settings(DesktopSettings(theme="dark", language="zh_CN", threads=threads))
    _wait(lambda: False, 0.3)
    _grab(window, out / "06-solved-dark-zh.png")
    window.close()
    QApplication.processEvents()
    app.quit()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path)
    parser.add_argument(
        "--model",
        help="a GGUF file (default: the active model of the real KPDD home, "
        "the KPDD student unless another was chosen)",
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for each state")
    parser.add_argument("--threads", type=int, default=0, help="llama.cpp threads (0: automatic)")
    args = parser.parse_args(argv)
    if (
        sys.platform.startswith("linux")
        and not os.environ.get("DISPLAY")
        and not os.environ.get("KPDD_SHOTS_CHILD")
    ):
        if shutil.which("xvfb-run") is None:
            print("error: no display and no xvfb-run (apt-get install -y xvfb)", file=sys.stderr)
            return 2
        command = ["xvfb-run", "-a", "-s", "-screen 0 1400x900x24", sys.executable, "-m", "desktop.screenshots",
                   *(argv if argv is not None else sys.argv[1:])]  # fmt: skip
        return subprocess.call(command, env={**os.environ, "KPDD_SHOTS_CHILD": "1", "QT_QPA_PLATFORM": "xcb"})
    real_models, active_name = None, None
    if args.model is None:
        from kpdd import paths
        from kpdd.models import active_model

        # Resolved in the real home, before switching homes.
        real_models, active_name = paths.models_dir(), active_model().name
    with tempfile.TemporaryDirectory(prefix="kpdd-shots-") as home:
        os.environ["KPDD_HOME"] = home
        return take(args.out, args.model, args.timeout, args.threads, real_models, active_name)


if __name__ == "__main__":
    sys.exit(main())

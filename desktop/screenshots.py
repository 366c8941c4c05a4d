"""Screenshots of every state of the tutor, taken from a real window under Xvfb.

    python -m desktop.screenshots OUT_DIR --scripted          # every state, a scripted demo model
    python -m desktop.screenshots OUT_DIR [--model PATH]      # the main states with a real model

With no display it re-runs itself under `xvfb-run` (Debian: apt-get install -y xvfb). History and
settings go to a temporary KPDD home, never the user's.

`--scripted` drives the real window, solver, sandbox, verdicts and sheets with a demo model that
answers a few sample problems from fixed texts (`DEMO`), chosen to show each state: a wrong lone
program ("not sure"), program and steps agreeing ("checked"), false arithmetic marked, an impossible
answer outvoted, a failing program, Stop, hints, checking an answer, a doubtful answer sent to a
second model, the batch dialog, in the light and the dark theme and in Simplified Chinese. It runs in seconds and needs no model file; the status
bar names the model "scripted demo". Without it, a real model solves the sample problem (minutes of
CPU on a small machine): empty, solving, solved, batch, settings, and the solved window in the
dark theme in Chinese.
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

# The demo model's answers: problem -> stage texts. The answers are chosen to show each verdict.
FARMER = (
    "A farmer has 17 sheep and 3 times as many goats. He sells 12 goats. How many animals does he have now?"
)
APPLES = "A farmer packs 6 baskets with 14 apples each. He gives away 20 apples. How many apples does he have left?"
BIKE = ("Mia wants a bike that costs 150 dollars. She has saved 45 dollars and saves 15 dollars every week. "
        "How many more weeks does she need to save?")  # fmt: skip
TICKETS = ("A train ticket costs 12 dollars for an adult and half as much for a child. "
           "How much do 2 adults and 3 children pay in total?")  # fmt: skip
BOOK = "A book has 240 pages. Leo reads 30 pages a day for 5 days. How many pages does he still have to read?"
MUFFINS = ("A bakery baked 160 muffins. It sold 12 in the morning and 30 in the afternoon. "
           "How many muffins are left?")  # fmt: skip
TEAMS = "A class of 24 students is split into teams of 4. How many teams are there?"
PENS = "Sam buys 3 packs of 8 pens and gives 5 pens away. How many pens does he have?"
DEMO: dict[str, dict[str, str]] = {
    FARMER: {
        "core": "How many animals does the farmer have now?",
        "key": "- He has 17 sheep.\n- He has 3 times as many goats as sheep.\n- He sells 12 goats.",
        "program": "sheep = 17\ngoats = sheep * 3\ndays = 7\nanimals = goats + 12 + 12\nanswer = animals",
        "steps": "He has 17 sheep * 3 goats = 49 goats. After selling, 49 - 12 = 37 goats are left. "
        "17 + 37 = 54 animals. The answer is 54.",
    },
    APPLES: {
        "core": "How many apples does the farmer have left?",
        "key": "- 6 baskets hold 14 apples each.\n- He gives away 20 apples.",
        "program": "apples = 6 * 14\ngiven_away = 20\nanswer = apples - given_away",
        "steps": "He packs 6 * 14 = 84 apples. He gives away 20, so 84 - 20 = 64 are left. The answer is 64.",
    },
    BIKE: {
        "core": "How many more weeks does Mia need to save?",
        "key": "- The bike costs 150 dollars.\n- She has saved 45 dollars.\n- She saves 15 dollars a week.",
        "program": "cost = 150\nsaved = 45\nweekly = 15\nweeks = (cost - saved) / weekly\nanswer = weeks",
        "steps": "She still needs 150 - 45 = 105 dollars. 105 / 15 = 7 weeks. The answer is 7.",
    },
    TICKETS: {
        "core": "How much do 2 adults and 3 children pay?",
        "key": "- An adult ticket costs 12 dollars.\n- A child pays half as much.\n- 2 adults and 3 children.",
        "program": "adult = 12\nchild = adult / 2\ntotal = 2 * adult + 3 * child\nanswer = total",
        "steps": "A child pays 12 / 2 = 6 dollars. 2 * 12 = 24 and 3 * 6 = 18. 24 + 18 = 42. The answer is 42.",
    },
    BOOK: {
        "core": "How many pages does Leo still have to read?",
        "key": "- The book has 240 pages.\n- He reads 30 pages a day for 5 days.",
        "program": "pages_read = 30 * 5\npages_left = 240 - pages_read\nanswer = pages_left",
        "steps": "He reads 30 * 5 = 150 pages. 240 - 150 = 90 pages are left. The answer is 90.",
    },
    MUFFINS: {
        "core": "How many muffins are left?",
        "key": "- 160 muffins were baked.\n- 12 were sold in the morning.\n- 30 were sold in the afternoon.",
        "program": "sold = 12 + 30\nleft = sold - 160\nanswer = left",
        "steps": "12 + 30 = 42 muffins were sold. 160 - 42 = 118 are left. The answer is 118.",
    },
    TEAMS: {
        "core": "How many teams are there?",
        "key": "- 24 students.\n- Teams of 4.",
        "program": "students = 24\nteam_size = 4\nanswer = students / (team_size - 4)",
        "steps": "24 / 4 = 6 teams. The answer is 6.",
    },
    PENS: {
        "core": "How many pens does Sam have?",
        "key": "- 3 packs of 8 pens.\n- He gives 5 pens away.",
        "program": "pens = 3 * 8\nleft = pens - 5\nanswer = left",
        "steps": "3 * 8 = 24 pens. 24 - 5 = 19 pens. The answer is 19.",
    },
}
DEMO_MODEL_NAME = "scripted demo"
# The second-opinion model's answers (20-21): it gets the farmer right where the demo student does not.
SECOND_OPINION_DEMO: dict[str, dict[str, str]] = {
    FARMER: {
        "core": "How many animals does the farmer have now?",
        "key": "- The farmer has 17 sheep.\n- He has 3 times as many goats.\n- He sells 12 goats.",
        "program": "sheep = 17\ngoats = sheep * 3\ngoats_left = goats - 12\nanimals = sheep + goats_left\n"
        "answer = animals",
        "steps": "17 * 3 = 51 goats. 51 - 12 = 39 goats are left. 17 + 39 = 56 animals. The answer is 56.",
    },
}
SECOND_OPINION_DEMO_NAME = "Qwen2.5-Coder-1.5B-Instruct (scripted)"


class DemoBackend:
    """The demo model: each stage of a DEMO problem from its fixed text, streamed like llama.cpp."""

    def __init__(self, delay_s: float = 0.0, name: str = DEMO_MODEL_NAME, script: dict | None = None) -> None:
        from kpdd.backend import ModelInfo

        self.info = ModelInfo(name=name, format_version="kpdd-1")
        self.delay_s = delay_s
        self.script = script or DEMO

    def generate(self, prompt, *, stop, max_tokens, temperature=0.0, seed=None, on_text=None, cancel=None):  # noqa: ANN001
        from kpdd.backend import Generation
        from kpdd.format import MARKERS, Stage

        stage = next(s for s in (Stage.STEPS, Stage.PROGRAM, Stage.KEY_INFORMATION, Stage.CORE_QUESTION)
                     if prompt.rstrip("\n").endswith(MARKERS[s]))  # fmt: skip
        script = next((texts for problem, texts in self.script.items() if problem in prompt), DEMO[APPLES])
        key = {Stage.CORE_QUESTION: "core", Stage.KEY_INFORMATION: "key", Stage.PROGRAM: "program",
               Stage.STEPS: "steps"}[stage]  # fmt: skip
        text, out, started = script[key], "", time.perf_counter()
        for i in range(0, len(text), 4):
            if cancel is not None and cancel.cancelled:
                return Generation(
                    out, "cancelled", len(prompt), len(prompt), len(out) // 4, time.perf_counter() - started
                )
            out += text[i : i + 4]
            if on_text is not None:
                on_text(text[i : i + 4])
            if self.delay_s:
                time.sleep(self.delay_s)
        return Generation(
            out, "stop", len(prompt), len(prompt), len(out) // 4, time.perf_counter() - started, 0.0
        )

    def count_tokens(self, text: str) -> int:
        return len(text) // 4

    def close(self) -> None:
        pass


def _grab(widget, path: Path) -> None:
    from PySide6.QtGui import QGuiApplication

    _wait(lambda: False, 0.15)  # let layouts and repaints settle
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


def _solve(window, problem: str, mode: str, samples: int = 1, timeout_s: float = 600) -> None:
    window.problem_card.edit.setPlainText(problem)
    window.problem_card.mode_combo.setCurrentIndex(("pot", "cot", "both").index(mode))
    window.problem_card.samples_spin.setValue(samples)
    window.session.solve()
    _wait(lambda: not window.session.busy, timeout_s)


def take_scripted(out: Path) -> int:
    """Every state of the window, solved by the demo model."""
    from desktop.app import create_window
    from desktop.qt_app import create_app
    from desktop.settings import DesktopSettings
    from desktop.workers import SolverThread, SolverWorker

    out.mkdir(parents=True, exist_ok=True)
    app = create_app()
    backend = DemoBackend()
    worker = SolverWorker(
        backend_factory=lambda entry, threads: backend, entry_provider=lambda: DEMO_MODEL_NAME
    )
    window = create_window(DesktopSettings(theme="light", language="en"), SolverThread(worker))
    window.resize(1280, 820)
    window.show()
    window.solver_thread.preload()
    _wait(lambda: window.session.model_state == "ready", 10)
    _shoot_one_solve(window, backend, out)
    _shoot_other_outcomes(window, backend, out)
    _shoot_second_opinion(window, out)
    _shoot_batch_and_settings(window, out)
    _shoot_themes_and_languages(window, out)
    _shoot_without_a_sandbox(window, out)
    window.close()
    app.processEvents()
    app.quit()
    return 0


def _shoot_without_a_sandbox(window, out: Path) -> None:
    """25: a machine whose sandbox has no operating-system layer (its workers cannot load pyseccomp
    or landlock, as where libseccomp is missing): the notice, and Steps mode solving."""
    from desktop.settings import DesktopSettings, apply_settings
    from kpdd import sandbox
    from kpdd.sandbox import parent as sandbox_parent

    apply_settings(DesktopSettings(theme="light", language="en"))
    sandbox.shutdown()
    sandbox_parent._lib_paths = lambda: []
    sandbox_parent._pool.features = None
    window.solver_thread.check_protection()
    _wait(lambda: window.session.protection is not None and not window.session.protection.protected, 10)
    _solve(window, APPLES, "cot")
    _grab(window, out / "25-no-sandbox-steps-only.png")


def _shoot_one_solve(window, backend, out: Path) -> None:
    """01-06: empty, streaming, the verdict, checking an answer, the program, hints."""
    _grab(window, out / "01-empty.png")
    backend.delay_s = 0.03
    window.problem_card.edit.setPlainText(FARMER)
    window.problem_card.samples_spin.setValue(1)
    window.session.solve()
    _wait(
        lambda: window.solution_card.program_edit.toPlainText().count("\n") >= 2 or not window.session.busy,
        60,
    )
    _grab(window, out / "02-solving.png")
    _wait(lambda: not window.session.busy, 60)
    backend.delay_s = 0.0
    _grab(window, out / "03-not-sure.png")  # the farmer: a lone wrong program, not sure

    window.answer_card.check_edit.setText("56")
    window.answer_card.check_button.click()
    _grab(window, out / "04-check-my-answer.png")  # the right answer is not called wrong

    window.solution_card.program_button.click()
    _grab(window, out / "05-program-view.png")
    window.solution_card.worked_button.click()

    window.session.start_hints()
    for _ in range(3):
        window.session.next_hint()
    _grab(window, out / "06-hints.png")


def _shoot_other_outcomes(window, backend, out: Path) -> None:
    """07-12: checked, arithmetic marked, outvoted, no answer, stopped, a long problem cut."""
    _solve(window, BIKE, "both")
    _grab(window, out / "07-checked-both.png")

    _solve(window, FARMER, "cot")
    _grab(window, out / "08-steps-arithmetic-marked.png")

    _solve(window, MUFFINS, "both")
    _grab(window, out / "09-impossible-answer-outvoted.png")

    _solve(window, TEAMS, "pot")
    _grab(window, out / "10-no-answer.png")

    backend.delay_s = 0.05
    window.problem_card.edit.setPlainText(BOOK)
    window.problem_card.mode_combo.setCurrentIndex(0)
    window.session.solve()
    _wait(lambda: len(window.solution_card.program_edit.toPlainText()) > 12 or not window.session.busy, 60)
    window.session.stop()
    _wait(lambda: not window.session.busy, 10)
    backend.delay_s = 0.0
    _grab(window, out / "11-stopped.png")

    window.problem_card.edit.setPlainText(
        PENS + " " + "(This sheet was copied from a long page of notes.) " * 60
    )
    _grab(window, out / "12-long-problem-cut.png")


def _shoot_second_opinion(window, out: Path) -> None:
    """20-24: a doubtful answer sent to a second model, and the result it changed; every answer
    checked: the first answer while the second model works, and the two agreeing; a plausible
    answer offered a check by the second model."""
    worker = window.solver_thread.worker
    # The second model solves the apples problem as the demo student does (they agree).
    script = {**SECOND_OPINION_DEMO, APPLES: DEMO[APPLES]}
    second = DemoBackend(delay_s=0.03, name=SECOND_OPINION_DEMO_NAME, script=script)
    first_factory, first_provider = worker.backend_factory, worker.second_opinion_provider
    worker.backend_factory = lambda entry, threads: (
        second if entry == "second" else first_factory(entry, threads)
    )
    worker.second_opinion_provider = lambda entry: "second"
    window.solver_thread.reload()
    window.problem_card.edit.setPlainText(FARMER)
    window.problem_card.mode_combo.setCurrentIndex(0)
    window.problem_card.samples_spin.setValue(0)  # Auto: with a second opinion, that model is the recheck
    window.session.solve()
    _wait(lambda: "second opinion" in window.problem_card.notice_label.text() or not window.session.busy, 60)
    _grab(window, out / "20-asking-a-second-opinion.png")
    _wait(lambda: not window.session.busy, 60)
    _grab(window, out / "21-second-opinion-answer.png")
    first_every = worker.every_answer_provider
    worker.every_answer_provider = lambda: False  # doubtful answers only: a plausible one is offered a check
    window.problem_card.edit.setPlainText(APPLES)
    window.problem_card.samples_spin.setValue(1)
    window.session.solve()
    _wait(lambda: not window.session.busy, 60)
    _grab(window, out / "24-check-it-with-the-second-model.png")
    worker.every_answer_provider = lambda: True
    window.problem_card.edit.setPlainText(APPLES)
    window.session.solve()
    _wait(lambda: window.session.answer == "checking" or not window.session.busy, 60)
    _grab(window, out / "22-checking-every-answer.png")
    _wait(lambda: not window.session.busy, 60)
    _grab(window, out / "23-checked-by-two-models.png")
    worker.every_answer_provider = first_every
    worker.backend_factory, worker.second_opinion_provider = first_factory, first_provider
    window.solver_thread.reload()


def _shoot_batch_and_settings(window, out: Path) -> None:
    """13-15: a batch read and solved with verdicts, the settings dialog."""
    with tempfile.TemporaryDirectory() as folder:
        problems = Path(folder) / "week-3.txt"
        problems.write_text(
            "\n".join((APPLES, FARMER, BIKE, TICKETS, BOOK, MUFFINS, TEAMS, PENS)), encoding="utf-8"
        )
        window.open_batch()
        dialog = window.batch_dialog
        dialog.resize(1100, 560)
        dialog.load(problems)
        dialog.mode_combo.setCurrentIndex(2)
        _grab(dialog, out / "13-batch-read.png")
        dialog.start()
        _wait(lambda: not dialog.running, 120)
        _grab(dialog, out / "14-batch-verdicts.png")
        dialog.hide()

    # The settings as the README's setup leaves them: the second model installed (in this demo's
    # empty home it is not, and the dialog would show only how to install it).
    from kpdd import models, paths

    installed = models.installed_second_opinion
    models.installed_second_opinion = lambda: models.ModelEntry(
        name=models.SECOND_OPINION.name, path=paths.models_dir() / models.SECOND_OPINION.file_name
    )
    try:
        window.open_settings()
    finally:
        models.installed_second_opinion = installed
    settings_dialog = window.settings_dialog
    _wait(lambda: settings_dialog.isVisible(), 5)
    _grab(settings_dialog, out / "15-settings.png")
    settings_dialog.reject()


def _shoot_themes_and_languages(window, out: Path) -> None:
    """16-19: dark theme, Chinese, both."""
    from desktop.settings import DesktopSettings, apply_settings

    apply_settings(DesktopSettings(theme="dark", language="en"))
    _solve(window, TICKETS, "both")
    _grab(window, out / "16-dark-checked.png")
    _solve(window, FARMER, "pot")
    _grab(window, out / "17-dark-not-sure.png")

    apply_settings(DesktopSettings(theme="light", language="zh_CN"))
    _wait(lambda: False, 0.3)
    _grab(window, out / "18-zh-not-sure.png")
    apply_settings(DesktopSettings(theme="dark", language="zh_CN"))
    _solve(window, BIKE, "both")
    _grab(window, out / "19-zh-dark-checked.png")


def take(out: Path, model: str | None, timeout_s: float, threads: int = 0, real_models: Path | None = None,
         active_name: str | None = None) -> int:  # fmt: skip
    """The main states with a real model (the sample problem; minutes on a small CPU)."""
    from PySide6.QtWidgets import QApplication

    from desktop.app import create_window
    from desktop.qt_app import create_app
    from desktop.settings import DesktopSettings, apply_settings
    from kpdd.models import resources_dir

    out.mkdir(parents=True, exist_ok=True)
    use_model(model, real_models, active_name)
    app = create_app()
    settings = DesktopSettings(theme="light", language="en", threads=threads)
    window = create_window(settings)
    window.resize(1280, 820)
    window.show()
    window.solver_thread.preload()
    _wait(lambda: window.session.model_state in ("ready", "missing", "corrupt"), timeout_s)
    _grab(window, out / "01-empty.png")

    window.problem_card.edit.setPlainText(window.problem_card.samples[0]["question"])
    window.session.solve()
    _wait(lambda: len(window.stages.key.edit.toPlainText()) > 25 or not window.session.busy, timeout_s)
    _grab(window, out / "02-solving.png")
    _wait(lambda: not window.session.busy, timeout_s)
    window.answer_card.check_edit.setText("64")
    window.answer_card.check_button.click()
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


FARMER_ZH = "一个农民有17只羊，山羊的数量是羊的三倍。他卖掉了12只山羊。他现在一共有多少只动物？"


def take_chinese_farmer(out: Path, timeout_s: float, threads: int = 0, real_models: Path | None = None,
                        active_name: str | None = None) -> int:  # fmt: skip
    """26: the farmer typed in Chinese, in the Chinese interface, solved by the default model (the
    student, and the second opinion where the student's answer looks doubtful), its worked steps
    named in Chinese."""
    from PySide6.QtWidgets import QApplication

    from desktop.app import create_window
    from desktop.qt_app import create_app
    from desktop.settings import DesktopSettings
    from kpdd.format import Mode

    out.mkdir(parents=True, exist_ok=True)
    use_model(None, real_models, active_name)
    app = create_app()
    window = create_window(DesktopSettings(theme="light", language="zh_CN", threads=threads))
    window.resize(1280, 820)
    window.show()
    window.problem_card.edit.setPlainText(FARMER_ZH)
    window.session.solve()
    _wait(lambda: not window.session.busy, timeout_s)

    def steps_named() -> bool:  # the Chinese names follow the answer (desktop.workers)
        program = window.session.result.shown_solution(Mode.POT) if window.session.result else None
        return program is None or bool(program.names)

    _wait(steps_named, min(timeout_s, 180))
    _grab(window, out / "26-zh-farmer-default-model.png")
    result = window.session.result
    print(
        f"answer: {result.answer if result else None}, core question: {result.core_question if result else ''}"
    )
    window.close()
    QApplication.processEvents()
    app.quit()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("--scripted", action="store_true",
                        help="every state, solved by a scripted demo model (seconds, no model file)")  # fmt: skip
    parser.add_argument(
        "--model",
        help="a GGUF file (default: the active model of the real KPDD home, "
        "the KPDD student unless another was chosen)",
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for each state")
    parser.add_argument("--threads", type=int, default=0, help="llama.cpp threads (0: automatic)")
    parser.add_argument("--chinese-farmer", action="store_true",
                        help="only screenshot 26: the farmer in Chinese, solved by the default model")  # fmt: skip
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
    if args.model is None and not args.scripted:
        from kpdd import paths
        from kpdd.models import active_model

        # Resolved in the real home, before switching homes.
        real_models, active_name = paths.models_dir(), active_model().name
    from kpdd.fonts import cjk_font_file

    font = cjk_font_file()  # the font for Chinese setup placed, found before switching homes
    with tempfile.TemporaryDirectory(prefix="kpdd-shots-") as home:
        os.environ["KPDD_HOME"] = home
        if font is not None and cjk_font_file() is None:
            (Path(home) / "fonts").mkdir()
            (Path(home) / "fonts" / font.name).symlink_to(font)
        if args.scripted:
            return take_scripted(args.out)
        if args.chinese_farmer:
            return take_chinese_farmer(args.out, args.timeout, args.threads, real_models, active_name)
        return take(args.out, args.model, args.timeout, args.threads, real_models, active_name)


if __name__ == "__main__":
    sys.exit(main())

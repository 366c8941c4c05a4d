"""Offscreen tests of Help > About: version, active model and its provenance, license texts."""

from __future__ import annotations

import os
from importlib import metadata

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

from tests.desktop_fixtures import close_window, make_window, wait_until  # noqa: E402


@pytest.fixture
def window(kpdd_home):
    win, _backend = make_window()
    win.show()
    yield win
    close_window(win)


def open_about(window):
    window.about_action.trigger()
    dialog = window.about_dialog
    assert wait_until(dialog.isVisible, 5)
    return dialog


def test_about_shows_version_model_and_licenses(window, kpdd_home, smollm2_gguf, qwen05_gguf):
    from kpdd import models

    (kpdd_home / "models").mkdir(exist_ok=True)
    for base in (smollm2_gguf, qwen05_gguf):  # what setup places
        (kpdd_home / "models" / base.name).symlink_to(base)
    assert window.help_menu.actions() == [window.about_action]
    dialog = open_about(window)
    assert dialog.title_label.text() == f"KPDD Tutor {metadata.version('kpdd-tutor')}"
    body = dialog.body.toPlainText()
    assert "Key-Point-Driven Distillation" in body and "2407.10167" in body
    # First what a student wants to know: which model answers and how often it is right.
    student = models.default_model()
    assert student.kind == "bundled" and student.name == "KPDD Qwen2.5-Coder-0.5B"
    answering = body.index("Which model answers")
    assert body.index(f"{student.name} answers your problems.") > answering
    assert f"Measured: {student.measured_text}." in body
    assert answering < body.index("Program sandbox") < body.index("Licenses") < body.index("Model details")
    # The technical details come last, short: no training internals per sitting.
    details = body[body.index("Model details") :]
    assert f"{qwen05_gguf.name} + {student.lora_path.name}" in details
    assert "Q4_K_M" in details and "qwen2" in details and "trained on the KPDD format (kpdd-1)" in details
    teachers = student.provenance["teachers"]
    assert f"gold {teachers['gold']}" in details and "{'" not in details  # not a repr
    assert "Qwen2.5-Coder-1.5B-Instruct" in details  # the LLM teacher is named
    assert "sitting" not in body and "recipe" not in body
    assert models.QWEN_CODER_05B.packages in body and models.QWEN_CODER_05B.sha256 in body
    for name in ("Apache-2.0", "LGPL-3.0", "MIT", "BSD-3-Clause", "PSF-2.0", "PySide6", "llama.cpp"):
        assert name in body, name
    assert dialog.licenses_button.accessibleName() and dialog.body.accessibleName()

    dialog.licenses_button.click()
    licenses = dialog.licenses_dialog
    assert wait_until(licenses.isVisible, 5)
    text = licenses.text_edit.toPlainText()
    assert "Apache License" in text and "LGPL-3.0" in text
    assert licenses.text_edit.isReadOnly()


def test_about_without_model_and_escape_closes(window):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    dialog = open_about(window)
    assert "No model is installed yet: run `kpdd setup`." in dialog.body.toPlainText()
    QTest.keyClick(dialog, Qt.Key.Key_Escape)
    assert wait_until(lambda: not dialog.isVisible(), 5)


def test_frozen_build_shows_bundled_notices(tmp_path, monkeypatch):
    from desktop import about

    notices = tmp_path / "licenses" / "THIRD-PARTY-NOTICES.txt"
    notices.parent.mkdir()
    notices.write_text("llama.cpp b1234: MIT\nkpdd-tutor: Apache-2.0\n", encoding="utf-8")
    monkeypatch.setattr("sys._MEIPASS", str(tmp_path), raising=False)
    text = about.licenses_text()
    assert text.startswith("llama.cpp b1234: MIT\nkpdd-tutor: Apache-2.0\n")
    assert str(notices.parent) in text


def test_about_is_translated_to_chinese(window):
    from desktop.settings import set_language

    assert set_language("zh_CN")
    try:
        window.about_action.trigger()
        dialog = window.about_dialog
        assert dialog.windowTitle() == "关于 KPDD 数学辅导"
        assert dialog.licenses_button.text() == "许可证(&L)..."
        assert "关键点驱动蒸馏" in dialog.body.toPlainText()
        # The main window retranslates on the LanguageChange event that Qt posts.
        assert wait_until(lambda: window.help_menu.title() == "帮助(&H)", 5)
        dialog.reject()
    finally:
        set_language("en")


def test_about_shows_the_sandbox_protections_in_force(window):
    """What the sandbox's worker reports here, feature by feature (all in force on this machine)."""
    dialog = open_about(window)
    body = dialog.body.toPlainText()
    assert "Program sandbox" in body
    for label in (
        "System-call filter (seccomp)",
        "File and network rules (Landlock)",
        "No network (a network namespace of its own)",
        "A fresh process for each program",
    ):
        assert label in body, label
    rows = dialog.sandbox_rows()
    assert rows and all(active for _, _, active in rows), rows
    assert "Some protections are off" not in body
    dialog.reject()


def test_about_says_which_protection_is_off_and_why(window, monkeypatch):
    """A machine without libseccomp or Landlock: the dialog says so instead of running weaker silently."""
    from kpdd import sandbox

    weaker = [
        sandbox.OSFeature("seccomp", False, "no_libseccomp", "Unable to find libseccomp"),
        sandbox.OSFeature("landlock", False, "kernel", "ENOSYS: Function not implemented"),
        sandbox.OSFeature("network_namespace", True, "active", "user namespace"),
    ]
    from kpdd.sandbox import parent

    monkeypatch.setattr(parent, "os_layer_status", lambda: weaker)  # what protection() reads
    dialog = open_about(window)
    body = dialog.body.toPlainText()
    assert "off: the system library libseccomp.so.2 is missing (Unable to find libseccomp)" in body
    assert "off: this kernel does not offer it (ENOSYS: Function not implemented)" in body
    assert "None of these holds programs on this computer, so programs do not run" in body
    assert "Tested on Linux (seccomp and Landlock)" in body
    dialog.reject()
    # seccomp alone still holds programs: weaker, but they run.
    weaker[0] = sandbox.OSFeature("seccomp", True, "active", "40 BPF instructions")
    dialog = open_about(window)
    body = dialog.body.toPlainText()
    assert "Some protections are off on this computer" in body and "None of these" not in body
    dialog.reject()


def test_the_sandbox_section_is_translated_to_chinese(window):
    from desktop.settings import set_language

    assert set_language("zh_CN")
    try:
        window.about_action.trigger()
        body = window.about_dialog.body.toPlainText()
        assert "程序沙箱" in body and "系统调用过滤(seccomp)" in body and "已启用" in body
        window.about_dialog.reject()
    finally:
        set_language("en")

"""The installer's pieces, checked from the source tree (packaging/).

The frozen build itself is tested by `packaging/smoke_test.sh` (build, self-test, network-cut
self-test, sizes, timings); here: the entry script's dispatch (version, CLI, sandbox worker, desktop),
the bundled-default-model hook, the self-test's steps and reporting, the license gathering, and the
Linux installer script. The full unfrozen self-test (`python packaging/entry.py --self-test`) runs
as a slow test.
"""

from __future__ import annotations

import configparser
import importlib.util
import io
import json
import os
import struct
import subprocess
import sys
import tarfile
from importlib.metadata import version
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGING = REPO / "packaging"
ENTRY = PACKAGING / "entry.py"
PYTHON = sys.executable


def load(name: str):
    """Import a packaging/ script as a module (packaging/ is not a package: the name is taken)."""
    if str(PACKAGING) not in sys.path:
        sys.path.insert(0, str(PACKAGING))
    spec = importlib.util.spec_from_file_location(name, PACKAGING / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def run_entry(
    *args: str, env: dict | None = None, timeout: float = 120, **kwargs
) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", **(env or {})}
    return subprocess.run([PYTHON, str(ENTRY), *args], capture_output=True, text=True, env=full_env,
                          timeout=timeout, cwd=REPO, **kwargs)  # fmt: skip


# --------------------------------------------------------------------------- entry dispatch


def test_version_comes_from_the_package_metadata():
    from importlib import metadata

    result = run_entry("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"KPDD Tutor {metadata.version('kpdd-tutor')}"


def test_cli_argument_dispatches_to_the_kpdd_command_line(kpdd_home):
    result = run_entry("cli", "models", env={"KPDD_HOME": str(kpdd_home)})
    # No model in an empty home: kpdd.cli's own message, so the call reached kpdd.cli.main.
    assert "kpdd setup" in result.stdout + result.stderr
    help_text = run_entry("cli", "--help").stdout
    assert "solve" in help_text and "eval" in help_text


def _message(stream) -> tuple[dict, bytes]:
    """One frame from a sandbox template: (header, body), see kpdd/sandbox/worker.py."""
    head_len, body_len = struct.unpack(">II", stream.read(8))
    return json.loads(stream.read(head_len)), stream.read(body_len)


def test_worker_flag_makes_the_entry_a_sandbox_worker():
    """The frozen app starts its sandbox workers as `APP --kpdd-sandbox-worker`: same protocol here."""
    proc = subprocess.Popen([PYTHON, str(ENTRY), "--kpdd-sandbox-worker"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={}, cwd=REPO)  # fmt: skip
    try:
        hello, _ = _message(proc.stdout)
        assert hello["ready"] is True and hello.get("pid", proc.pid) == proc.pid
        request = json.dumps({"source": "answer = 6 * 14 - 20", "timeout_s": 2.0, "memory_mb": 256}).encode()
        proc.stdin.write(struct.pack(">I", len(request)) + request)
        proc.stdin.flush()
        header, body = _message(proc.stdout)
        assert header["result"] is True and header["status"] == "exited"
        reply = json.loads(body)
        assert reply["ok"] is True and reply["answer"] == 64
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)
    assert proc.returncode == 0


def test_no_argument_starts_the_desktop_app(kpdd_home):
    result = run_entry("--report-ready", "--quit-after", "--no-preload",
                       env={"KPDD_HOME": str(kpdd_home), "KPDD_TUTOR_HARD_EXIT": "1"})  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert any(line.startswith("READY ") for line in result.stdout.splitlines()), result.stdout


# --------------------------------------------------------------------------- bundled default model


@pytest.fixture
def fake_bundle(tmp_path, monkeypatch, smollm2_gguf, kpdd_home):
    """A PyInstaller-like bundle folder holding the default GGUF under resources/models/."""

    bundle = tmp_path / "bundle"
    (bundle / "resources" / "models").mkdir(parents=True)
    (bundle / "resources" / "models" / smollm2_gguf.name).symlink_to(smollm2_gguf)
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)
    return bundle


def test_bundled_model_is_the_default_when_the_user_has_none(fake_bundle):
    """kpdd.models finds the GGUF an installer carries under resources/models/, with no setup."""
    from kpdd import models

    default = models.default_model()
    assert default.kind == "default" and default.available
    assert default.path == fake_bundle / "resources" / "models" / models.SMOLLM2.file_name
    assert default.quantization == "Q4_1" and default.license == "Apache-2.0"
    assert len([e for e in models.list_models() if e.path == default.path]) == 1


def test_a_model_in_the_users_folder_wins_over_the_bundled_one(fake_bundle, kpdd_home, smollm2_gguf):
    from kpdd import models

    (kpdd_home / "models").mkdir()
    user_copy = kpdd_home / "models" / smollm2_gguf.name
    user_copy.symlink_to(smollm2_gguf)
    assert models.default_model().path == user_copy


def test_self_test_asks_the_second_opinion_an_installer_carries(fake_bundle, smollm2_gguf, kpdd_home,
                                                               monkeypatch, tmp_path):  # fmt: skip
    """An installer built with the second-opinion model: the self-test loads it from the bundle and
    solves the sample with it; turned off, or not carried, the default answers alone (not a failure).
    SmolLM2 stands in for the 1.1 GB Qwen2.5-Coder-1.5B, asked about a copy under another name."""
    from kpdd import models
    from tests.conftest import pretend_second_opinion

    selftest = load("selftest")
    pretend_second_opinion(monkeypatch, models.SMOLLM2)
    first = kpdd_home / "first-model.gguf"
    first.symlink_to(smollm2_gguf)
    ctx = selftest.Context(workdir=tmp_path, threads=1, entry=models.add_model(first))
    detail = selftest.step_second_opinion(ctx)
    assert detail.startswith(f"{models.SMOLLM2.name} (") and "shipped in the bundle" in detail, detail
    assert "tokens in" in detail
    models.set_second_opinion_use(models.SecondOpinionUse.OFF)
    assert "turned off in Settings" in selftest.step_second_opinion(ctx)
    models.set_second_opinion_use(models.SecondOpinionUse.DOUBTFUL)
    (fake_bundle / "resources" / "models" / smollm2_gguf.name).unlink()
    assert selftest.step_second_opinion(ctx) == "none in this installation: the default answers alone"


# --------------------------------------------------------------------------- self-test steps


def test_steps_report_every_failure_and_the_run_fails(tmp_path, monkeypatch):
    selftest = load("selftest")

    def broken(ctx):
        raise selftest.StepFailed("the thing is broken")

    def crashing(ctx):
        raise RuntimeError("boom")

    monkeypatch.setattr(
        selftest, "STEPS", [("app", selftest.step_app), ("broken", broken), ("crash", crashing)]
    )
    lines: list[str] = []
    steps = selftest.run_steps(selftest.Context(workdir=tmp_path), out=lines.append)
    assert [(s.name, s.ok) for s in steps] == [("app", True), ("broken", False), ("crash", False)]
    assert "the thing is broken" in lines[1] and lines[1].startswith("[FAIL]")
    assert "RuntimeError: boom" in lines[2]
    report = tmp_path / "report.json"
    assert selftest.main(["--json", str(report)]) == 1
    data = json.loads(report.read_text())
    assert data["passed"] is False and [s["name"] for s in data["steps"]] == ["app", "broken", "crash"]


def test_bundle_check_needs_licenses_translations_and_icons_and_no_training_stack(tmp_path):
    selftest = load("selftest")
    bundle = tmp_path / "bundle"
    (bundle / "licenses").mkdir(parents=True)
    (bundle / "resources" / "translations").mkdir(parents=True)
    (bundle / "resources" / "icons").mkdir(parents=True)
    with pytest.raises(selftest.StepFailed, match="license texts are missing"):
        selftest.check_bundle_contents(bundle)
    (bundle / "licenses" / "THIRD-PARTY-NOTICES.txt").write_text("PySide6 LGPL llama.cpp MIT Apache-2.0")
    with pytest.raises(selftest.StepFailed, match="translations"):
        selftest.check_bundle_contents(bundle)
    (bundle / "resources" / "translations" / "kpdd_zh_CN.qm").write_bytes(b"qm")
    (bundle / "resources" / "icons" / "kpdd-tutor.svg").write_text("<svg/>")
    with pytest.raises(selftest.StepFailed, match="font for Chinese"):
        selftest.check_bundle_contents(bundle)
    (bundle / "resources" / "fonts").mkdir()
    (bundle / "resources" / "fonts" / "wqy-microhei.ttc").write_bytes(b"ttc")
    assert "kpdd_zh_CN.qm" in selftest.check_bundle_contents(bundle)
    (bundle / "torch").mkdir()
    with pytest.raises(selftest.StepFailed, match="torch"):
        selftest.check_bundle_contents(bundle)


def test_sandbox_step_runs_in_a_worker_that_is_this_interpreter(tmp_path):
    selftest = load("selftest")
    detail = selftest.step_sandbox(selftest.Context(workdir=tmp_path))
    assert "answer 64" in detail and os.path.realpath(sys.executable) in detail
    assert "runaway program stopped" in detail


def test_worker_check_refuses_a_process_that_is_another_program(tmp_path):
    selftest = load("selftest")
    other = subprocess.Popen(["sleep", "30"])
    try:
        with pytest.raises(selftest.StepFailed, match="workers run"):
            selftest.check_workers_are_this_app({other.pid})
    finally:
        other.kill()
        other.wait()


def test_sheet_step_writes_a_complete_pdf(tmp_path):
    from kpdd.format import Mode
    from kpdd.result import Solution, SolveResult
    from kpdd.sandbox import ProgramResult

    selftest = load("selftest")
    result = SolveResult(problem=selftest.SAMPLE_PROBLEM, mode=Mode.POT, core_question="How many apples are left?",
                         key_information=["6 baskets of 14", "20 given away"], answer=64.0)  # fmt: skip
    result.solutions.append(Solution(Mode.POT, "answer = 6 * 14 - 20", answer=64.0,
                                     execution=ProgramResult(ok=True, answer=64)))  # fmt: skip
    detail = selftest.step_sheet(selftest.Context(workdir=tmp_path, result=result))
    pdf = tmp_path / "self-test-sheet.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-") and "1 page(s)" in detail


def test_llama_step_loads_the_libraries_and_names_cpu_features(tmp_path):
    selftest = load("selftest")
    detail = selftest.step_llama(selftest.Context(workdir=tmp_path))
    assert "libllama" in detail and "AVX" in detail


@pytest.mark.slow
def test_unfrozen_self_test_passes(tmp_path):
    """`python packaging/entry.py --self-test`: the same self-test the frozen app runs, from source."""
    report = tmp_path / "report.json"
    result = run_entry("--self-test", "--json", str(report), timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    data = json.loads(report.read_text())
    assert data["passed"] and [s["name"] for s in data["steps"]] == [
        "app", "llama.cpp", "model", "solve", "second", "sandbox", "sheet"]  # fmt: skip
    assert "SELF-TEST PASSED" in result.stdout


# --------------------------------------------------------------------------- licenses, installer


def test_license_texts_are_gathered_from_the_installed_packages(tmp_path):
    gather = load("gather_licenses")
    sdist = tmp_path / "llama_cpp_python-0.0.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as archive:
        text = b"MIT License\n\nCopyright (c) 2023-2024 The ggml authors\n"
        info = tarfile.TarInfo("llama_cpp_python-0.0.0/vendor/llama.cpp/LICENSE")
        info.size = len(text)
        archive.addfile(info, io.BytesIO(text))
    out = tmp_path / "licenses"
    summary, missing = gather.gather(out, sdist, None)
    assert (out / "llama.cpp" / "LICENSE").read_bytes() == text
    assert (out / "llama-cpp-python" / "LICENSE.md").read_text().startswith("MIT License")
    assert f"PySide6 {version('PySide6-Essentials')}" in summary and "LGPL-3.0" in summary
    assert "Apache-2.0" in (out / "model" / "MODEL.txt").read_text()
    assert (out / "THIRD-PARTY-NOTICES.txt").read_text() == summary
    expected_missing = [] if Path("/usr/share/common-licenses/LGPL-3").exists() else ["PySide6", "shiboken6"]
    assert missing == expected_missing


def test_license_gathering_reports_a_missing_text(tmp_path):
    gather = load("gather_licenses")
    _, missing = gather.gather(tmp_path / "licenses", None, None)  # no sdist: llama.cpp's text is missing
    assert "llama.cpp" in missing
    assert "llama.cpp" in (tmp_path / "licenses" / "THIRD-PARTY-NOTICES.txt").read_text()


def test_desktop_entry_names_the_installed_command_and_icon():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(PACKAGING / "linux" / "kpdd-tutor.desktop", encoding="utf-8")
    section = entry["Desktop Entry"]
    assert section["Type"] == "Application" and section["Exec"] == "kpdd-tutor"
    assert section["Icon"] == "kpdd-tutor" and section["Categories"].endswith(";")
    assert (REPO / "resources" / "icons" / "kpdd-tutor.svg").exists()


def test_linux_install_script_installs_and_uninstalls(tmp_path):
    package = tmp_path / "kpdd-tutor-0.1.0"
    (package / "kpdd-tutor").mkdir(parents=True)
    app = package / "kpdd-tutor" / "kpdd-tutor"
    app.write_text('#!/bin/sh\necho installed-app "$@"\n')
    app.chmod(0o755)
    for name in ("install.sh", "kpdd-tutor.desktop"):
        (package / name).write_bytes((PACKAGING / "linux" / name).read_bytes())
    for name in ("kpdd-tutor.svg", "kpdd-tutor.png"):
        (package / name).write_bytes((REPO / "resources" / "icons" / name).read_bytes())
    prefix, bin_dir, share = tmp_path / "opt" / "kpdd-tutor", tmp_path / "bin", tmp_path / "share"
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PREFIX": str(prefix), "BIN_DIR": str(bin_dir),
           "DATA_HOME": str(share)}  # fmt: skip
    subprocess.run(["sh", str(package / "install.sh")], check=True, env=env, capture_output=True)
    launched = subprocess.run([str(bin_dir / "kpdd-tutor"), "--self-test"], capture_output=True, text=True)
    assert launched.stdout.strip() == "installed-app --self-test"
    desktop = (share / "applications" / "kpdd-tutor.desktop").read_text()
    assert f'Exec="{prefix}/kpdd-tutor"' in desktop
    assert (share / "icons" / "hicolor" / "scalable" / "apps" / "kpdd-tutor.svg").exists()
    subprocess.run(
        ["sh", str(package / "install.sh"), "--uninstall"], check=True, env=env, capture_output=True
    )
    assert not prefix.exists() and not (bin_dir / "kpdd-tutor").exists()
    assert not (share / "applications" / "kpdd-tutor.desktop").exists()


ICU_CHECK = r"""
import ctypes, sys
trimmed, qt_lib, v = sys.argv[1], sys.argv[2], sys.argv[3]
ctypes.CDLL(trimmed, mode=ctypes.RTLD_GLOBAL)  # the soname is taken: libicuuc links to this copy
uc = ctypes.CDLL(f"{qt_lib}/libicuuc.so.{v}", mode=ctypes.RTLD_GLOBAL)
i18n = ctypes.CDLL(f"{qt_lib}/libicui18n.so.{v}")
for name in ("uloc_getDisplayName", "ucnv_open"):
    setattr(uc, name, getattr(uc, f"{name}_{v}"))
i18n.ucol_open = i18n[f"ucol_open_{v}"]
status = ctypes.c_int(0)
out = (ctypes.c_uint16 * 64)()
n = uc.uloc_getDisplayName(b"zh_CN", b"zh", out, 64, ctypes.byref(status))
print("display", "".join(map(chr, out[:n])), status.value)
ucol_open = i18n.ucol_open
ucol_open.restype = ctypes.c_void_p
status.value = 0
print("collator", bool(ucol_open(b"zh_CN", ctypes.byref(status))), status.value <= 0)
status.value = 0
uc.ucnv_open(b"UTF-8", ctypes.byref(status))
print("utf8", status.value)
status.value = 0
uc.ucnv_open(b"Shift_JIS", ctypes.byref(status))
print("sjis", status.value)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PySide6 ships its own ICU on Linux only")
def test_trimmed_icu_data_keeps_the_app_languages_and_loads_in_icu(tmp_path):
    import PySide6

    trim_icu = load("trim_icu")
    qt_lib = Path(PySide6.__file__).parent / "Qt" / "lib"
    source = next(qt_lib.glob("libicudata.so.*"))
    out = tmp_path / source.name
    stats = trim_icu.trim(source, out, {"en", "zh"})
    assert stats["bytes_after"] < stats["bytes_before"] / 2
    assert trim_icu.keep_item("icudt73l/coll/zh_Hant.res", {"zh", "root"})
    assert trim_icu.keep_item("icudt73l/brkitr/line.brk", {"en", "root"})
    assert trim_icu.keep_item("icudt73l/res_index.res", {"en", "root"})
    assert not trim_icu.keep_item("icudt73l/coll/ko.res", {"en", "zh", "root"})
    assert not trim_icu.keep_item("icudt73l/ibm-1390_P110-2003.cnv", {"en", "root"})
    run = subprocess.run(
        [PYTHON, "-c", ICU_CHECK, str(out), str(qt_lib), source.name.rsplit(".", 1)[1]],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    lines = dict(line.split(" ", 1) for line in run.stdout.splitlines())
    assert lines["display"] == "中文（中国） 0"  # Chinese locale data kept
    assert lines["collator"] == "True True"
    assert lines["utf8"] == "0"  # built into ICU's code
    assert lines["sjis"] != "0"  # legacy code pages are what was dropped

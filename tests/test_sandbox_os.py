"""The operating-system layer of kpdd.sandbox, proven alone: with the Python layers (the AST check, the
audit hook, the restricted builtins) left out, every hostile program is contained, checked by its
effects; and each Linux feature alone stops what it is for.

Programs run in tests/sandbox_os_driver.py, a process of its own with a secret in its environment
that becomes the subreaper of anything a program leaves behind. A kernel without one of the features
fails here loudly (test_every_linux_feature_is_active_here); nothing is skipped.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from kpdd import sandbox
from kpdd.sandbox import parent as sandbox_parent  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DRIVER = REPO / "tests" / "sandbox_os_driver.py"
CORPUS = REPO / "tests" / "hostile_programs"
HOSTILE = sorted(CORPUS.glob("*.py"))
LINUX_FEATURES = ("seccomp", "landlock", "network_namespace", "unprivileged_user", "fresh_process")
OS_FEATURES = ("seccomp", "landlock", "network_namespace", "unprivileged_user")

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the tested OS layer is Linux's")


def _header(path: Path, key: str) -> list[str] | None:
    for line in path.read_text(encoding="utf-8").splitlines()[:5]:
        if line.startswith(f"# {key}:"):
            return line.split(":", 1)[1].strip().split("|")
    return None


def run_driver(
    disable: str, programs: list[Path], timeout: float = 0.5
) -> tuple[list[dict], dict[str, dict]]:
    secret = "secret-" + secrets.token_hex(8)
    env = {"KPDD_TEST_SECRET": secret, **os.environ}  # first: an answer keeps only 10,000 characters
    env.pop("KPDD_SANDBOX_PYTHON", None)
    out = subprocess.run(
        [sys.executable, str(DRIVER), "--disable", disable, "--timeout", str(timeout), *map(str, programs)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    lines = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    assert secret not in out.stdout  # no program's answer, output or error carried the secret
    features = lines[0]["features"]
    return features, {report["program"]: report for report in lines[1:]}


def assert_contained(report: dict) -> None:
    name = report["program"]
    assert report["files"] == ["canary.txt"], f"{name} created or removed files: {report['files']}"
    assert report["canary"] == report["token"], f"{name} changed the canary"
    assert report["outside"] == [], f"{name} wrote outside: {report['outside']}"
    assert not report["connected"], f"{name} reached the TCP listener"
    assert report["datagram"] == "", f"{name} reached the UDP listener"
    assert not report["secret_seen"], f"{name} saw a secret (the parent's environment or the canary)"
    assert report["stray"] == [], f"{name} left processes behind: {report['stray']}"
    assert report["template_kept"], f"{name} killed or broke its template"
    assert report["next_same"], f"{name} changed what the next program computes"


def assert_active(features: list[dict], wanted: tuple[str, ...]) -> None:
    state = {f["name"]: f for f in features}
    missing = [f"{name}: {state.get(name)}" for name in wanted if not state.get(name, {}).get("active")]
    assert not missing, "OS-layer features not in force here: " + "; ".join(missing)


def test_every_linux_feature_is_active_here() -> None:
    """What the app runs with (no test flags); a kernel or machine without a feature fails here."""
    features = {f.name: f for f in sandbox.os_layer_status()}
    assert_active([f.__dict__ for f in features.values()], LINUX_FEATURES)
    assert features["landlock"].detail.startswith("ABI ")


@pytest.fixture(scope="module")
def os_layer_alone() -> dict[str, dict]:
    features, reports = run_driver("python", HOSTILE)
    assert_active(features, LINUX_FEATURES)
    return reports


@pytest.mark.parametrize("path", HOSTILE, ids=lambda p: p.stem)
def test_os_layer_alone_contains_every_hostile_program(path: Path, os_layer_alone: dict[str, dict]) -> None:
    report = os_layer_alone[path.stem]
    assert_contained(report)
    expected = _header(path, "os")
    if expected:  # programs whose failure under the OS layer alone is predictable
        assert not report["ok"] and report["error_kind"] in expected, report


# Each feature alone, on the programs whose threat it is for. Programs that would do real harm with
# that feature alone (a fork bomb as root under Landlock alone) are not run with it.
ALONE = {
    "seccomp": "file_write_open file_read_canary create_temp_file file_delete_via_subclasses os_system "
    "subprocess_run fork_bomb ctypes_libc_socket ctypes_libc_fork signal_kill_parent kill_process_group "
    "setsid_fork_escape proc_parent_environ proc_mem_write thread_start exec_shell review_escape_chain",
    "landlock": "file_write_open file_read_canary create_temp_file file_delete_via_subclasses os_system "
    "proc_parent_environ proc_mem_write socket_connect ctypes_libc_socket signal_kill_parent",
    "network_namespace": "socket_connect udp_send socket_bind_listen ctypes_libc_socket",
    "unprivileged_user": "file_write_open file_delete_via_subclasses proc_parent_environ proc_mem_write "
    "fork_bomb ctypes_libc_fork",
}


@pytest.mark.parametrize("feature", sorted(ALONE))
def test_each_os_feature_alone(feature: str) -> None:
    others = [name for name in OS_FEATURES if name != feature]
    programs = [CORPUS / f"{name}.py" for name in ALONE[feature].split()]
    features, reports = run_driver(",".join(["python", *others]), programs)
    assert_active(features, (feature,))
    state = {f["name"]: f for f in features}
    assert all(state[name]["reason"] == "disabled_for_test" for name in others)
    assert sorted(reports) == sorted(p.stem for p in programs)
    for report in reports.values():
        assert_contained(report)


def test_the_checks_see_an_escape_when_every_layer_is_off(tmp_path: Path) -> None:
    """The harness itself: with no layer at all, the same checks do see files, connections, a secret
    and a process left behind (so their silence above means something). (The parent's environment
    stays out of reach even so: a program's process has no capabilities, so it may not read the
    /proc/PID/environ of a process that has them.)"""
    leaver = tmp_path / "leave_a_process.py"
    leaver.write_text("import os, time\nif os.fork() == 0:\n    time.sleep(3)\n    os._exit(0)\nanswer = 1\n")
    programs = [CORPUS / "os_system.py", CORPUS / "socket_connect.py", CORPUS / "file_read_canary.py", leaver]
    _, reports = run_driver(",".join(["python", *OS_FEATURES]), programs)
    assert "pwned.txt" in reports["os_system"]["files"]
    assert reports["socket_connect"]["connected"]
    assert reports["file_read_canary"]["secret_seen"]
    assert reports["leave_a_process"]["stray"]


def test_layers_can_only_be_disabled_from_tests() -> None:
    """No code of the app, the CLI or the installer can reach the test-only path, and a frozen app
    refuses it; the worker honours --test-disable only when run as a script (not via worker_main)."""
    for folder in ("kpdd", "desktop", "packaging", "distill", "export"):
        for path in (REPO / folder).rglob("*.py"):
            if path.parent.name == "sandbox" and path.parent.parent.name == "kpdd":
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            assert "_unguarded_pool" not in text and "--test-disable" not in text, path
    with pytest.raises(ValueError):
        sandbox_parent._unguarded_pool()
    with pytest.raises(ValueError):
        sandbox_parent._unguarded_pool("everything")
    sys.frozen = True  # type: ignore[attr-defined]
    try:
        with pytest.raises(RuntimeError):
            sandbox_parent._unguarded_pool("python")
    finally:
        del sys.frozen  # type: ignore[attr-defined]
    from kpdd.sandbox import worker

    assert worker._parse(["--kpdd-sandbox-worker", "--test-disable=python,seccomp"], False)[0] == frozenset()
    assert sandbox_parent.TEST_LAYERS >= worker._parse(["--test-disable=python,seccomp"], True)[0]


def _run_unguarded(source: str, *disable: str) -> sandbox.ProgramResult:
    pool = sandbox_parent._unguarded_pool(*disable)
    try:
        return sandbox_parent._run_checked(source, 2.0, 128, None, pool=pool)
    finally:
        pool.shutdown()


def test_landlock_lets_a_program_read_the_standard_library_but_not_installed_packages() -> None:
    """Landlock's rule is laid entry by entry over the standard library's folder, leaving out the
    site-packages that pyenv and python.org layouts keep inside it."""
    import sysconfig

    from kpdd.sandbox import os_layer

    assert not [p for p in os_layer.read_paths() if "site-packages" in p or "dist-packages" in p]
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    assert str(stdlib / "os.py") in os_layer.read_paths()
    # Root reads them here (no user switch), so only Landlock stands between the program and the files.
    inside = stdlib / "site-packages"
    package_file = next((p for p in sorted(inside.glob("*.py")) + sorted(inside.glob("*.txt"))), None)
    source = f"answer = len(open({str(stdlib / 'os.py')!r}).read())"
    result = _run_unguarded(source, "python", "seccomp", "unprivileged_user")
    assert result.ok and result.answer > 1000, result
    if package_file is not None:  # this layout keeps packages inside the standard library
        result = _run_unguarded(f"answer = open({str(package_file)!r}).read()", "python", "seccomp",
                                "unprivileged_user")  # fmt: skip
        assert not result.ok and "Permission denied" in result.error, result


def test_seccomp_refuses_looking_at_paths_with_access_and_readlink() -> None:
    """`access` and `readlink` tell whether a file exists and where a link points, for any path: the
    filter refuses both (`stat` stays: glibc's fstat needs the same system call)."""
    result = _run_unguarded("import os\nanswer = os.readlink('/proc/self/exe')", "python", "landlock")
    assert not result.ok and "Operation not permitted" in result.error, result
    result = _run_unguarded("import os\nanswer = str(os.access('/', os.F_OK))", "python", "landlock")
    assert result.ok and result.answer == "False", result
    everything_off = ("python", "seccomp", "landlock", "network_namespace", "unprivileged_user")
    result = _run_unguarded("import os\nanswer = str(os.access('/', os.F_OK))", *everything_off)
    assert result.ok and result.answer == "True", result  # the check above can fail


def test_the_real_uid_is_reported_not_the_namespace_one() -> None:
    """An ordinary user's worker enters a user namespace, inside which its uid reads 65534: About must
    show the uid programs really run as."""
    from kpdd.sandbox import os_layer

    layer = os_layer.LinuxLayer(frozenset({"seccomp", "landlock"}))
    assert layer.real_uid == os.getuid()
    if os.geteuid() != 0:
        layer.prepare()
        assert layer.features["unprivileged_user"].detail == f"uid {os.getuid()}"


def test_as_nobody_a_standard_library_it_cannot_read_still_serves_every_allowed_module() -> None:
    """The worker switches to `nobody` even where that user cannot read the standard library (a Python
    under /root, as on this machine and in CI): every module a program may use, and everything those
    load lazily, is imported before the switch, and the Python layer refuses any other import anyway."""
    import stat
    import sysconfig

    stdlib = Path(sysconfig.get_paths()["stdlib"])
    hidden = any(not (folder.stat().st_mode & stat.S_IXOTH) for folder in [stdlib, *stdlib.parents])
    features = {f.name: f for f in sandbox.os_layer_status()}
    assert features["unprivileged_user"].active
    read_os_py = f"answer = len(open({str(stdlib / 'os.py')!r}).read())"
    direct = _run_unguarded(read_os_py, "python", "seccomp", "landlock")
    if hidden and os.geteuid() == 0:  # what the test is about: nobody cannot read the stdlib here
        assert not direct.ok and "Permission denied" in direct.error, direct
    else:
        assert direct.ok, direct
    lazy = "import statistics\nanswer = statistics.mode([2, 7, 7, 3]) + int('١٢')"
    assert sandbox.run_program(lazy).answer == 19

"""The sandbox's operating-system layer: what holds when a program has escaped every Python layer.

Standalone (stdlib, plus the optional ``pyseccomp`` and ``landlock`` packages), like
``worker.py``, which loads it. Nothing here is reached from user code: the worker applies it
in each program's process before reading the program.

Linux (tested): the template worker (a fork server that never runs user code) prepares, once:
- a network namespace of its own (``unshare(CLONE_NEWNET)`` as root, else together with a new user
  namespace where the kernel lets unprivileged users have one): only a loopback that is down, so no
  network even where seccomp is missing;
- if it runs as root: it becomes ``nobody`` (after the steps that need root), so file permissions
  and signal rules apply to programs, and RLIMIT_NPROC counts. It does so even where ``nobody``
  cannot read the standard library (a Python under /root): the worker imports every module a program
  may use, and what those load lazily, before the switch, and the Python layer refuses other imports;
- a seccomp-bpf filter built with ``pyseccomp`` (libseccomp) and exported once as raw BPF: an
  allowlist of what the interpreter needs to compute and write to its pipes. No opening for writing,
  no sockets, no exec, no fork/clone/vfork (clone3 gives ENOSYS, so glibc cannot fall back around
  it), no signals, no ptrace, no executable memory, no raising of limits; everything else EPERM;
- a Landlock ruleset: files may be read only under the Python runtime's own folders (entry by entry
  where site-packages sits inside the standard library's folder, so installed packages stay out), nothing may be
  written, created, removed or executed; TCP bind/connect refused (ABI 4+); no signals to processes
  outside the program's own domain and no abstract UNIX sockets (ABI 6+).
Each program's process (forked from the template) then closes every inherited descriptor it does not
need, sets its parent-death signal, drops all capabilities, sets no_new_privs, enters the Landlock
domain and installs the filter, before it reads the program. A feature the template prepared but a
child cannot apply stops that child (fail closed); a feature the machine lacks is reported inactive
with the reason (``features()``), and the app shows it (Help > About).

Windows and macOS: written with the platforms' own APIs, never run here (untried):
- Windows (``windows_restrict_self``): the worker lowers its own token to Low integrity and disables
  all its privileges; the parent puts it in a Job Object (kpdd.sandbox).
- macOS: the parent starts the worker under ``sandbox-exec`` with a profile denying network and file
  writes (kpdd.sandbox).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import sys

# Feature names, as reported to the parent (kpdd.sandbox.OSFeature) and shown in Help > About.
SECCOMP = "seccomp"
LANDLOCK = "landlock"
NETNS = "network_namespace"
NOBODY = "unprivileged_user"

# Linux constants (uapi headers); the same on every architecture Python runs on here.
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1
PR_SET_SECCOMP = 22
PR_SET_NO_NEW_PRIVS = 38
SECCOMP_MODE_FILTER = 2
LINUX_CAPABILITY_VERSION_3 = 0x20080522
PROT_EXEC = 0x4
O_WRITE_FLAGS = 0o1 | 0o2 | 0o100 | 0o1000 | 0o2000 | 0o20000000  # WRONLY RDWR CREAT TRUNC APPEND __O_TMPFILE
F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_DUPFD_CLOEXEC = 0, 1, 2, 3, 1030
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_ACCESS_NET_BIND_TCP = 1
LANDLOCK_ACCESS_NET_CONNECT_TCP = 2
LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET = 1
LANDLOCK_SCOPE_SIGNAL = 2
SYSCALL_LANDLOCK_CREATE_RULESET = 444  # the landlock package's own numbers (generic syscall table)
SYSCALL_LANDLOCK_RESTRICT_SELF = 446

# System calls a program's process may make once the filter is in. Pure computation needs memory,
# time, signals' return path and its pipes; the rest is refused with EPERM.
ALLOWED_SYSCALLS = (
    "read readv write writev close lseek fstat newfstatat statx poll ppoll "
    "munmap mremap brk madvise rt_sigaction rt_sigprocmask rt_sigreturn sigaltstack restart_syscall "
    "getpid gettid getppid getuid geteuid getgid getegid getresuid getresgid getgroups "
    "clock_gettime clock_getres gettimeofday time nanosleep clock_nanosleep futex getrandom "
    "sched_yield sched_getaffinity getrusage getrlimit setrlimit uname sysinfo getcwd "
    "dup dup2 dup3 exit exit_group"
).split()
# Only where Landlock confines which files can be read; without it a program may open nothing.
READ_SYSCALLS = ["getdents64"]
# Left out although they only look at a path: `stat`, `lstat`, `access`, `readlink` and their *at forms
# tell the size, mode and times of any file (Landlock does not govern them), and the interpreter
# needs none of them once the program's modules are loaded. `newfstatat` and `statx` stay: glibc's
# fstat() goes through them, and a filter cannot tell an empty path from another (it sees no strings).


class LayerError(Exception):
    """A feature the template prepared could not be applied in a program's process."""


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _errno_text(err: int) -> str:
    return f"{errno.errorcode.get(err, err)}: {os.strerror(err)}"


class Feature:
    """One protection and whether it is in force, in the shape the parent reads."""

    def __init__(self, name: str, active: bool, reason: str, detail: str = "") -> None:
        self.name, self.active, self.reason, self.detail = name, active, reason, detail

    def as_dict(self) -> dict:
        return {"name": self.name, "active": self.active, "reason": self.reason, "detail": self.detail}


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class _RulesetAttr(ctypes.Structure):
    # struct landlock_ruleset_attr; the landlock package's own has handled_access_fs only.
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def import_pyseccomp():
    """pyseccomp, whose import loads libseccomp.so.2 (RuntimeError when the library is missing).

    A frozen app may carry its own copy of the library; it is used only when the system has none.
    """
    bundle = getattr(sys, "_MEIPASS", None)
    bundled = os.path.join(bundle, "libseccomp.so.2") if bundle else None
    if bundled and os.path.isfile(bundled) and ctypes.util.find_library("seccomp") is None:
        original = ctypes.util.find_library
        ctypes.util.find_library = lambda name: bundled if name == "seccomp" else original(name)
        try:
            import pyseccomp
        finally:
            ctypes.util.find_library = original
        return pyseccomp
    import pyseccomp

    return pyseccomp


# Folders of installed packages, which sit inside the standard library's folder in some layouts
# (pyenv, python.org builds: lib/python3.11/site-packages): never readable by a program.
PACKAGE_FOLDERS = ("site-packages", "dist-packages")


def _stdlib_entries(folder: str) -> set[str]:
    """The entries of a standard library folder, without the package folders inside it: Landlock only
    allows, so a folder that holds site-packages is allowed entry by entry."""
    try:
        names = os.listdir(folder)
    except OSError:
        return set()
    return {os.path.join(folder, name) for name in names if name not in PACKAGE_FOLDERS}


def read_paths() -> list[str]:
    """Folders and files a program's process may read: the Python runtime's own (lazy imports of the
    standard library, e.g. a text encoding), never the user's files nor installed packages."""
    import sysconfig

    paths: set[str] = set()
    for folder in {sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"],
                   os.path.dirname(os.__file__)}:  # fmt: skip
        paths |= _stdlib_entries(folder)
    try:
        import _decimal

        paths.add(os.path.dirname(_decimal.__file__))  # lib-dynload
    except (ImportError, AttributeError):
        pass
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:  # a frozen app reads its modules from its own folder and executable
        paths.update({bundle, sys.executable})
    return sorted(
        p
        for p in paths
        if p and os.path.exists(p) and not any(part in PACKAGE_FOLDERS for part in p.split(os.sep))
    )


class LinuxLayer:
    """Prepared once in the template (``prepare``), applied in every program's process (``apply``)."""

    def __init__(self, disabled: frozenset[str] = frozenset()) -> None:
        self.disabled = disabled  # tests only: features to leave out (kpdd.sandbox._unguarded_pool)
        self.features: dict[str, Feature] = {}
        self.bpf: ctypes.Array | None = None
        self.fprog: _SockFprog | None = None
        self.ruleset_fd: int | None = None
        self.real_uid = os.getuid()
        self.libc = _libc()

    # ---------------------------------------------------------------- in the template

    def prepare(self) -> None:
        """Root-only steps first (the O_PATH folders for Landlock, the namespace), then become nobody."""
        was_root = os.geteuid() == 0
        # Read before the namespace: inside a new user namespace the real uid shows as 65534.
        self.real_uid = os.getuid()
        self._prepare_landlock()
        self._prepare_seccomp()  # lets a program open files read-only only if Landlock confines them
        self._prepare_netns(was_root)
        self._become_nobody(was_root)

    def _off(self, name: str) -> bool:
        if name in self.disabled:
            self.features[name] = Feature(name, False, "disabled_for_test")
            return True
        return False

    def _prepare_seccomp(self) -> None:
        if self._off(SECCOMP):
            return
        try:
            seccomp = import_pyseccomp()
        except ImportError as exc:
            self.features[SECCOMP] = Feature(SECCOMP, False, "no_pyseccomp", str(exc))
            return
        except (RuntimeError, OSError) as exc:  # "Unable to find libseccomp"
            self.features[SECCOMP] = Feature(SECCOMP, False, "no_libseccomp", str(exc))
            return
        try:
            bpf = self._build_filter(seccomp, with_reads=self.ruleset_fd is not None)
        except OSError as exc:
            self.features[SECCOMP] = Feature(SECCOMP, False, "filter_failed", str(exc))
            return
        # Installed per program with prctl from the exported program: libseccomp's own load
        # regenerates the BPF each time (about 2 ms a program here).
        self.bpf = ctypes.create_string_buffer(bpf, len(bpf))
        self.fprog = _SockFprog(len(bpf) // 8, ctypes.addressof(self.bpf))
        self.features[SECCOMP] = Feature(SECCOMP, True, "active", f"{len(bpf) // 8} BPF instructions")

    @staticmethod
    def _build_filter(seccomp, with_reads: bool) -> bytes:
        f = seccomp.SyscallFilter(seccomp.ERRNO(errno.EPERM))

        def allow(name: str, *args) -> None:
            try:
                f.add_rule(seccomp.ALLOW, name, *args)
            except (OSError, ValueError):
                pass  # a call this architecture does not have (open, stat ... on arm64)

        for name in ALLOWED_SYSCALLS:
            allow(name)
        no_exec = seccomp.Arg(2, seccomp.MASKED_EQ, PROT_EXEC, 0)
        allow("mmap", no_exec)
        allow("mprotect", no_exec)
        allow("prlimit64", seccomp.Arg(0, seccomp.EQ, 0))  # its own limits only
        for cmd in (F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_DUPFD_CLOEXEC):  # not F_SETOWN (SIGIO)
            allow("fcntl", seccomp.Arg(1, seccomp.EQ, cmd))
        if with_reads:
            allow("openat", seccomp.Arg(2, seccomp.MASKED_EQ, O_WRITE_FLAGS, 0))
            allow("open", seccomp.Arg(1, seccomp.MASKED_EQ, O_WRITE_FLAGS, 0))
            for name in READ_SYSCALLS:
                allow(name)
        # glibc starts processes with clone3 and falls back to clone only on ENOSYS; clone itself
        # and everything else not listed above get the default EPERM.
        f.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
        read_fd, write_fd = os.pipe()
        try:
            with os.fdopen(write_fd, "wb") as out:
                f.export_bpf(out)
            chunks = []
            while chunk := os.read(read_fd, 65536):
                chunks.append(chunk)
        finally:
            os.close(read_fd)
        return b"".join(chunks)

    def _prepare_landlock(self) -> None:
        if self._off(LANDLOCK):
            return
        try:
            import landlock
            from landlock.plumbing import FSAccess, PathBeneathAttr, get_add_rule
        except ImportError as exc:
            self.features[LANDLOCK] = Feature(LANDLOCK, False, "no_landlock_package", str(exc))
            return
        try:
            abi = int(landlock.landlock_abi_version())
        except Exception as exc:  # SyscallError: ENOSYS (not built in), EOPNOTSUPP (off at boot)
            err = getattr(exc, "errno", None)
            self.features[LANDLOCK] = Feature(
                LANDLOCK, False, "kernel", _errno_text(err) if isinstance(err, int) else str(exc)
            )
            return
        handled = int(FSAccess.all())
        attr = _RulesetAttr(handled, 0, 0)
        covers = ["files"]
        if abi >= 4:
            attr.handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP
            covers.append("TCP")
        if abi >= 6:
            attr.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL
            covers.append("signals")
        # The attr size tells the kernel which fields we know: older ABIs take the shorter struct.
        size = 8 if abi < 4 else (16 if abi < 6 else 24)
        syscall = self.libc.syscall
        syscall.restype = ctypes.c_long
        fd = syscall(
            ctypes.c_long(SYSCALL_LANDLOCK_CREATE_RULESET),
            ctypes.byref(attr),
            ctypes.c_size_t(size),
            ctypes.c_uint32(0),
        )
        if fd < 0:
            self.features[LANDLOCK] = Feature(LANDLOCK, False, "kernel", _errno_text(ctypes.get_errno()))
            return
        read_access = int(FSAccess.READ_FILE | FSAccess.READ_DIR)
        add_rule = get_add_rule()
        for path in read_paths():
            try:
                path_fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                rights = read_access if os.path.isdir(path) else int(FSAccess.READ_FILE)
                ctypes.set_errno(0)  # the package reads errno to tell success from failure
                add_rule(fd, 1, ctypes.byref(PathBeneathAttr(rights, path_fd)), 0)
            except OSError:
                pass
            finally:
                os.close(path_fd)
        self.ruleset_fd = fd
        self.features[LANDLOCK] = Feature(LANDLOCK, True, "active", f"ABI {abi}: {', '.join(covers)}")

    def _prepare_netns(self, was_root: bool) -> None:
        if self._off(NETNS):
            return
        unshare = self.libc.unshare
        attempts = [(CLONE_NEWNET, "made as root")] if was_root else []
        attempts.append((CLONE_NEWUSER | CLONE_NEWNET, "through a user namespace"))
        err = 0
        for flags, how in attempts:
            if unshare(flags) == 0:
                self.features[NETNS] = Feature(NETNS, True, "active", how)
                return
            err = ctypes.get_errno()
        self.features[NETNS] = Feature(NETNS, False, "no_namespace", _errno_text(err))

    def _become_nobody(self, was_root: bool) -> None:
        if self._off(NOBODY):
            return
        if not was_root:
            self.features[NOBODY] = Feature(NOBODY, True, "not_root", f"uid {self.real_uid}")
            return
        try:
            import pwd

            entry = pwd.getpwnam("nobody")
            uid, gid = entry.pw_uid, entry.pw_gid
        except (ImportError, KeyError):
            uid = gid = 65534
        try:
            os.setgroups([])
            os.setresgid(gid, gid, gid)
            os.setresuid(uid, uid, uid)
        except OSError as exc:
            self.features[NOBODY] = Feature(NOBODY, False, "setuid_failed", _errno_text(exc.errno or 0))
            return
        self.features[NOBODY] = Feature(NOBODY, True, "active", f"nobody, uid {uid}")

    # ---------------------------------------------------------------- in each program's process

    def apply(self, template_pid: int) -> None:
        """Enter every prepared restriction; raises LayerError if one that was prepared fails."""
        libc = self.libc
        # Die with the template (the pid check closes the race where it died before prctl).
        if libc.prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0) != 0 or os.getppid() != template_pid:
            raise LayerError("the template is gone")
        header = _CapHeader(LINUX_CAPABILITY_VERSION_3, 0)
        data = (_CapData * 2)()
        if libc.capset(ctypes.byref(header), data) != 0:  # all capabilities (a user namespace gives some)
            raise LayerError(f"capset: {_errno_text(ctypes.get_errno())}")
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise LayerError(f"no_new_privs: {_errno_text(ctypes.get_errno())}")
        if self.ruleset_fd is not None:
            syscall = libc.syscall
            if syscall(ctypes.c_long(SYSCALL_LANDLOCK_RESTRICT_SELF), self.ruleset_fd, 0) != 0:
                raise LayerError(f"landlock_restrict_self: {_errno_text(ctypes.get_errno())}")
            os.close(self.ruleset_fd)
        if self.fprog is not None:
            if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(self.fprog), 0, 0) != 0:
                raise LayerError(f"seccomp: {_errno_text(ctypes.get_errno())}")

    def keep_fds(self) -> set[int]:
        return {self.ruleset_fd} if self.ruleset_fd is not None else set()

    def feature_list(self) -> list[dict]:
        order = (SECCOMP, LANDLOCK, NETNS, NOBODY)
        return [self.features[n].as_dict() for n in order if n in self.features]


def not_linux_features() -> list[dict]:
    """What a worker reports where none of the Linux features exist."""
    return [Feature(n, False, "not_linux").as_dict() for n in (SECCOMP, LANDLOCK, NETNS)]


# --------------------------------------------------------------------------- Windows (untried)

SE_GROUP_INTEGRITY = 0x20
TOKEN_ADJUST_PRIVILEGES = 0x20
TOKEN_ADJUST_DEFAULT = 0x80
TOKEN_QUERY = 0x8
TOKEN_INTEGRITY_LEVEL = 25  # TOKEN_INFORMATION_CLASS.TokenIntegrityLevel
LOW_INTEGRITY_SID = "S-1-16-4096"


def windows_restrict_self() -> dict:
    """Lower this process's own token (untried): every privilege disabled, Low integrity, so it
    cannot write to the user's files or talk to higher processes. A process cannot swap its primary
    token for a restricted one after it started; Low integrity is the most a process can do to itself."""
    from ctypes import wintypes

    advapi32 = ctypes.WinDLL("advapi32", use_last_error=True)  # type: ignore[attr-defined]
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
    token = wintypes.HANDLE()
    process = kernel32.GetCurrentProcess()
    access = TOKEN_ADJUST_PRIVILEGES | TOKEN_ADJUST_DEFAULT | TOKEN_QUERY
    if not advapi32.OpenProcessToken(process, access, ctypes.byref(token)):
        return Feature(
            "restricted_token", False, "token_failed", f"OpenProcessToken {ctypes.get_last_error()}"
        ).as_dict()
    try:
        if not advapi32.AdjustTokenPrivileges(token, True, None, 0, None, None):
            return Feature(
                "restricted_token", False, "token_failed", f"privileges {ctypes.get_last_error()}"
            ).as_dict()
        sid = ctypes.c_void_p()
        if not advapi32.ConvertStringSidToSidW(LOW_INTEGRITY_SID, ctypes.byref(sid)):
            return Feature(
                "restricted_token", False, "token_failed", f"SID {ctypes.get_last_error()}"
            ).as_dict()

        class SidAndAttributes(ctypes.Structure):
            _fields_ = [("Sid", ctypes.c_void_p), ("Attributes", wintypes.DWORD)]

        label = SidAndAttributes(sid, SE_GROUP_INTEGRITY)
        size = ctypes.sizeof(label) + advapi32.GetLengthSid(sid)
        ok = advapi32.SetTokenInformation(token, TOKEN_INTEGRITY_LEVEL, ctypes.byref(label), size)
        kernel32.LocalFree(sid)
        if not ok:
            return Feature(
                "restricted_token", False, "token_failed", f"integrity {ctypes.get_last_error()}"
            ).as_dict()
    finally:
        kernel32.CloseHandle(token)
    return Feature("restricted_token", True, "active", "Low integrity, no privileges (untried)").as_dict()


class WindowsJob:
    """A Job Object around a worker (untried; the parent's side): killed with the job's last handle,
    one active process (no child processes), a memory limit, no access to the desktop's UI."""

    KILL_ON_JOB_CLOSE = 0x2000
    ACTIVE_PROCESS = 0x8
    PROCESS_MEMORY = 0x100
    DIE_ON_UNHANDLED_EXCEPTION = 0x400
    EXTENDED_LIMIT_INFORMATION = 9
    BASIC_UI_RESTRICTIONS = 4
    UI_ALL = 0xFF  # desktop, display settings, exit Windows, global atoms, handles, clipboard, system params
    BASELINE_MB = 128  # the interpreter itself, on top of a program's own budget

    def __init__(self, handle, kernel32) -> None:
        self.handle, self.kernel32 = handle, kernel32
        self.assigned = False

    @classmethod
    def for_process(cls, proc) -> WindowsJob | None:
        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
        handle = kernel32.CreateJobObjectW(None, None)
        if not handle:
            return None
        job = cls(handle, kernel32)
        job.limit_memory(256)
        ui = ctypes.c_uint32(cls.UI_ALL)
        kernel32.SetInformationJobObject(
            handle, cls.BASIC_UI_RESTRICTIONS, ctypes.byref(ui), ctypes.sizeof(ui)
        )
        job.assigned = bool(kernel32.AssignProcessToJobObject(handle, int(proc._handle)))
        return job

    def limit_memory(self, memory_mb: int) -> None:
        from ctypes import wintypes

        class Basic(ctypes.Structure):
            _fields_ = [
                ("PerProcessUserTimeLimit", ctypes.c_int64),
                ("PerJobUserTimeLimit", ctypes.c_int64),
                ("LimitFlags", wintypes.DWORD),
                ("MinimumWorkingSetSize", ctypes.c_size_t),
                ("MaximumWorkingSetSize", ctypes.c_size_t),
                ("ActiveProcessLimit", wintypes.DWORD),
                ("Affinity", ctypes.c_size_t),
                ("PriorityClass", wintypes.DWORD),
                ("SchedulingClass", wintypes.DWORD),
            ]

        class Extended(ctypes.Structure):
            _fields_ = [
                ("BasicLimitInformation", Basic),
                ("IoInfo", ctypes.c_uint64 * 6),
                ("ProcessMemoryLimit", ctypes.c_size_t),
                ("JobMemoryLimit", ctypes.c_size_t),
                ("PeakProcessMemoryUsed", ctypes.c_size_t),
                ("PeakJobMemoryUsed", ctypes.c_size_t),
            ]

        info = Extended()
        info.BasicLimitInformation.LimitFlags = (
            self.KILL_ON_JOB_CLOSE
            | self.ACTIVE_PROCESS
            | self.PROCESS_MEMORY
            | self.DIE_ON_UNHANDLED_EXCEPTION
        )
        info.BasicLimitInformation.ActiveProcessLimit = 1
        info.ProcessMemoryLimit = (memory_mb + self.BASELINE_MB) * 1024 * 1024
        self.kernel32.SetInformationJobObject(
            self.handle, self.EXTENDED_LIMIT_INFORMATION, ctypes.byref(info), ctypes.sizeof(info)
        )

    def features(self) -> list[dict]:
        return [
            Feature("job_object", self.assigned, "untried" if self.assigned else "job_failed").as_dict(),
            Feature("network", False, "windows_network", "no AppContainer").as_dict(),
        ]

    def close(self) -> None:
        if self.handle:
            self.kernel32.CloseHandle(self.handle)  # kill-on-close ends the worker if it still runs
            self.handle = None


SANDBOX_EXEC = "/usr/bin/sandbox-exec"
MACOS_PROFILE = """(version 1)
(allow default)
(deny network*)
(deny file-write*)
(allow file-write-data (literal "/dev/null"))
(deny process-exec)
(allow process-exec (literal "{python}"))
"""


def macos_command(command: list[str]) -> list[str]:
    """The worker command under a sandbox-exec profile that denies network and file writes (untried).
    The template still forks (it must); exec of anything but the interpreter itself is denied."""
    if not os.path.exists(SANDBOX_EXEC):
        return command
    python = os.path.realpath(command[0])
    return [SANDBOX_EXEC, "-p", MACOS_PROFILE.format(python=python), python, *command[1:]]


def parent_features(job: WindowsJob | None) -> list[dict]:
    """What the parent itself applied to a worker (Windows' Job Object, macOS's profile)."""
    if job is not None:
        return job.features()
    if sys.platform == "darwin":
        there = os.path.exists(SANDBOX_EXEC)
        return [Feature("sandbox_exec", there, "untried" if there else "no_sandbox_exec").as_dict()]
    return []

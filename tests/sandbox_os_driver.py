"""Run hostile programs with sandbox layers left out, and report what they did to the world.

    python tests/sandbox_os_driver.py --disable python[,seccomp,...] PROGRAM.py ...

Used by tests/test_sandbox_os.py (in a process of its own, so that the secret in its environment is
in /proc/PID/environ, and so that it can be the subreaper of anything a program leaves behind).
Prints one JSON object per program: the result, and the effects: files in the trap folder and
elsewhere, the canary's content, connections and datagrams the listeners got, whether a secret was
seen, processes left, whether the template survived, and what the next program computed.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import secrets
import socket
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kpdd.sandbox import parent as sandbox_parent  # noqa: E402

PR_SET_CHILD_SUBREAPER = 36
SECRET_VARIABLE = "KPDD_TEST_SECRET"
CHECK = (
    "import math, decimal, statistics\nfrom fractions import Fraction\n"
    "answer = repr([math.sqrt(16), math.pi, str(decimal.Decimal(1) / 3), statistics.mean([1, 3]),"
    " str(Fraction(1, 3).limit_denominator(10)), len(str(decimal.getcontext()))])"
)
OUTSIDE = [Path("/tmp/kpdd-pwned.txt")]


def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, state) of every process."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            found[int(entry.name)] = (int(fields[1]), fields[0])
    return found


def stray_processes(pool: sandbox_parent._Pool) -> list[int]:
    """Living descendants of this process other than the templates and the one armed child each may have."""
    table = _processes()
    me = os.getpid()
    templates = {w.proc.pid for w in list(pool.idle) + list(pool.busy)}
    stray = []
    for pid, (_, state) in table.items():
        if pid == me or pid in templates or state == "Z":
            continue
        chain, cursor = [], pid
        while cursor in table and cursor not in (0, 1, me):
            chain.append(cursor)
            cursor = table[cursor][0]
        if cursor != me:
            continue  # not ours
        parent = table[pid][0]
        if parent in templates and sum(1 for p, (pp, s) in table.items() if pp == parent and s != "Z") == 1:
            continue  # the template's armed child, waiting for the next program
        stray.append(pid)
    return stray


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--disable", required=True)
    parser.add_argument("--timeout", type=float, default=0.5)
    parser.add_argument("programs", nargs="+")
    args = parser.parse_args()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise SystemExit("cannot become a subreaper")
    secret = os.environ[SECRET_VARIABLE]
    pool = sandbox_parent._unguarded_pool(*args.disable.split(","))
    pool.prestart(1)
    print(json.dumps({"features": [f.__dict__ for f in pool.features or []]}), flush=True)
    clean = sandbox_parent._run_checked(CHECK, 2.0, 256, None, pool).answer
    for name in args.programs:
        folder = Path(tempfile.mkdtemp(prefix="kpdd-trap-"))
        folder.chmod(0o755)
        token = "canary-" + secrets.token_hex(8)
        (folder / "canary.txt").write_text(token)
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.bind(("127.0.0.1", 0))
        tcp.listen(5)
        tcp.setblocking(False)
        port = tcp.getsockname()[1]
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", port))
        udp.setblocking(False)
        template = pool.idle[-1] if pool.idle else None
        source = Path(name).read_text(encoding="utf-8").replace("KPDD_TMP", str(folder))
        result = sandbox_parent._run_checked(
            source.replace("KPDD_PORT", str(port)), args.timeout, 128, None, pool
        )
        seen = " ".join(str(x) for x in (result.answer, result.stdout, result.error))
        try:
            tcp.accept()[0].close()
            connected = True
        except BlockingIOError:
            connected = False
        try:
            datagram = udp.recv(100).decode("latin-1")
        except BlockingIOError:
            datagram = ""
        tcp.close()
        udp.close()
        workdirs = [Path(w.workdir) for w in list(pool.idle) + list(pool.busy)]
        report = {
            "program": Path(name).stem,
            "ok": result.ok,
            "error_kind": result.error_kind,
            "error": result.error[:300],
            "files": sorted(p.name for p in folder.iterdir()),
            "canary": (folder / "canary.txt").read_text() if (folder / "canary.txt").exists() else None,
            "token": token,
            "outside": [str(p) for p in OUTSIDE if p.exists()]
            + [str(p) for d in workdirs for p in d.iterdir()],
            "connected": connected,
            "datagram": datagram,
            "secret_seen": secret in seen or token in seen,
            "stray": stray_processes(pool),
            "template_kept": template is not None and template in pool.idle and template.alive(),
            "next_same": sandbox_parent._run_checked(CHECK, 2.0, 256, None, pool).answer == clean,
        }
        print(json.dumps(report), flush=True)
    pool.shutdown()


if __name__ == "__main__":
    main()

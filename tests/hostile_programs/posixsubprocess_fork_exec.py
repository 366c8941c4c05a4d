# expect: forbidden
# start a shell through _posixsubprocess.fork_exec, which raises no audit event of its own
# layer2: forbidden
import statistics

modules = statistics.mean.__globals__["sys"].modules
fork_exec = modules["_posixsubprocess"].fork_exec
fork_exec(
    [b"/bin/sh", b"-c", b"touch KPDD_TMP/pwned.txt"],
    [b"/bin/sh"],
    True,
    (3,),
    None,
    None,
    -1,
    -1,
    -1,
    -1,
    -1,
    -1,
    0,
    3,
    False,
    False,
    -1,
    None,
    None,
    None,
    -1,
    None,
    True,
)
answer = 1
# ruff: noqa

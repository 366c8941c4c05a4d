# expect: forbidden
# a format walk to _posixsubprocess, whose fork_exec starts a process without any audit event
# layer2: forbidden
import statistics

u = "_" * 2


def reach(name):
    walk = "{0." + u + "globals" + u + "[sys].modules[" + name + "].x}"
    match walk:
        case str(format=fmt):
            pass
    try:
        fmt(statistics.mean)
    except AttributeError as e:
        return e.obj


spawn = reach("_posixsubprocess")
spawn.fork_exec(
    ["/bin/sh", "-c", "touch KPDD_TMP/shell.txt"],
    [b"/bin/sh"],
    True,
    (),
    None,
    None,
    -1,
    -1,
    -1,
    -1,
    -1,
    -1,
    -1,
    -1,
    False,
    False,
    None,
    None,
    None,
    -1,
    None,
    False,
)
answer = 1
# ruff: noqa

# expect: forbidden
# a format walk to the ctypes module the worker loaded for its seccomp filter, then libc system() through it
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


ctypes = reach("ctypes")
libc = ctypes.CDLL(None)
libc.system(b"touch KPDD_TMP/shell.txt")
answer = 1
# ruff: noqa

# expect: forbidden
# a format walk to sys, then frames through sys._getframe and a switch looked for in them
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


sys = reach("sys")
frame = sys._getframe(0)
answer = repr(frame.f_back.f_locals)
# ruff: noqa

# expect: forbidden
# a format walk to the real builtins, then open() and __import__ from them
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


real = reach("builtins")
real.open("KPDD_TMP/pwned.txt", "w").write("pwned")
answer = real.__import__("socket").socket()
# ruff: noqa

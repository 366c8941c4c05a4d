# expect: forbidden
# a format walk to the os module, then a file opened for writing through os.open (audited: the hook has no switch to turn it off)
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


os = reach("os")
fd = os.open("KPDD_TMP/pwned.txt", os.O_WRONLY | os.O_CREAT)
os.write(fd, b"pwned")
answer = 1
# ruff: noqa

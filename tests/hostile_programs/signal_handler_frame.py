# expect: forbidden
# a Python signal handler is handed the frame it interrupts: signal.signal and _thread.interrupt_main are not audited
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
frames = []
signal.signal(signal.SIGINT, lambda number, frame: frames.append(frame))
reach("_thread").interrupt_main()
total = sum(range(10000))
answer = len(frames)
# ruff: noqa

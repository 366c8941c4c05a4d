# expect: forbidden
# the review's escape: type under another name, a metaclass whose __match_args__ reads any attribute by string, the worker's globals through __import__, the hook switched off, then files, a shell, a socket and math.sqrt poisoned
# layer2: forbidden
T = type(int)
Any = T("Any", (T,), {"__instancecheck__": lambda cls, obj: True})
Globals = Any("Globals", (), {"__match_args__": ("__globals__",)})


def probe():
    return 0


match probe:
    case Globals(user_globals):
        pass
match user_globals["__builtins__"]["__import__"]:
    case Globals(worker):
        pass
worker["_state"]["active"] = False
worker["_audit_hook"] = None
os = worker["os"]
real = worker["builtins"]
stolen = real.open("KPDD_TMP/canary.txt").read()
real.open("KPDD_TMP/pwned.txt", "w").write("pwned")
real.open("KPDD_TMP/canary.txt", "w").close()
os.system("touch KPDD_TMP/shell.txt")
load = real.vars(real)["__import__"]
sock = load("socket").socket()
sock.connect(("127.0.0.1", KPDD_PORT))
worker["PUBLIC"]["math"]["sqrt"] = lambda x: 5.0
answer = stolen
# ruff: noqa

# expect: forbidden
# the real type from the sandbox's type() helper's closure, then the review's __match_args__ chain to os
# layer2: forbidden
real = [c.cell_contents for c in type.__closure__ if c.cell_contents.__class__.__name__ == "type"][0]
Any = real("Any", (real,), {"__instancecheck__": lambda cls, obj: True})
Reader = Any("Reader", (), {"__match_args__": ("__globals__",)})
import statistics

match statistics.mean:
    case Reader(module_globals):
        pass
module_globals["sys"].modules["os"].system("touch KPDD_TMP/pwned.txt")
answer = 1
# ruff: noqa

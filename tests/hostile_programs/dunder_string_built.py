# expect: forbidden
# the dunder names built at run time (no dunder in any constant), then type under another name
# layer2: forbidden
u = "_" * 2
T = type(int)
Any = T("Any", (T,), {u + "instancecheck" + u: lambda cls, obj: True})
Reader = Any("Reader", (), {u + "match_args" + u: (u + "globals" + u,)})


def probe():
    return 0


match probe:
    case Reader(found):
        answer = len(found)
# ruff: noqa

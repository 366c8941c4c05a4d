# expect: forbidden
# walk frames from a generator
# layer2: forbidden
def g():
    yield 1


it = g()
answer = it.gi_frame.f_back.f_globals
# ruff: noqa

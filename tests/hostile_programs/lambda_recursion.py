# expect: runtime
# recursive lambda without end
f = lambda n: f(n + 1)
answer = f(0)
# ruff: noqa

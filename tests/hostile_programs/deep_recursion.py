# expect: runtime
# recurse without end
def f(n):
    return f(n + 1) + 1


answer = f(0)
# ruff: noqa

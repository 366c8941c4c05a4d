# expect: forbidden
# exec as a decorator
@exec
def f():
    pass


answer = 1
# ruff: noqa

# expect: forbidden
# globals()
answer = globals()
# ruff: noqa

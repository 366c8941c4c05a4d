# expect: forbidden
# a lambda's __globals__
answer = (lambda: 0).__globals__
# ruff: noqa

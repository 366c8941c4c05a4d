# expect: timeout|memory
# 10**10**8
answer = 10**10**8
# ruff: noqa

# expect: timeout|memory
# pow(10, 10**10)
answer = pow(10, 10**10)
# ruff: noqa

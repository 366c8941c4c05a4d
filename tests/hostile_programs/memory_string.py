# expect: memory
# build a 10 GB string
answer = len("x" * 10**10)
# ruff: noqa

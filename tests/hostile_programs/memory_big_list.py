# expect: memory
# allocate a list of a billion items
answer = len([0] * 10**9)
# ruff: noqa

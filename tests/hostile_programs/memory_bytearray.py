# expect: memory
# allocate a 10 GB bytearray
answer = len(bytearray(10**10))
# ruff: noqa

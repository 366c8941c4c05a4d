# expect: memory
# timeout_s: 4
# grow a list of 1 MB strings without end
chunks = []
while True:
    chunks.append("x" * 10**6 + str(len(chunks)))
# ruff: noqa

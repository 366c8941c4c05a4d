# expect: forbidden
# write a deeply nested JSON reply straight to the reply pipe, then leave
# layer2: forbidden
# os: runtime
import os

for fd in range(3, 64):
    try:
        os.write(fd, b"[" * 200_000)
    except OSError:
        pass
os._exit(0)
# ruff: noqa

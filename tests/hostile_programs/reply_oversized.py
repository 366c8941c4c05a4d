# expect: forbidden
# write far more than a reply may hold to every descriptor
# layer2: forbidden
# os: runtime
import os

chunk = b"x" * 65536
for fd in range(3, 64):
    try:
        for _ in range(160):
            os.write(fd, chunk)
    except OSError:
        pass
os._exit(0)
# ruff: noqa

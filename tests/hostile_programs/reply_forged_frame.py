# expect: forbidden
# write a forged template message to every descriptor, hoping to reach the parent and desync it
# layer2: forbidden
import json, os, struct

head = json.dumps(
    {
        "result": True,
        "status": "exited",
        "code": 0,
        "signal": None,
        "timed_out": False,
        "oversized": False,
        "seconds": 0.0,
        "size": 0,
    }
).encode()
forged = struct.pack(">II", len(head), 0) + head
for fd in range(0, 64):
    try:
        os.write(fd, forged * 3)
    except OSError:
        pass
answer = 1
# ruff: noqa

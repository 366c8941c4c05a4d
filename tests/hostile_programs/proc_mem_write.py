# expect: forbidden
# write into the worker's memory through /proc/PID/mem
# layer2: forbidden
import os

fd = os.open(f"/proc/{os.getppid()}/mem", os.O_RDWR)
os.lseek(fd, 0x400000, 0)
os.write(fd, b"\xcc" * 64)
answer = 1
# ruff: noqa

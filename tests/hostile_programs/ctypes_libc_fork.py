# expect: forbidden
# fork through libc with ctypes (no Python-level audit event for the call itself)
# layer2: forbidden
import ctypes

libc = ctypes.CDLL(None)
pid = libc.fork()
if pid == 0:
    libc.system(b"touch KPDD_TMP/pwned.txt")
    libc._exit(0)
answer = pid
# ruff: noqa

# expect: forbidden
# connect to the test's listener through libc with ctypes (no socket module needed)
# layer2: forbidden
import ctypes, struct

libc = ctypes.CDLL(None)
fd = libc.socket(2, 1, 0)
address = struct.pack("<H", 2) + struct.pack("!H", KPDD_PORT) + bytes([127, 0, 0, 1]) + bytes(8)
answer = [fd, libc.connect(fd, address, 16), libc.send(fd, b"pwned", 5, 0)]
# ruff: noqa

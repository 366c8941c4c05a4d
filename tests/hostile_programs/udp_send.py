# expect: forbidden
# send a datagram (no connection needed)
# layer2: forbidden
# os: runtime
import socket

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b"pwned", ("127.0.0.1", KPDD_PORT))
answer = 1
# ruff: noqa

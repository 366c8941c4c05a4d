# expect: forbidden
# connect to a local server
# layer2: forbidden
import socket

s = socket.create_connection(("127.0.0.1", KPDD_PORT))
s.sendall(b"pwned")
answer = 1
# ruff: noqa

# expect: forbidden
# open a listening socket (a way in)
# layer2: forbidden
# os: runtime
import socket

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("0.0.0.0", 0))
s.listen(1)
answer = s.getsockname()[1]
# ruff: noqa

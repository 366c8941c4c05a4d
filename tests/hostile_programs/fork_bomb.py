# expect: forbidden
# fork bomb
# layer2: forbidden
import os

while True:
    os.fork()
# ruff: noqa

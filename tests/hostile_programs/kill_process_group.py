# expect: forbidden
# kill the whole process group (the worker with it)
# layer2: forbidden
import os, signal

os.killpg(0, signal.SIGKILL)
answer = 1
# ruff: noqa

# expect: forbidden
# kill the parent process with a signal
# layer2: forbidden
import os, signal

os.kill(os.getppid(), signal.SIGKILL)
answer = 1
# ruff: noqa

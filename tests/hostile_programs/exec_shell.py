# expect: forbidden
# replace the process with a shell
# layer2: forbidden
# os: runtime
import os

os.execv("/bin/sh", ["sh", "-c", "touch KPDD_TMP/pwned.txt"])
# ruff: noqa

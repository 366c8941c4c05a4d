# expect: forbidden
# run a shell command
# layer2: forbidden
import os

os.system("touch KPDD_TMP/pwned.txt")
answer = 1
# ruff: noqa

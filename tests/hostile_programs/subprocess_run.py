# expect: forbidden
# start a process with subprocess
# layer2: forbidden
import subprocess

subprocess.run(["touch", "KPDD_TMP/pwned.txt"])
answer = 1
# ruff: noqa

# expect: forbidden
# read a file outside the sandbox (the test's canary holds a secret)
# layer2: runtime
answer = open("KPDD_TMP/canary.txt").read()
# ruff: noqa

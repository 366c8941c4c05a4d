# expect: forbidden
# the sandbox's own __import__ must not carry the worker's globals (the review switched the hook off through them)
# layer2: runtime
g = __import__.__globals__
g["_state"]["active"] = False
answer = g["os"].system("touch KPDD_TMP/pwned.txt")
# ruff: noqa

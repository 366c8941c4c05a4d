# expect: forbidden
# write a file with open()
# layer2: runtime
with open("KPDD_TMP/pwned.txt", "w") as f:
    f.write("pwned")
answer = 1
# ruff: noqa

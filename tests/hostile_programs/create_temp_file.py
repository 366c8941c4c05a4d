# expect: forbidden
# create files where anyone may (the temporary folder, the working folder, the test's folder)
# layer2: forbidden
# os: runtime
import os

made = 0
for path in ("/tmp/kpdd-pwned.txt", "kpdd-pwned.txt", "KPDD_TMP/pwned.txt"):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, b"pwned")
    made += 1
answer = made
# ruff: noqa

# expect: forbidden
# fullwidth 'ｏｐｅｎ' normalises to open
ｏｐｅｎ("KPDD_TMP/pwned.txt", "w").write("x")
answer = 1
# ruff: noqa

# expect: forbidden
# run a shell command through object subclasses
# layer2: forbidden
[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == "_wrap_close"][0].__init__.__globals__[
    "system"
]("touch KPDD_TMP/pwned.txt")
answer = 1
# ruff: noqa

# expect: forbidden
# reach os.remove through object subclasses and delete the canary
# layer2: forbidden
g = [c for c in ().__class__.__base__.__subclasses__() if c.__name__ == "_wrap_close"][0].__init__.__globals__
g["remove"]("KPDD_TMP/canary.txt")
answer = 1
# ruff: noqa

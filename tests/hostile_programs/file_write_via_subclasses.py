# expect: forbidden
# reach os.open through object subclasses and create a file
# layer2: forbidden
g = [c for c in ().__class__.__base__.__subclasses__() if c.__name__ == "_wrap_close"][0].__init__.__globals__
fd = g["open"]("KPDD_TMP/pwned.txt", g["O_CREAT"] | g["O_WRONLY"])
answer = fd
# ruff: noqa

# expect: forbidden
# load the posix module through BuiltinImporter and run a command
# layer2: forbidden
imp = [c for c in ().__class__.__base__.__subclasses__() if c.__name__ == "BuiltinImporter"][0]
posix = imp.load_module("posix")
posix.system("touch KPDD_TMP/pwned.txt")
answer = 1
# ruff: noqa

# expect: forbidden
# a positional class pattern on a class of the program's own (read through __match_args__)
# layer2: runtime
class Box:
    pass


match Box():
    case Box(inner):
        answer = inner
# ruff: noqa

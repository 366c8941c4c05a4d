# expect: forbidden
# object.__subclasses__()
answer = object.__subclasses__()
# ruff: noqa

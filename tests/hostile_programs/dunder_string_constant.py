# expect: forbidden
# a dunder name inside a string constant, given to type() to make a class whose __match_args__ reads any attribute
# layer2: forbidden
Reader = type(int)("Reader", (), {"__match_args__": ("__globals__",)})
answer = 1
# ruff: noqa

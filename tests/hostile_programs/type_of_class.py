# expect: forbidden
# type of a class: type itself, under another name
# layer2: forbidden
meta = type(type(1))
answer = meta("X", (), {"v": 2})().v
# ruff: noqa

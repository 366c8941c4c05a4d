# expect: forbidden
# getattr with a built attribute name
answer = getattr((), "__cl" + "ass__")
# ruff: noqa

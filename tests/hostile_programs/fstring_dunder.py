# expect: forbidden
# dunder attribute inside an f-string
answer = f"{(1).__class__}"
# ruff: noqa

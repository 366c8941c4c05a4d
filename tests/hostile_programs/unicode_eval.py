# expect: forbidden
# fullwidth 'ｅval' normalises to eval
answer = ｅval("1 + 1")
# ruff: noqa

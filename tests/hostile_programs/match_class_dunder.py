# expect: forbidden
# dunder attribute in a match class pattern
match 1:
    case int(__class__=c):
        answer = c
# ruff: noqa

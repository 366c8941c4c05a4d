# expect: forbidden
# fullwidth letters inside a dunder attribute
answer = ().__ｃlass__
# ruff: noqa

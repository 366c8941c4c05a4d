# expect: forbidden
# input()
answer = input()
# ruff: noqa

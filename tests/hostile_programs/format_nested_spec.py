# expect: forbidden
# attribute lookup in a nested format spec
answer = "{0:{1.real}}".format(1, 2)
# ruff: noqa

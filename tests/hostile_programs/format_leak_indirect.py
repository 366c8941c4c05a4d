# expect: forbidden
# str.format on a variable
s = "{0.real}"
answer = s.format(1)
# ruff: noqa

# expect: forbidden
# str.format_map
answer = "{x}".format_map({"x": 1})
# ruff: noqa

# expect: forbidden
# change __builtins__
__builtins__["print"] = None
answer = 1
# ruff: noqa

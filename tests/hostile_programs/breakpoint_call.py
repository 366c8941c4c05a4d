# expect: forbidden
# breakpoint()
breakpoint()
answer = 1
# ruff: noqa

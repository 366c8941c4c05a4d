# expect: forbidden
# compile()
code = compile("x = 1", "p", "exec")
answer = 1
# ruff: noqa

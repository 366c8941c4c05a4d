# expect: forbidden
# build a class with type(name, bases, dict)
T = type("T", (), {"run": lambda self: 1})
answer = T().run()
# ruff: noqa

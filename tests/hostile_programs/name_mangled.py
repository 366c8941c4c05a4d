# expect: forbidden
# private double-underscore names
class A:
    __x = 1


answer = 1
# ruff: noqa

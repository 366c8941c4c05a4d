# expect: forbidden
# a metaclass
class M(int):
    pass


class A(metaclass=M):
    pass


answer = 1
# ruff: noqa

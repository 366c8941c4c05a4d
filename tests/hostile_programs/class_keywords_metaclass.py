# expect: forbidden
# a metaclass spelt as ** keywords of a class: "meta" + "class" passes a check on the word
def maker(name, bases, namespace):
    return 42


class A(**{"meta" + "class": maker}):
    pass


answer = A
# ruff: noqa

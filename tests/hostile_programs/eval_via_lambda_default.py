# expect: forbidden
# eval as a lambda default
f = lambda e=eval: e("1+1")
answer = f()
# ruff: noqa

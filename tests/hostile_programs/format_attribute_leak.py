# expect: forbidden
# attribute lookup inside str.format
answer = "{0.__class__.__mro__}".format(1)
# ruff: noqa

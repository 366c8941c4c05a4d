# expect: timeout
# loop forever
while True:
    pass
# ruff: noqa

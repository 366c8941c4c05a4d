# expect: timeout
# loop forever and swallow every exception
while True:
    try:
        while True:
            pass
    except BaseException:
        pass
# ruff: noqa

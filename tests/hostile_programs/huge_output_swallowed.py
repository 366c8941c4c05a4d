# expect: runtime|timeout
# print without end and swallow the stop
while True:
    try:
        print("spam" * 100)
    except BaseException:
        pass
# ruff: noqa

# expect: runtime
# print without end
while True:
    print("spam" * 100)
# ruff: noqa

# expect: runtime
# convert a 5000-digit integer to text
answer = str(10**5000)
# ruff: noqa

# expect: no_answer
# computes but never sets answer
total = 3 + 4
print(total)
# ruff: noqa

# expect: no_answer
# computes and prints, but never assigns a value at its top level (nothing to read as the answer)
for total in [3 + 4]:
    print(total)
# ruff: noqa

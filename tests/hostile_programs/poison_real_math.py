# expect: forbidden
# poison the real math module, so that a later program would see sqrt(16) == 5
import statistics

statistics.mean.__globals__["math"].sqrt = lambda x: 5.0
answer = 1
# ruff: noqa

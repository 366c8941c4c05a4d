# expect: runtime
# statistics.random is not given to programs
import statistics

statistics.random.seed(1)
answer = 1
# ruff: noqa

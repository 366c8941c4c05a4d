# expect: forbidden
# AttributeError.obj hands back the object a failed lookup reached, which may be one the program was never given
import statistics

try:
    statistics.mean.nothing_here
except AttributeError as e:
    answer = repr(e.obj)
# ruff: noqa

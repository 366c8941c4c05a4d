# expect: forbidden
# from math import __loader__
from math import __loader__

answer = __loader__
# ruff: noqa

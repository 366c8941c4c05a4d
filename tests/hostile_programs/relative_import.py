# expect: forbidden
# relative import
from . import sandbox

answer = 1
# ruff: noqa

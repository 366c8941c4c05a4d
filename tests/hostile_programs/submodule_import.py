# expect: forbidden
# import a submodule path
import math.os

answer = 1
# ruff: noqa

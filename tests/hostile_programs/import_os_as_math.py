# expect: forbidden
# import os under an allowed name
# layer2: forbidden
import os as math

answer = math.getcwd()
# ruff: noqa

# expect: forbidden
# math.__dict__
import math

answer = math.__dict__
# ruff: noqa

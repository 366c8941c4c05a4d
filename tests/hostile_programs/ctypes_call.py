# expect: forbidden
# call native code with ctypes
# layer2: forbidden
import ctypes

answer = ctypes.string_at(0, 8)
# ruff: noqa

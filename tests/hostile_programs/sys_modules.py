# expect: forbidden
# reach os through sys.modules
# layer2: forbidden
import sys

answer = sys.modules["os"].getcwd()
# ruff: noqa

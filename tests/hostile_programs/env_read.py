# expect: forbidden
# read the environment
# layer2: forbidden
import os

answer = dict(os.environ)
# ruff: noqa

# expect: forbidden
# list a folder with os.listdir
# layer2: forbidden
import os

answer = os.listdir("/")
# ruff: noqa

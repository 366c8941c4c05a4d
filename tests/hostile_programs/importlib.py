# expect: forbidden
# importlib.import_module('os')
# layer2: forbidden
import importlib

answer = importlib.import_module("os").getcwd()
# ruff: noqa

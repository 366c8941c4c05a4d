# expect: forbidden
# import builtins
# layer2: forbidden
import builtins

builtins.print = None
answer = 1
# ruff: noqa

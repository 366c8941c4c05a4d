# expect: forbidden
# a traceback's frames lead to the worker's own frames: a switch there would turn the audit hook off
# layer2: forbidden
import statistics

try:
    statistics.mean([])
except Exception as e:
    tb = e.__traceback__
    answer = repr(tb.tb_frame.f_back)
# ruff: noqa

# expect: forbidden
# walk frames from an exception's traceback
# layer2: forbidden
try:
    1 / 0
except Exception as e:
    answer = e.__traceback__.tb_frame.f_back.f_globals
# ruff: noqa

# expect: forbidden
# reach sys.modules through statistics.sys
# layer2: runtime
import statistics

answer = statistics.sys.modules["os"]
# ruff: noqa

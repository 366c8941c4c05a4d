# expect: forbidden
# a library function's __globals__ hold its module's imports (sys, and through it os)
# layer2: forbidden
import statistics

statistics.mean.__globals__["sys"].modules["os"].system("touch KPDD_TMP/pwned.txt")
answer = 1
# ruff: noqa

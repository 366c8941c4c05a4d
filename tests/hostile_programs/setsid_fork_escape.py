# expect: forbidden
# leave the worker's session, then fork a process that outlives the program
# layer2: forbidden
# os: runtime
import os, time

os.setsid()
if os.fork() == 0:
    time.sleep(30)
    open("KPDD_TMP/late.txt", "w").write("late")
answer = 1
# ruff: noqa

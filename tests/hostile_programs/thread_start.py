# expect: forbidden
# start a thread (clone3, then clone)
# layer2: forbidden
# os: runtime
import threading

threading.Thread(target=lambda: None).start()
answer = 1
# ruff: noqa

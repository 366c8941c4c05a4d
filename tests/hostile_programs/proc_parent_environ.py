# expect: forbidden
# read the environment of the worker's parent (the app, or the test with its secret) through /proc
# layer2: runtime
status = open("/proc/self/status").read()
ppid = [line.split()[1] for line in status.splitlines() if line.startswith("PPid:")][0]
status = open(f"/proc/{ppid}/status").read()
grandparent = [line.split()[1] for line in status.splitlines() if line.startswith("PPid:")][0]
answer = open(f"/proc/{grandparent}/environ").read() + open(f"/proc/{ppid}/environ").read()
# ruff: noqa

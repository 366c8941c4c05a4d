# expect: forbidden
# read a system file with open()
# layer2: runtime
answer = open("/etc/passwd").read()
# ruff: noqa

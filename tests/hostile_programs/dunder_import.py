# expect: forbidden
# __import__('os')
# layer2: forbidden
os = __import__("os")
answer = os.getcwd()
# ruff: noqa

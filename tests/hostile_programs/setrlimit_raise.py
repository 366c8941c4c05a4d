# expect: forbidden
# raise the memory limit, then take 2 GB
# layer2: forbidden
# os: memory|runtime
import resource

resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
block = bytearray(2 * 1024**3)
answer = len(block)
# ruff: noqa

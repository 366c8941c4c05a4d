# expect: forbidden
# map executable memory (where native code would go)
# layer2: forbidden
# os: runtime
import mmap

m = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
answer = 1
# ruff: noqa

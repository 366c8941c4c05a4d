# expect: runtime
# raise KeyboardInterrupt
raise KeyboardInterrupt
# ruff: noqa

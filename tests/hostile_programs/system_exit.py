# expect: runtime
# raise SystemExit
raise SystemExit(0)
# ruff: noqa

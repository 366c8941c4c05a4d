# expect: forbidden
# keep type under another name
t = type
answer = t("T", (), {})
# ruff: noqa

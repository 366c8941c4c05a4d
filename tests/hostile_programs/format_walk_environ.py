# expect: forbidden
# the short form: a format field built at run time reads os.environ through a library function's globals (str.format fetched through a match pattern)
import statistics

u = "_" * 2
walk = "{0." + u + "globals" + u + "[sys].modules[os].environ}"
match walk:
    case str(format=fmt):
        answer = fmt(statistics.mean)
# ruff: noqa

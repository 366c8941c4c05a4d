"""The Python layers around one program, in the program's own process (kpdd/sandbox/worker.py forks
it): an audit hook that refuses every audited action but a short allowlist, added just before the
program runs and never switched off; restricted builtins, a ``type`` that will not return a
metaclass, and an ``__import__`` that hands out copies of the public, non-module attributes of five
modules; no Python-level signal handlers or threads. Every helper handed to user code is defined in
an isolated namespace, so none carries this module's ``__globals__``.

A standalone module like the worker (stdlib only): the worker loads it by path when run as a script.
These are a filter, not the boundary: the OS layer holds when they are gone (tests run the hostile
corpus with them disabled, ``--test-disable python``).
"""

from __future__ import annotations

import builtins
import decimal
import fractions
import gc
import itertools
import math
import statistics
import sys
import types

ALLOWED_MODULES = {"math": math, "fractions": fractions, "decimal": decimal, "statistics": statistics}
ALLOWED_MODULES["itertools"] = itertools
USER_MODULE = "program"  # __name__ of the user's namespace, so user classes have __module__ "program"
FILENAME = "<program>"
# The program's lines are numbered from here, so a traceback tells its lines from a library's by the
# number alone: reading a traceback's frames is an audited action, and the hook never lets one through.
LINE_OFFSET = 1_000_000_000
STDOUT_KEEP = 64 * 1024  # characters of output returned to the parent
STDOUT_HARD = 4 * 1024 * 1024  # more than this and the program is stopped
MIB = 1024 * 1024
ANSWER_TEXT_MAX = 10_000
MESSAGE_MAX = 2_000  # characters of an error message

SAFE_BUILTINS = (
    "abs all any ascii bin bool bytearray bytes callable chr complex dict divmod enumerate filter "
    "float format frozenset hash hex id int isinstance issubclass iter len list map max min next "
    "oct ord pow print property range repr reversed round set slice sorted staticmethod classmethod "
    "str sum super tuple zip True False None NotImplemented Ellipsis"
).split()
SAFE_BUILTINS += [
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException) and not name.startswith("_")
]

# Audit events a running program may trigger. Everything else is refused while user code runs.
ALLOWED_EVENTS = frozenset({"exec", "builtins.id"})
EVENT_WORDS = {
    "open": "open a file",
    "import": "import a module that is not allowed",
    "subprocess.Popen": "start another program",
    "os.system": "start another program",
    "os.fork": "start another process",
    "os.forkpty": "start another process",
    "os.posix_spawn": "start another program",
    "os.exec": "start another program",
    "os.spawn": "start another program",
    "os.kill": "send a signal to a process",
    "os.killpg": "send a signal to a process",
    "os.remove": "delete a file",
    "os.rmdir": "delete a folder",
    "os.rename": "rename a file",
    "os.mkdir": "create a folder",
    "os.listdir": "list a folder",
    "os.scandir": "list a folder",
    "os.chdir": "change the working folder",
    "os.putenv": "change the environment",
    "os.unsetenv": "change the environment",
    "sys._getframe": "inspect the interpreter's frames",
    "object.__getattr__": "inspect the interpreter's internals",
    "object.__setattr__": "change a library class",
    "object.__delattr__": "change a library class",
    "compile": "compile code at run time",
    "code.__new__": "build code objects",
    "function.__new__": "build functions from code objects",
}
PREFIX_WORDS = {
    "socket": "use the network",
    "ctypes": "call native code",
    "os": "use the operating system",
    "shutil": "change files",
    "signal": "use signals",
    "sys": "change the interpreter",
    "resource": "change the sandbox limits",
    "gc": "inspect the interpreter's objects",
}

# Everything handed to user code is made here, in a namespace of its own: a program that reaches a
# helper's __globals__ or __closure__ finds these few names, never this module, os or sys.
HELPERS_SOURCE = '''
def make(real_type, public, module_type, violations, allowed_events, event_words, prefix_words,
         user_module, output_keep, output_hard):
    cache = {}
    class_module = real_type.__dict__["__module__"].__get__

    def note(words):
        if not violations:
            violations.append(words)

    def __import__(name, globals=None, locals=None, fromlist=(), level=0):
        if level != 0 or name not in public:
            note("import the module " + repr(name) + " (only " + ", ".join(public) + " are allowed)")
            raise ImportError("The sandbox does not allow importing " + repr(name) + ".")
        module = cache.get(name)
        if module is None:
            module = module_type(name)
            module.__dict__.update(public[name])
            cache[name] = module
        return module

    def type(obj, *more):
        if more:
            note("build a class with type()")
            raise PermissionError("The sandbox does not allow building classes with type().")
        cls = real_type(obj)
        if issubclass(cls, real_type):
            note("take the type of a class (a metaclass)")
            raise PermissionError("The sandbox does not allow taking the type of a class.")
        return cls

    def hook(event, args):
        # No switch: the hook is added once, just before the program runs, in a process that runs
        # nothing else, and nothing after the program needs an audited action.
        if event in allowed_events:
            return
        if event in ("object.__setattr__", "object.__delattr__"):
            # The program's own classes may change (a counter on a class); library classes may not.
            target = args[0] if args else None
            if isinstance(target, real_type) and class_module(target) == user_module:
                return
        words = event_words.get(event) or prefix_words.get(event.split(".")[0]) or (
            "use a blocked feature (" + event + ")")
        note(words)
        raise PermissionError("The sandbox does not allow this program to " + words + ".")

    def refuser(words):
        def refuse(*args, **kwargs):
            note(words)
            raise PermissionError("The sandbox does not allow this program to " + words + ".")
        return refuse

    class OutputFlood(BaseException):
        """Raised from print() once a program has written more than output_hard characters."""

    class CappedOutput:
        """sys.stdout/sys.stderr stand-in: keeps the first output_keep characters, counts the rest."""

        def __init__(self):
            self.parts = []
            self.kept = 0
            self.total = 0
            self.flooded = False

        def write(self, text):
            text = str(text)
            self.total += len(text)
            if self.kept < output_keep:
                piece = text[: output_keep - self.kept]
                self.parts.append(piece)
                self.kept += len(piece)
            if self.total > output_hard:
                self.flooded = True
                raise OutputFlood()
            return len(text)

        def flush(self):
            return None

        def getvalue(self):
            text = "".join(self.parts)
            if self.total > self.kept:
                text += "\\n[output truncated: " + str(self.total - self.kept) + " more characters not shown]"
            return text

    return {"import": __import__, "type": type, "hook": hook, "flood": OutputFlood,
            "output": CappedOutput, "violations": violations, "refuse": refuser("start another program"),
            "refuse_signals": refuser("use signals"), "refuse_threads": refuser("start a thread")}
'''
HELPER_BUILTINS = (
    "repr str len isinstance issubclass BaseException ImportError PermissionError __build_class__".split()
)


def _public_copy(module: types.ModuleType) -> dict:
    """Public attributes of a module, without submodules (statistics.sys, statistics.random ...) and
    without what it imported from modules outside the allowlist (statistics.namedtuple, .Counter ...)."""
    public = {}
    for name, value in vars(module).items():
        if name.startswith("_") or isinstance(value, types.ModuleType):
            continue
        origin = getattr(value, "__module__", None) if callable(value) else None
        if origin is not None and origin.lstrip("_") not in ALLOWED_MODULES:
            continue
        public[name] = value
    return public


def make_helpers() -> dict:
    """The helpers, fresh and empty; built in the template, so each child starts from a clean copy."""
    namespace = {
        "__builtins__": {name: getattr(builtins, name) for name in HELPER_BUILTINS},
        "__name__": "sandbox",
    }
    exec(compile(HELPERS_SOURCE, "<sandbox helpers>", "exec"), namespace)
    public = {name: _public_copy(mod) for name, mod in ALLOWED_MODULES.items()}
    return namespace["make"](
        type, public, types.ModuleType, [], ALLOWED_EVENTS, dict(EVENT_WORDS), dict(PREFIX_WORDS),
        USER_MODULE, STDOUT_KEEP, STDOUT_HARD,
    )  # fmt: skip


BUILTINS_BASE = {name: getattr(builtins, name) for name in SAFE_BUILTINS if hasattr(builtins, name)}
BUILTINS_BASE["__build_class__"] = builtins.__build_class__


def _json_safe(value):
    """The answer as a JSON-safe number or string of an exact built-in type (bool stays bool)."""
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        value = int(value)
        if value.bit_length() > 14_000:  # str() refuses more than 4300 digits
            return f"an integer with about {int(value.bit_length() * 0.30103) + 1} digits"
        return value
    if isinstance(value, (fractions.Fraction, decimal.Decimal)):
        try:
            value = float(value)
        except (OverflowError, ValueError):
            return str(str(value)[:ANSWER_TEXT_MAX])
    if isinstance(value, float):
        value = float(value)
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return value
    if isinstance(value, str):
        return str(value[:ANSWER_TEXT_MAX])
    return str(repr(value)[:ANSWER_TEXT_MAX])


def _program_line(tb) -> int | None:
    """Line number of the innermost frame of the user's program in a traceback (see LINE_OFFSET)."""
    line = None
    while tb is not None:
        if tb.tb_lineno >= LINE_OFFSET:
            line = tb.tb_lineno - LINE_OFFSET
        tb = tb.tb_next
    return line


def _compile(source: str):
    """The program's code, its lines numbered from LINE_OFFSET + 1 (each code object's first line
    moved: line numbers are stored relative to it, so every line moves with it)."""

    def shifted(code: types.CodeType) -> types.CodeType:
        consts = tuple(shifted(c) if isinstance(c, types.CodeType) else c for c in code.co_consts)
        return code.replace(co_firstlineno=code.co_firstlineno + LINE_OFFSET, co_consts=consts)

    return shifted(compile(source, FILENAME, "exec", dont_inherit=True))


def _describe(exc: BaseException) -> str:
    try:
        text = f"{type(exc).__name__}: {exc}"
    except BaseException:  # a __str__ that raises
        text = type(exc).__name__
    return str(text[:MESSAGE_MAX])


def _describe_outcome(
    reply: dict, outcome: str, violations: list, answer, answer_source: str, memory_mb: int,
    line: int | None, message: str,
) -> None:  # fmt: skip
    """Fill `reply` in with what happened, in words a student reads."""
    where = f" on line {line}" if line else ""
    if violations:
        reply.update(
            error_kind="forbidden",
            error=f"The program tried to {violations[0]}, which the sandbox does not allow.",
        )
    elif outcome == "flood":
        reply.update(
            error_kind="runtime",
            error=f"The program printed more than {STDOUT_HARD // MIB} MB of output and was stopped.",
        )
    elif outcome == "ok":
        reply.update(ok=True, answer=answer, answer_source=answer_source)
    elif outcome == "no_answer":
        reply.update(
            error_kind="no_answer",
            error="The program ran but did not set a variable named `answer` (or return one from solution()), "
            "and assigned no value at its top level to read instead.",
        )
    elif outcome == "memory":
        reply.update(
            error_kind="memory",
            error=f"The program needed more than {memory_mb} MB of memory and was stopped.",
        )
    elif outcome == "recursion":
        reply.update(
            error_kind="runtime",
            error=(
                f"The program went too deep{where}: a function called itself too many times "
                "or data was nested too deeply (recursion limit)."
            ),
        )
    else:
        reply.update(error_kind="runtime", error=f"The program stopped with an error{where}: {message}")


def run_here(request: dict, helpers: dict, python_layers: bool = True) -> dict:
    """Run one program in this process and describe what happened (``python_layers`` False: real
    builtins and no audit hook, tests only). Called once per process: what the program leaves behind
    dies with it."""
    source = request["source"]
    memory_mb = int(request.get("memory_mb", 256))
    fallback_name = request.get("fallback_name")
    reply = {"ok": False, "answer": None, "stdout": "", "error": "", "error_kind": None}
    try:
        code = _compile(source)
    except SyntaxError as exc:
        reply.update(error_kind="syntax", error=f"Line {exc.lineno}: {exc.msg} (this is not valid Python).")
        return reply
    except (ValueError, MemoryError, RecursionError) as exc:
        reply.update(error_kind="syntax", error=f"The program could not be read as Python: {exc}.")
        return reply

    if python_layers:
        builtins_dict = dict(BUILTINS_BASE)
        builtins_dict["__import__"] = helpers["import"]
        builtins_dict["type"] = helpers["type"]
        namespace = {"__builtins__": builtins_dict, "__name__": USER_MODULE}
    else:
        namespace = {"__builtins__": builtins, "__name__": USER_MODULE}
    output, flood = helpers["output"](), helpers["flood"]
    sys.stdout = sys.stderr = output

    outcome = "ok"
    message = ""
    answer = None
    answer_source = "answer"
    error = None
    if python_layers:
        sys.addaudithook(helpers["hook"])  # for good: this process ends after its one program
    try:
        try:
            exec(code, namespace)
            if "answer" in namespace:
                answer = namespace["answer"]
            elif callable(namespace.get("solution")):
                answer, answer_source = namespace["solution"](), "solution"
            elif isinstance(fallback_name, str) and not callable(namespace.get(fallback_name)):
                answer, answer_source = namespace.get(fallback_name), "last_assignment"
            if answer is None:
                outcome = "no_answer"
            else:
                answer = _json_safe(answer)  # may call the program's __float__/__repr__: still guarded
        except MemoryError:
            outcome = "memory"
        except RecursionError as exc:
            outcome, error = "recursion", exc
        except flood:
            outcome = "flood"
        except BaseException as exc:  # SystemExit, KeyboardInterrupt and every user error
            outcome, error, message = "error", exc, _describe(exc)
        stdout = str(output.getvalue())
    except BaseException as exc:  # a __str__, __float__ ... misbehaved after the program
        outcome, error, message, stdout = "error", exc, type(exc).__name__, ""
    # No finalizer of the program's may run unguarded from here: nothing it made is released (the
    # process exits right after the reply) and the cyclic collector is off.
    gc.disable()
    line = _program_line(error.__traceback__) if error is not None else None
    reply["stdout"] = stdout
    _describe_outcome(reply, outcome, helpers["violations"], answer, answer_source, memory_mb, line, message)
    return reply


def preload() -> None:
    """Modules the interpreter or an allowed module may load lazily while a program runs (a parser's
    NFKC, a text encoding, `statistics.mode`'s `Counter.most_common` importing heapq): imported now.
    A program's process may not be able to read them (as `nobody`, with a Python under /root), and
    its audit hook refuses any import of a module not loaded yet, so every lazy path is loaded here."""
    import copy  # noqa: F401
    import encodings.ascii  # noqa: F401
    import encodings.latin_1  # noqa: F401
    import encodings.utf_16  # noqa: F401
    import encodings.utf_32  # noqa: F401
    import heapq  # noqa: F401
    import unicodedata  # noqa: F401


def seal_unaudited(helpers: dict) -> None:
    """``_posixsubprocess.fork_exec`` starts a process without any audit event (subprocess raises its
    own, in Python), and pyseccomp's ctypes.util imported it; the template needs it no more. A program
    that reaches it through a module's globals meets the refusal instead."""
    posixsubprocess = sys.modules.get("_posixsubprocess")
    if posixsubprocess is not None:
        posixsubprocess.fork_exec = helpers["refuse"]
    subprocess = sys.modules.get("subprocess")
    if subprocess is not None:
        subprocess._fork_exec = helpers["refuse"]


SIGNAL_FUNCTIONS = (
    "signal set_wakeup_fd setitimer alarm raise_signal pthread_kill pthread_sigmask siginterrupt "
    "sigwait sigwaitinfo sigtimedwait"
).split()
THREAD_FUNCTIONS = "interrupt_main start_new_thread start_new start_joinable_thread".split()


def seal_signals(helpers: dict) -> None:
    """In a program's process: no Python-level signal handling and no threads. Neither is audited,
    and a signal handler is handed the frame it interrupts (`signal.signal` with
    `_thread.interrupt_main` reached the worker's own frames once)."""
    for module_name, names, refusal in (
        ("_signal", SIGNAL_FUNCTIONS, "refuse_signals"),
        ("signal", SIGNAL_FUNCTIONS, "refuse_signals"),
        ("_thread", THREAD_FUNCTIONS, "refuse_threads"),
        ("threading", ("_start_new_thread", "_interrupt_main"), "refuse_threads"),
    ):
        module = sys.modules.get(module_name)
        for name in names if module is not None else ():
            if hasattr(module, name):
                setattr(module, name, helpers[refusal])

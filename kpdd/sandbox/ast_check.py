"""Layer 1 of the sandbox: an allowlist over the program's syntax tree, in this process, before
anything runs (see kpdd/sandbox/__init__.py for the layers and what each must hold alone)."""

from __future__ import annotations

import ast
import re
import string

from kpdd.sandbox.program_result import ProgramResult

ALLOWED_MODULES = frozenset({"math", "fractions", "decimal", "statistics", "itertools"})
MAX_SOURCE_CHARS = 100_000

FORBIDDEN_NAMES = frozenset(
    "exec eval compile open getattr setattr delattr hasattr globals locals vars dir __import__ input "
    "breakpoint help memoryview object exit quit copyright credits license".split()
)
# Attributes that reach frames, code objects or interpreter internals without a leading underscore.
FORBIDDEN_ATTRIBUTES = frozenset(
    "gi_frame gi_code gi_yieldfrom gi_running cr_frame cr_code cr_await cr_origin ag_frame ag_code ag_await "
    "f_back f_globals f_locals f_builtins f_code f_trace f_lasti tb_frame tb_next tb_lasti co_code "
    "co_consts co_names format_map mro register modules obj".split()
)
# `obj` is AttributeError's: the object an attribute lookup failed on, which may be one the program
# was never handed (the end of a walk through format fields).
# Special methods a program may define in its own classes (defining is safe; reading dunders is not).
ALLOWED_DUNDER_METHODS = frozenset(
    "__init__ __repr__ __str__ __eq__ __ne__ __lt__ __le__ __gt__ __ge__ __hash__ __bool__ __len__ "
    "__iter__ __next__ __contains__ __getitem__ __call__ __add__ __sub__ __mul__ __truediv__ "
    "__floordiv__ __mod__ __pow__ __radd__ __rsub__ __rmul__ __rtruediv__ __neg__ __pos__ __abs__ "
    "__float__ __int__ __round__".split()
)


# A double underscore touching a letter, as in "__globals__" or "__x": the name of something hidden. No
# word-problem program needs one in a string, and strings are how a program names an attribute to
# reach it indirectly (a class's __match_args__, a dict given to type()).
DUNDER_TEXT = re.compile(r"__[A-Za-z]|[A-Za-z0-9]__")
# Classes that match one positional sub-pattern against the subject itself (`case int(x)`). Any other
# class reads its positional sub-patterns through __match_args__, a list of attribute names.
SELF_MATCHING_CLASSES = frozenset("bool bytearray bytes dict float frozenset int list set str tuple".split())


class _Forbidden(Exception):
    pass


def _is_dunder_or_private(name: str) -> bool:
    return name.startswith("__")


def _check_format_literal(text: str) -> None:
    """Reject ``"{0.__class__}".format(x)``-style field names (attribute or index lookups)."""
    try:
        fields = list(string.Formatter().parse(text))
    except ValueError:
        return  # .format will fail at run time anyway
    for _, field, spec, _ in fields:
        if field and ("." in field or "[" in field):
            raise _Forbidden("a format string that looks up attributes or items (like '{0.x}' or '{0[x]}')")
        if spec and "{" in spec:
            _check_format_literal(spec)


def _check_tree(tree: ast.AST) -> None:
    allowed = _allowed_nodes(tree)
    for node in ast.walk(tree):
        _check_node(node, allowed)


def _allowed_nodes(tree: ast.AST) -> set[int]:
    """ids of the nodes the name rules let through: the `type` of a one-argument `type(x)` call, a
    class's allowed dunder methods (`__init__`...), and the `.__init__` of `super().__init__`."""
    allowed: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "type":
            if len(node.args) == 1 and not node.keywords:
                allowed.add(id(node.func))
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name in ALLOWED_DUNDER_METHODS:
                    allowed.add(id(item))
        elif (
            isinstance(node, ast.Attribute)
            and node.attr == "__init__"
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name)
            and node.value.func.id == "super"
        ):
            allowed.add(id(node))
    return allowed


def _check_node(node: ast.AST, allowed: set[int]) -> None:
    if isinstance(node, (ast.AsyncFunctionDef, ast.AsyncFor, ast.AsyncWith, ast.Await)):
        raise _Forbidden("async code")
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
        text = node.value if isinstance(node.value, str) else node.value.decode("latin-1")
        if DUNDER_TEXT.search(text):
            raise _Forbidden("a special name written inside a string (a double underscore and a letter)")
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        _check_import(node)
    elif isinstance(node, ast.Name):
        if _is_dunder_or_private(node.id):
            raise _Forbidden(f"the special name '{node.id}'")
        if node.id in FORBIDDEN_NAMES:
            raise _Forbidden(f"the built-in '{node.id}'")
        if node.id == "type" and id(node) not in allowed:
            raise _Forbidden("'type' other than type(x) with one argument")
    elif isinstance(node, ast.Attribute):
        _check_attribute(node, allowed)
    elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
        if isinstance(node, ast.ClassDef) and node.keywords:
            # `class A(metaclass=f)`, or the same spelt `class A(**{"meta" + "class": f})`.
            raise _Forbidden("keywords in a class definition (a metaclass)")
        if _is_dunder_or_private(node.name) and id(node) not in allowed:
            raise _Forbidden(f"defining the special name '{node.name}'")
        if node.name in FORBIDDEN_NAMES:
            raise _Forbidden(f"redefining the built-in '{node.name}'")
    elif isinstance(node, ast.keyword):
        if node.arg and _is_dunder_or_private(node.arg):
            raise _Forbidden(f"the special keyword '{node.arg}'")
        if node.arg == "metaclass":
            raise _Forbidden("metaclasses")
    elif isinstance(node, ast.MatchClass):
        if node.patterns and not (isinstance(node.cls, ast.Name) and node.cls.id in SELF_MATCHING_CLASSES):
            raise _Forbidden("a positional 'case C(x)' pattern on a class that is not a built-in type")
        for attr in node.kwd_attrs:
            # `case str(format=f)` reads an attribute just as `s.format` does, with none of its checks.
            if _is_dunder_or_private(attr) or attr in FORBIDDEN_ATTRIBUTES or attr == "format":
                raise _Forbidden(f"the attribute '{attr}' in a match pattern")
    else:
        for name in _bound_names(node):
            if _is_dunder_or_private(name):
                raise _Forbidden(f"the special name '{name}'")


def _check_import(node: ast.Import | ast.ImportFrom) -> None:
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name not in ALLOWED_MODULES:
                raise _Forbidden(f"importing the module '{alias.name}'")
            if alias.asname and _is_dunder_or_private(alias.asname):
                raise _Forbidden(f"the name '{alias.asname}'")
        return
    if node.level or node.module not in ALLOWED_MODULES:
        raise _Forbidden(f"importing from the module '{'.' * node.level}{node.module or ''}'")
    for alias in node.names:
        if alias.name.startswith("_") or (alias.asname and _is_dunder_or_private(alias.asname)):
            raise _Forbidden(f"importing the hidden name '{alias.name}'")


def _check_attribute(node: ast.Attribute, allowed: set[int]) -> None:
    if _is_dunder_or_private(node.attr) and id(node) not in allowed:
        raise _Forbidden(f"the special attribute '.{node.attr}'")
    if node.attr in FORBIDDEN_ATTRIBUTES:
        raise _Forbidden(f"the attribute '.{node.attr}'")
    if node.attr == "format":
        receiver = node.value
        if not (isinstance(receiver, ast.Constant) and isinstance(receiver.value, str)):
            raise _Forbidden("'.format' on anything but a string written in the program")
        _check_format_literal(receiver.value)


def _bound_names(node: ast.AST) -> list[str]:
    """Names a node binds besides assignments (which are ast.Name): arguments, global and nonlocal
    declarations, exception and match-pattern captures."""
    if isinstance(node, ast.arg):
        return [node.arg]
    if isinstance(node, (ast.Global, ast.Nonlocal)):
        return list(node.names)
    if isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)):
        return [node.name] if node.name else []
    if isinstance(node, ast.MatchMapping):
        return [node.rest] if node.rest else []
    return []


def check_source(source: str) -> ProgramResult | None:
    """The AST allowlist. Returns a failed ProgramResult (syntax or forbidden), or None if it may run.

    Identifiers are NFKC-normalised by the parser, so 'ｅval' is checked as 'eval'.
    """
    if not isinstance(source, str):
        return ProgramResult(ok=False, error="The program is not text.", error_kind="syntax")
    if len(source) > MAX_SOURCE_CHARS:
        return ProgramResult(
            ok=False,
            error=f"The program is longer than {MAX_SOURCE_CHARS} characters.",
            error_kind="forbidden",
        )
    try:
        tree = ast.parse(source, filename="<program>", mode="exec")
    except SyntaxError as exc:
        return ProgramResult(
            ok=False, error=f"Line {exc.lineno}: {exc.msg} (this is not valid Python).", error_kind="syntax"
        )
    except (ValueError, RecursionError, MemoryError) as exc:
        return ProgramResult(
            ok=False, error=f"The program could not be read as Python: {exc}.", error_kind="syntax"
        )
    try:
        _check_tree(tree)
    except _Forbidden as exc:
        return ProgramResult(
            ok=False,
            error=f"The program uses {exc}, which is not allowed in the sandbox.",
            error_kind="forbidden",
        )
    except RecursionError:
        return ProgramResult(ok=False, error="The program is nested too deeply.", error_kind="forbidden")
    return None

"""Tests that run only where the fork start method exists.

A test suite keeps a test that needs fork off the platforms without it by a skip: a decorator
(`@pytest.mark.skipif(sys.platform == "win32", ...)`, `@unittest.skipIf(not hasattr(os, "fork"),
...)`, `@unittest.skipUnless("fork" in multiprocessing.get_all_start_methods(), ...)`, also on
the test's class or as the module's `pytestmark`), a skip at the top of the test or of the module
(`if not hasattr(os, "fork"): pytest.skip(...)`, `raise unittest.SkipTest(...)`,
`self.skipTest(...)`), or `pytest.importorskip` of a module only POSIX has (`fcntl`, `resource`,
...). Such a test is meant for fork, as a `conftest.py` that sets the start method is.

A condition is read for what it says about fork: Windows (`sys.platform == "win32"`,
`sys.platform.startswith("win")`, `os.name == "nt"`, `platform.system() == "Windows"`), the
absence of `os.fork` or of `"fork"` among the start methods, their negations, `or`/`and` of
them, and a module-level name bound once to such a condition (`IS_WINDOWS = ...`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from mplint.facts.resolve import MAX_DEPTH

if TYPE_CHECKING:
    from mplint.facts import ModuleFacts
    from mplint.facts.scopes import Scope

#: modules that only POSIX has: `pytest.importorskip` of one skips the test where fork is missing
_POSIX_MODULES = frozenset({"fcntl", "resource", "pwd", "grp", "termios", "posix", "pty", "tty"})
_SKIP_IF = frozenset({"pytest.mark.skipif", "unittest.skipIf", "unittest.case.skipIf"})
_SKIP_UNLESS = frozenset({"unittest.skipUnless", "unittest.case.skipUnless"})
_SKIP_CALLS = frozenset({"pytest.skip", "unittest.SkipTest", "unittest.case.SkipTest"})
_START_METHODS = frozenset({"multiprocessing.get_all_start_methods"})
#: what `sys.platform` / `os.name` / `platform.system()` equal on Windows
_WINDOWS = {"sys.platform": ("win32", "cygwin"), "os.name": ("nt",), "platform.system": ("Windows",)}
#: ... and on platforms that have fork
_HAS_FORK = {"sys.platform": ("linux", "darwin", "freebsd"), "os.name": ("posix",),
             "platform.system": ("Linux", "Darwin", "FreeBSD")}


def fork_only(facts: ModuleFacts, scope: Scope) -> bool:
    """Code of `scope` runs in a test that is skipped where the fork start method is missing."""
    if _module_skips(facts):
        return True
    function = scope.function
    while function is not None:
        node = function.node
        if type(node) is cst.FunctionDef and function.parent is not None:
            if _decorated(facts, node.decorators, function.parent) or _body_skips(facts, node.body, function):
                return True
            info = facts.functions.get(node)
            if info is not None and info.cls is not None:
                cls = facts.classes[info.cls]
                if _decorated(facts, info.cls.decorators, cls.outer):
                    return True
        parent = function.parent
        function = parent.function if parent is not None else None
    return False


def _module_skips(facts: ModuleFacts) -> bool:
    module = facts.module_scope
    for binding in module.bindings.get("pytestmark", ()):
        marks = binding.value
        elements = marks.elements if type(marks) in (cst.List, cst.Tuple) else [marks]
        for element in elements:
            value = element.value if isinstance(element, cst.BaseElement) else element
            if type(value) is cst.Call and _skip_decorator(facts, value, module):
                return True
    return _body_skips(facts, facts.module, module)


def _decorated(facts: ModuleFacts, decorators: object, scope: Scope) -> bool:
    return any(
        type(d.decorator) is cst.Call and _skip_decorator(facts, d.decorator, scope)
        for d in decorators  # type: ignore[attr-defined]
    )


def _skip_decorator(facts: ModuleFacts, call: cst.Call, scope: Scope) -> bool:
    """`skipif(<no fork>)` or `skipUnless(<fork>)`."""
    qualname = facts.names.qualname(call.func, scope)
    condition = call.args[0].value if call.args and call.args[0].keyword is None else None
    if condition is None:
        return False
    if qualname in _SKIP_IF:
        return _says(facts, condition, scope, 0) is False
    if qualname in _SKIP_UNLESS:
        return _says(facts, condition, scope, 0) is True
    return False


def _body_skips(facts: ModuleFacts, body: cst.CSTNode, scope: Scope) -> bool:
    """A statement that skips where fork is missing: `if <no fork>: pytest.skip(...)` (or the
    `else:` of `if <fork>:`), or `pytest.importorskip("fcntl")`; anywhere at the top level of the
    module, and in a test among its opening statements (after its docstring, before anything
    else)."""
    module = type(body) is cst.Module
    statements = body.body if type(body) in (cst.Module, cst.IndentedBlock) else ()
    for statement in statements:
        if type(statement) is cst.If:
            said = _says(facts, statement.test, scope, 0)
            if said is False and _skips(facts, statement.body, scope):
                return True
            if said is True and type(statement.orelse) is cst.Else and _skips(facts, statement.orelse.body, scope):
                return True
        elif type(statement) is cst.SimpleStatementLine:
            values = [small.value if type(small) in (cst.Expr, cst.Assign) else None for small in statement.body]
            if any(type(v) is cst.Call and _posix_import(facts, v, scope) for v in values):
                return True
            if not module and not all(type(v) is cst.SimpleString for v in values):
                break  # past the test's opening checks (a docstring may come first)
        elif not module:
            break
    return False


def _skips(facts: ModuleFacts, block: cst.BaseSuite, scope: Scope) -> bool:
    """The block skips the test: `pytest.skip(...)`, `raise unittest.SkipTest(...)`, `self.skipTest(...)`."""
    for statement in block.body:
        for small in statement.body if type(statement) is cst.SimpleStatementLine else ():
            expr = small.value if type(small) is cst.Expr else small.exc if type(small) is cst.Raise else None
            call = expr if type(expr) is cst.Call else None
            target = call.func if call is not None else expr
            if target is None:
                continue
            if type(target) is cst.Attribute and target.attr.value == "skipTest":
                return True
            if facts.names.qualname(target, scope) in _SKIP_CALLS:
                return True
    return False


def _posix_import(facts: ModuleFacts, call: cst.Call, scope: Scope) -> bool:
    if facts.names.qualname(call.func, scope) != "pytest.importorskip" or not call.args:
        return False
    name = call.args[0].value
    return type(name) is cst.SimpleString and name.evaluated_value in _POSIX_MODULES


def _says(facts: ModuleFacts, expr: cst.BaseExpression, scope: Scope, depth: int) -> bool | None:
    """True: the condition is false wherever fork is missing (it implies fork); False: it is true
    wherever fork is missing (Windows); None: it says nothing about fork."""
    if depth > MAX_DEPTH:
        return None
    depth += 1
    if type(expr) is cst.UnaryOperation and type(expr.operator) is cst.Not:
        inner = _says(facts, expr.expression, scope, depth)
        return None if inner is None else not inner
    if type(expr) is cst.BooleanOperation:
        left = _says(facts, expr.left, scope, depth)
        right = _says(facts, expr.right, scope, depth)
        if type(expr.operator) is cst.Or:
            return False if False in (left, right) else (True if left is True and right is True else None)
        return True if True in (left, right) else (False if left is False and right is False else None)
    if type(expr) is cst.Call:
        return _call_says(facts, expr, scope)
    if type(expr) is cst.Comparison and len(expr.comparisons) == 1:
        return _comparison_says(facts, expr, scope)
    if type(expr) is cst.Name:
        found = facts.names.lookup(expr.value, scope)
        if found is not None and found[0] is facts.module_scope and len(found[1]) == 1:
            value = found[1][0].value
            if value is not None:
                return _says(facts, value, found[0], depth)
    return None


def _call_says(facts: ModuleFacts, call: cst.Call, scope: Scope) -> bool | None:
    func = call.func
    args = [a.value for a in call.args]
    if type(func) is cst.Name and func.value == "hasattr" and len(args) == 2:
        if facts.names.qualname(args[0], scope) == "os" and _text(args[1]) == "fork":
            return True
        return None
    if type(func) is cst.Attribute and func.attr.value == "startswith" and len(args) == 1:
        platform = facts.names.qualname(func.value, scope)
        prefixes = [_text(e.value) for e in args[0].elements] if type(args[0]) is cst.Tuple else [_text(args[0])]
        if platform in _WINDOWS and prefixes and all(p is not None for p in prefixes):
            if all(p and any(w.startswith(p) for w in _WINDOWS[platform]) for p in prefixes):  # type: ignore[union-attr]
                return False
            if all(p and any(h.startswith(p) for h in _HAS_FORK[platform]) for p in prefixes):  # type: ignore[union-attr]
                return True
    return None


def _comparison_says(facts: ModuleFacts, expr: cst.Comparison, scope: Scope) -> bool | None:
    target = expr.comparisons[0]
    operator, right, left = target.operator, target.comparator, expr.left
    if type(operator) in (cst.In, cst.NotIn) and _text(left) == "fork":
        if type(right) is cst.Call and facts.names.qualname(right.func, scope) in _START_METHODS:
            return type(operator) is cst.In
        return None
    if type(operator) not in (cst.Equal, cst.NotEqual):
        return None
    subject = left.func if type(left) is cst.Call and not left.args else left
    platform = facts.names.qualname(subject, scope)
    value = _text(right)
    if platform not in _WINDOWS or value is None:
        return None
    if value in _WINDOWS[platform]:
        equal = False  # `== "win32"` holds where fork is missing
    elif value in _HAS_FORK[platform]:
        equal = True
    else:
        return None
    return equal if type(operator) is cst.Equal else not equal


def _text(expr: cst.BaseExpression) -> str | None:
    if type(expr) is cst.SimpleString:
        value = expr.evaluated_value
        return value if isinstance(value, str) else None
    return None

"""The guard fix's reading of a module (`mplint.fixes.reads`, from Python's `ast`) against the
one it replaced, LibCST's `ScopeProvider` (several parses' worth), kept here as the oracle: for
each top-level statement, the statements whose bindings it reads at import time and at run time,
the statements some function reads, the names each binds and the names it reads at import time.

One difference is left out of the comparison, for it cannot change a plan: the old reading put
a non-name among a statement's import-time reads for a read through a dotted import
(`os.path.join` after `import os.path`: the attribute node) or in a string annotation (the
string's quoted text); the plan only ever intersects those reads with bound names, which these
never equal. Identifiers that Python's NFKC normalisation changes (PEP 3131: `ŉ` is `ʼn` to
Python, not to LibCST) are left out of the generated modules: there Python's answer is the right
one."""

from __future__ import annotations

import ast
import io
import sysconfig
import tokenize
import unicodedata
import warnings
from pathlib import Path

import hypothesmith
import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings
from libcst.metadata import ClassScope, ComprehensionScope, GlobalScope, MetadataWrapper, ScopeProvider

from mplint import engine, prefilter
from mplint.fixes import guard
from mplint.fixes.reads import Reads, reads_and_binds

FIXTURES = Path(__file__).parent / "fixtures"


def _runs_at_import(scope: object) -> bool:
    while isinstance(scope, (ClassScope, ComprehensionScope)):
        scope = scope.parent
    return isinstance(scope, GlobalScope)


def scope_provider_reads(module: cst.Module) -> Reads:
    """The reading the guard's plan made before, with LibCST's ScopeProvider."""
    scopes = MetadataWrapper(module, unsafe_skip_copy=True).resolve(ScopeProvider)
    owner: dict[cst.CSTNode, int] = {}
    for index, statement in enumerate(module.body):
        guard._TopLevel(owner, index).walk(statement)
    import_reads: dict[int, set[int]] = {}
    run_reads: dict[int, dict[str, set[int]]] = {}
    read_by_functions: set[int] = set()
    binds: dict[int, set[str]] = {}
    reads_names: dict[int, set] = {}
    for scope in {s for s in scopes.values() if s is not None}:
        for assignment in scope.assignments:
            if isinstance(assignment.scope, GlobalScope) and hasattr(assignment, "node"):
                where = owner.get(assignment.node)
                if where is not None:
                    binds.setdefault(where, set()).add(assignment.name)
        for access in scope.accesses:
            reader = owner.get(access.node)
            if reader is None:
                continue
            at_import = _runs_at_import(access.scope)
            if at_import:
                reads_names.setdefault(reader, set()).add(getattr(access.node, "value", ""))
            for referent in access.referents:
                if not isinstance(referent.scope, GlobalScope) or not hasattr(referent, "node"):
                    continue
                bound = owner.get(referent.node)
                if bound is None:
                    continue
                if at_import:
                    import_reads.setdefault(reader, set()).add(bound)
                else:
                    run_reads.setdefault(reader, {}).setdefault(referent.name, set()).add(bound)
                    read_by_functions.add(bound)
    names = {k: {n for n in v if isinstance(n, str) and n.isidentifier()} for k, v in reads_names.items()}
    return import_reads, run_reads, read_by_functions, binds, {k: v for k, v in names.items() if v}


def assert_same_reading(text: str) -> None:
    module = cst.parse_module(text)
    try:
        try:
            expected: Reads | str = scope_provider_reads(module)
        except RecursionError:  # the engine checks such a module again with a deep stack
            expected = engine._with_deep_stack(scope_provider_reads, module)
    except Exception as error:  # the plan failed, and its finding had no fix
        expected = type(error).__name__
    try:
        found: Reads | str = reads_and_binds(module, text)
    except Exception as error:
        found = type(error).__name__
    assert found == expected
    if not isinstance(found, str):
        assert reads_and_binds(module) == found  # from the module's code when no text is given


def _python_and_libcst_parse(text: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
        cst.parse_module(text)
    except Exception:
        return False
    return True


TRICKY = '''\
import os.path
import os
import a.b.c as abc_mod, x.y
from typing import List, Optional, cast, TypeVar, NewType, Literal
import typing
import typing as t
T = TypeVar("T", bound="Foo")
U = NewType(Foo, "Bar")
Alias = Optional["Baz"]
Lit = Literal["Qux", "Foo"]
Foo = 1
Bar = 2
Baz = 3
Qux = 4
v = cast("Foo", Bar)
w = typing.cast("Baz", Qux)
y = t.Optional["Qux"]
z: "List[Foo]" = os.path.join("a")
x.y.z = 3
q = x.y.z
del q
def f(a: "Foo" = Bar, *args: "Baz", k: int = Qux, **kw: "Optional['Qux']") -> "Alias":
    print(total)
    total = 1
    global Foo
    Foo = 2
    return os.path, os.sep, abc_mod
class C(Foo, metaclass=Bar):
    Bar = Bar
    Baz = 1
    print(Baz)
    for Qux in Qux:
        pass
    def m(self, x=Baz):
        return Baz, Qux, Bar
    g = [Baz for Baz in range(Qux) if Baz for Qux in Baz if Qux]
    class D:
        Foo = Baz
lam = lambda a=Foo, b=T: a + Foo + T + lam
comp = [y for x in Alias for y in x if (w2 := y)]
print(w2)
match v:
    case Foo(Bar=Baz, k=rest):
        pass
    case [Foo, *Bar]:
        pass
    case {"k": Baz, **Qux}:
        pass
    case Foo.Bar as zz:
        pass
def outer():
    xx = 1
    def inner():
        nonlocal xx
        xx = 2
        return Foo
    class K:
        xx = 3
        def m(self): return xx
    return inner
@decorate(Foo)
def decorated(p=decorated): ...
with open(Foo) as (fh, gh):
    pass
try:
    pass
except Foo as Bar:
    print(Bar)
(Baz := 5)
print(f"{Baz!r:{Qux}}", None, True)
x = x
typing = 1
'''


def test_scopes_order_dotted_imports_and_string_annotations_are_read_as_before() -> None:
    assert_same_reading(TRICKY)
    import_reads, run_reads, read_by_functions, binds, reads_names = reads_and_binds(cst.parse_module(TRICKY))
    assert run_reads[21] == {"os.path": {0}, "os": {0, 1}, "abc_mod": {2}}  # `f`, by dotted name
    # `z: "List[Foo]" = os.path.join("a")`: the string is read, `os.path` is the first import's
    assert import_reads[17] == {0, 3, 10}
    assert import_reads[16] == {5}  # `t.Optional["Qux"]`: LibCST reads no string there
    assert binds[0] == {"os", "os.path"} and binds[24] == {"comp"}  # a comprehension's `:=` is its own


def test_a_module_python_cannot_parse_gets_no_reading() -> None:
    with pytest.raises(SyntaxError):
        reads_and_binds(cst.parse_module("type X = int\n"), "type X = int\n")


def _read_as_before(paths: list[Path]) -> int:
    compared = 0
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if _python_and_libcst_parse(text):
            try:
                assert_same_reading(text)
            except AssertionError as error:
                raise AssertionError(f"{path}: {error}") from None
            compared += 1
    return compared


def test_the_guard_fixes_and_mpl001_fixtures_are_read_as_before() -> None:
    paths = sorted((FIXTURES / "fixes").rglob("*.py")) + sorted((FIXTURES / "MPL001").glob("*.py"))
    assert _read_as_before(paths) >= 30


@pytest.mark.slow  # about 10 s of CPU: the old reading is the costly one
def test_every_fixture_is_read_as_before() -> None:
    assert _read_as_before(sorted(FIXTURES.rglob("*.py"))) >= 380


def _standard_library_that_passes_the_prefilter() -> list[Path]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    found = []
    for path in sorted(stdlib.rglob("*.py")):
        if "site-packages" in path.parts:
            continue
        try:
            text = path.read_bytes()
        except OSError:
            continue
        if prefilter.may_contain_findings(text):
            found.append(path)
    return found


@pytest.mark.slow
def test_the_standard_library_modules_that_pass_the_prefilter_are_read_as_before() -> None:
    paths = _standard_library_that_passes_the_prefilter()
    assert len(paths) >= 20
    assert _read_as_before(paths) >= 20


def _names_unchanged_by_nfkc(text: str) -> bool:
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return False
    return all(unicodedata.normalize("NFKC", t.string) == t.string for t in tokens if t.type == tokenize.NAME)


_GENERATED = settings(
    max_examples=60, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck)
)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::SyntaxWarning")
@_GENERATED
@given(hypothesmith.from_grammar())
def test_generated_modules_are_read_as_before(source: str) -> None:
    if _python_and_libcst_parse(source) and _names_unchanged_by_nfkc(source):
        assert_same_reading(source)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::SyntaxWarning")
@_GENERATED
@given(hypothesmith.from_node())
def test_modules_generated_from_libcst_nodes_are_read_as_before(source: str) -> None:
    if _python_and_libcst_parse(source) and _names_unchanged_by_nfkc(source):
        assert_same_reading(source)

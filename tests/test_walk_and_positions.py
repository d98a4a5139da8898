"""The fast walker visits what LibCST's own visit visits, in the same order, and the locator gives
the ranges LibCST's PositionProvider gives: they replace them, so they must agree exactly."""

from __future__ import annotations

import ast
import inspect
import re
import sysconfig
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from mplint.facts import walk
from mplint.facts.positions import Positions
from mplint.facts.walk import ClassTest, Walker

FIXTURES = Path(__file__).parent / "fixtures"
SRC = Path(__file__).parent.parent / "src" / "mplint"
STDLIB = Path(sysconfig.get_paths()["stdlib"])
# a few real files with every kind of statement and expression between them
STDLIB_FILES = [STDLIB / name for name in ("subprocess.py", "concurrent/futures/process.py",
                                           "multiprocessing/managers.py", "dataclasses.py")]
# the fixture project of modules that cannot be read is left out: they do not parse on purpose
SAMPLES = sorted(p for p in FIXTURES.rglob("*.py") if "bad_input" not in p.parts)
SAMPLES += [p for p in STDLIB_FILES if p.exists()]

TRIVIA = (
    cst.BaseParenthesizableWhitespace, cst.EmptyLine, cst.TrailingWhitespace, cst.Newline,
    cst.Comment, cst.LeftParen, cst.RightParen, cst.LeftSquareBracket, cst.RightSquareBracket,
    cst.LeftCurlyBrace, cst.RightCurlyBrace, cst.Comma, cst.Semicolon, cst.Colon, cst.Dot,
    cst.AssignEqual, cst.BaseBinaryOp, cst.BaseBooleanOp, cst.BaseCompOp, cst.BaseUnaryOp,
    cst.BaseAugOp, cst.Asynchronous,
)


class _Recorder(cst.CSTVisitor):
    def __init__(self) -> None:
        self.events: list[tuple[str, int]] = []
        self.skipping = 0

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, TRIVIA):
            self.skipping += 1
        elif not self.skipping:
            self.events.append(("visit", id(node)))
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if isinstance(original_node, TRIVIA):
            self.skipping -= 1
        elif not self.skipping:
            self.events.append(("leave", id(original_node)))


class _FastRecorder(Walker):
    def __init__(self) -> None:
        self.events: list[tuple[str, int]] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.events.append(("visit", id(node)))
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.events.append(("leave", id(original_node)))


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_the_walker_visits_every_node_but_layout_in_libcsts_order(path: Path) -> None:
    module = cst.parse_module(path.read_text(encoding="utf-8"))
    slow, fast = _Recorder(), _FastRecorder()
    module.visit(slow)
    fast.walk(module)
    assert fast.events == slow.events


def test_the_walker_calls_handlers_and_skips_children_on_false() -> None:
    module = cst.parse_module("def f():\n    g(1)\nh(2)\nclass C:\n    k(3)\n")

    class Calls(Walker):
        def __init__(self) -> None:
            self.calls: list[str] = []
            self.left: list[str] = []

        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return False

        def visit_Call(self, node: cst.Call) -> None:
            self.calls.append(node.func.value)  # type: ignore[attr-defined]

        def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
            self.left.append(original_node.name.value)

    walker = Calls()
    walker.walk(module)
    assert walker.calls == ["h", "k"]
    assert walker.left == ["C"]


def test_the_walker_does_not_recurse() -> None:
    module = cst.parse_module("x = (\n" + "    'part'\n" * 3000 + ")\n")
    strings = []

    class Strings(Walker):
        def visit_SimpleString(self, node: cst.SimpleString) -> None:
            strings.append(node)

    Strings().walk(module)  # 3,000 nested ConcatenatedStrings: LibCST's visit would overflow
    assert len(strings) == 3000


EDGE_CASES = [
    "import os\r\n\r\nx = (1,\r\n  2)\r\nif x:\r\n    y = f(\r\n  3)  # c\r\nz=1",
    "a = 1\rb = 2\r",
    "s = '''\nmulti\nline'''\nt = f'{s!r:>{10}}'\n",
    "@decorator\n# comment\n\ndef f(\n    a,\n    *,\n    b=1,\n):\n    return (a\n            + b)\n",
    "x = 'é' + '\u4e2d\u6587'; y = [x\n for x in range(3)]  # no newline at end",
    "",
]


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_positions_are_position_providers(path: Path) -> None:
    _assert_same_positions(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("source", EDGE_CASES, ids=range(len(EDGE_CASES)))
def test_positions_are_position_providers_on_edge_cases(source: str) -> None:
    _assert_same_positions(source)


def _assert_same_positions(source: str) -> None:
    module = cst.parse_module(source)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    positions = Positions(module)
    wrong = [(type(node).__name__, expected[node], positions[node])
             for node in expected if positions[node] != expected[node]]
    assert not wrong, wrong[:5]


def test_the_package_walks_trees_with_the_walker_only() -> None:
    """One slow visit hidden in a rule costs more than the rest of that rule: see facts/walk.py."""
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "walk.py" or path.relative_to(SRC).as_posix() == "fixes/rewrite.py":
            continue  # a fix rebuilds the tree: LibCST's transformers live in fixes/rewrite.py
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and any(
                ast.unparse(base) in ("cst.CSTVisitor", "CSTVisitor", "cst.CSTTransformer")
                for base in node.bases
            ):
                offenders.append(f"{path.name}:{node.lineno}: class {node.name} derives from LibCST's visitor")
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "visit" and len(node.args) == 1):
                offenders.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    assert not offenders, (
        "use mplint.facts.walk.Walker and `visitor.walk(node)` instead of LibCST's visit:\n"
        + "\n".join(offenders)
    )


def test_layout_nodes_are_the_only_ones_skipped() -> None:
    # guards the list above: a new LibCST field name must not hide code from the walker
    module = cst.parse_module(Path(STDLIB / "subprocess.py").read_text(encoding="utf-8"))
    names = {type(node).__name__ for node in _all_nodes(module)}
    walked = set()

    class Everything(Walker):
        def on_visit(self, node: cst.CSTNode) -> bool:
            walked.add(type(node).__name__)
            return True

    Everything().walk(module)
    skipped = names - walked
    assert all(re.search(r"Whitespace|Line|Newline|Comment|Paren|Bracket|Brace|Comma|Semicolon|"
                         r"Colon|Dot|Equal|Asynchronous|^(Add|Subtract|Multiply|Divide|Modulo|"
                         r"Power|And|Or|Not|Is|In|Less|Greater|Plus|Minus|Bit|Left|Right|Floor|"
                         r"MatrixMultiply|IsNot|NotIn|NotEqual|Equal|LessThan|GreaterThan)",
                         name) for name in skipped), skipped


def _all_nodes(node: cst.CSTNode):
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(current.children)


NODE_CLASSES = [
    value for value in vars(cst).values() if isinstance(value, type) and issubclass(value, cst.CSTNode)
]


def test_concrete_node_classes_have_no_subclasses_so_a_class_comparison_is_isinstance() -> None:
    # the facts compare `type(node) is cst.Name` on their hot paths (mplint/facts/names.py)
    concrete = [cls for cls in NODE_CLASSES if not getattr(cls, "__abstractmethods__", None)]
    assert cst.Name in concrete and cst.BaseExpression not in concrete  # the test can fail
    assert [cls for cls in concrete if cls.__subclasses__()] == []


def test_a_class_test_answers_as_isinstance_does() -> None:
    test = ClassTest(cst.SimpleStatementLine, cst.BaseCompoundStatement)
    module = cst.parse_module("import os\nif x:\n    y = [1]\nclass C: pass\n")
    nodes = [module, *module.body, module.body[1].body, 1, "text", None]
    for value in nodes:
        expected = isinstance(value, (cst.SimpleStatementLine, cst.BaseCompoundStatement))
        assert test[type(value)] is expected
    assert any(test[type(node)] for node in nodes) and not all(test[type(node)] for node in nodes)
    for cls in NODE_CLASSES:  # the cache agrees on every class, abstract ones too
        assert test[cls] == issubclass(cls, (cst.SimpleStatementLine, cst.BaseCompoundStatement))


def test_derives_answers_as_issubclass_for_every_pair_of_libcst_classes() -> None:
    classes = [value for value in vars(cst).values() if isinstance(value, type)]
    bases = [cls for cls in classes if issubclass(cls, cst.CSTNode)]
    for cls in [*classes, int, str, type(None), list, tuple]:
        for base in bases:
            assert walk.derives(cls, frozenset({base})) == issubclass(cls, base), (cls, base)
    assert walk._TRIVIA_TYPES == {cls for cls in classes if issubclass(cls, TRIVIA)}


LINE_CASES = [
    *EDGE_CASES,
    "@a.b(\n  1)\n@\\\n  c\nclass K:\n    def f(self): pass\n    @property\n    def f(self): return 1\n",
    "try:\n    def f(): pass\nexcept ImportError:\n    def f(): return 2\nelse:\n    def g(): pass\n",
    "def \\\n  late(): pass\nasync  def  g():\n    def g(): pass\n",
    "(f\n)()\n(\n g)(); h()\nx = 1; y = [\n2]\n\\\n\nz = 3 ;\nif x :\n  pass\n",
    "import os\n\nclass A :\n    x = os.getpid()\n\n\n    def run(self) :\n        self.x = 2\nmain()",
    "if True:\n  class A:\n  \tdef f(self):\n  \t    x = [\n  1]\n  \t    @d\n  \t    # c\n  \t    def g(): return x\n  \t    return g\n",
    "def outer():\n    class Inner:\n        def m(self, a=f(\n            1)):\n            y = \\\n              2\n            self.v = a\n    return Inner\n",
    "type X = int\ndef f(): pass\n",  # newer than Python 3.11's ast: every line from Positions
    # statements in the blocks of compound statements, each generated alone
    "if a:\n    x = f(\n        1)\nelif b:\n    # c\n    g()\nelif c: h()\nelse:\n\n    k(); m(\n 2)\n",
    "for i in f():\n    g(i)\nelse:\n    h()\nwhile w():\n  if x:\n    break\nelse:\n  z = [\n1]\n",
    "try:\n    a()\nexcept (E,\n        F) as e:\n    b(e)\nexcept G:\n    pass\nelse:\n  c()\nfinally:\n    d()\n",
    "try:\n    a()\nexcept* E:\n    b()\n",
    "async def f():\n    async with g() as h, \\\n            k():\n        async for x in h:\n            await x()\n",
    "match p:\n    case [1, *r]:\n        f(r)\n    case {'k': v} if v:\n        g(\n v)\n    case _:\n        pass\n",
    "class C(B):\n    x = f()\n    if y:\n        z = g(\n          1)\n    class D:\n        w = h()\n",
    "if a:\n\tif b:\n\t\tc(\n  1)\n\telse:\n\t  d()\nwith e() as f: g()\nif x: pass\nelse: y()\n",
    # small statements and their calls, read from `ast` without generating code
    "x = (\n  f())\n((\n g))(1); del a, \\\n b\ny: T = (\n (h)(\n))\nz += ((k\n)())\n",
    "def f():\n    return (\n  g())\nwith (\n  a() as b,\n  (c)()):\n    (d)()\nasync def h():\n    async with m() as n: await n()\n",
    "x = 1\ry = f(\r 2)\nz = g()\r\n",
]


@pytest.mark.parametrize("given", [False, True], ids=["parsed by lines.py", "tree given"])
@pytest.mark.parametrize("source", LINE_CASES, ids=range(len(LINE_CASES)))
def test_lines_are_the_lines_positions_give(source: str, given: bool) -> None:
    """`facts.line_of` reads lines from Python's `ast` and one statement's code (`lines.py`):
    wherever it answers, it answers as `Positions` does, from its own parse or from the tree
    the engine made."""
    import ast

    from mplint.facts import ModuleFacts

    module = cst.parse_module(source)
    tree = None
    if given:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            pass
    facts = ModuleFacts(module, "m.py", source, python_tree=tree)
    positions = Positions(module, source)
    for info in facts.functions.values():
        assert facts.def_line(info) == positions[info.node.name].start.line, info.name
    wrong = [(type(node).__name__, facts.line_of(node), positions[node].start.line)
             for node in facts.up if node is not module and facts.line_of(node) != positions[node].start.line]
    assert not wrong, wrong[:5]


def test_lines_are_the_lines_positions_give_in_real_files() -> None:
    from mplint.facts import ModuleFacts

    for path in SAMPLES[::3]:
        source = path.read_text(encoding="utf-8")
        module = cst.parse_module(source)
        facts = ModuleFacts(module, str(path), source)
        positions = Positions(module, source)
        for info in facts.functions.values():
            assert facts.def_line(info) == positions[info.node.name].start.line, (path, info.name)
        for node in list(facts.up)[1::5]:
            assert facts.line_of(node) == positions[node].start.line, (path, type(node).__name__)


@pytest.mark.parametrize("source", LINE_CASES, ids=range(len(LINE_CASES)))
def test_ranges_are_the_ranges_positions_give(source: str) -> None:
    """A finding's range (`facts.position`) is read from the code of the statement that holds
    the node (`Lines.range`) wherever that code is the text there: the same start and end as
    `Positions`, which generates the whole module."""
    from mplint.facts import ModuleFacts

    module = cst.parse_module(source)
    facts = ModuleFacts(module, "m.py", source)
    positions = Positions(module, source)
    nodes = [node for node in facts.up if node is not module]
    wrong = [(type(node).__name__, found, positions[node]) for node in nodes
             if (found := facts._lines.range(node)) is not None and found != positions[node]]
    assert not wrong, wrong[:3]
    assert [facts.position(node) for node in nodes] == [positions[node] for node in nodes]


def test_ranges_are_the_ranges_positions_give_in_real_files() -> None:
    from mplint.facts import ModuleFacts

    answered = 0
    for path in SAMPLES[1::3]:
        source = path.read_text(encoding="utf-8")
        module = cst.parse_module(source)
        facts = ModuleFacts(module, str(path), source)
        positions = Positions(module, source)
        for node in list(facts.up)[::4]:
            found = facts._lines.range(node)
            if found is not None:
                answered += 1
                assert found == positions[node], (path, type(node).__name__)
    assert answered > 1000


def test_a_finding_s_range_in_plain_code_generates_no_whole_module() -> None:
    from mplint.facts import ModuleFacts

    source = "import os\n\nclass C:\n    def g(self):\n        self.x = os.getpid(\n            1)  # c\n"
    module = cst.parse_module(source)
    facts = ModuleFacts(module, "m.py", source)
    call = facts.calls[0].node
    assert facts.position(call) == Positions(module, source)[call]
    assert (facts.position(call).start.line, facts.position(call).start.column) == (5, 17)
    assert (facts.position(call).end.line, facts.position(call).end.column) == (6, 14)
    assert "_positions" not in vars(facts)  # the whole module's code was never generated


def test_lines_of_plain_code_generate_no_whole_module() -> None:
    from mplint.facts import ModuleFacts

    source = "import os\n\n@dec\ndef f(a):\n    return os.getpid(\n        a)\n\nclass C:\n    def g(self):\n        self.x = f(1)\n"
    module = cst.parse_module(source)
    facts = ModuleFacts(module, "m.py", source)

    def whole_module(node: cst.CSTNode) -> int:
        raise AssertionError(f"Positions asked for a {type(node).__name__}")

    facts._position_line = whole_module  # type: ignore[method-assign]
    lines = {info.name: facts.def_line(info) for info in facts.functions.values()}
    assert lines == {"f": 4, "g": 9}
    calls = [facts.line_of(site.node) for site in facts.calls]
    assert calls == [5, 10]


def test_a_line_in_a_nested_block_generates_only_its_statement() -> None:
    from mplint.facts import ModuleFacts

    body = "".join(f"        y{n} = {n}\n" for n in range(50))
    source = ("class C:\n    def f(self):\n        with g() as h:\n" + body.replace("        ", "            ")
              + "            if h:\n                for x in h:\n                    try:\n"
              "                        pass\n                    except E:\n                        k(\n"
              "                          x)\n" + body.replace("        ", "            "))
    module = cst.parse_module(source)
    facts = ModuleFacts(module, "m.py", source)
    call = next(site.node for site in facts.calls if cst.ensure_type(site.node.func, cst.Name).value == "k")
    argument = call.args[0].value
    assert facts.line_of(argument) == source.splitlines().index("                          x)") + 1
    generated = [node for node, found in facts._lines._generated.items() if found is not None]
    assert [type(node) for node in generated] == [cst.SimpleStatementLine]


def test_small_statements_and_their_calls_generate_no_code() -> None:
    """A small statement's line, and that of a call that is its value or a `with` item's
    context, come from Python's `ast` alone; parentheses around a call are left out by both."""
    from mplint.facts import ModuleFacts

    source = ("x = (\n    f())\n(\n g(\n))\nreturn_ = \\\n  h()\ndef m():\n    del x; y: int = (\n k())\n"
              "    with (\n        p() as q,\n        r()):\n        return (\n s())\n    (t)(\n)\n")
    module = cst.parse_module(source)
    facts = ModuleFacts(module, "m.py", source)
    positions = Positions(module, source)

    def generating(statement: cst.CSTNode) -> None:
        raise AssertionError(f"code generated for a {type(statement).__name__}")

    facts._lines._generate = generating  # type: ignore[method-assign]
    nodes = [site.node for site in facts.calls] + [
        node for node in facts.up if isinstance(node, (cst.Assign, cst.AnnAssign, cst.Del, cst.Expr, cst.Return))
    ]
    kinds = {cst.Call, cst.Assign, cst.AnnAssign, cst.Del, cst.Expr, cst.Return}
    assert len(nodes) == 15 and {type(node) for node in nodes} == kinds
    assert [facts.line_of(node) for node in nodes] == [positions[node].start.line for node in nodes]


def test_a_lone_carriage_return_leaves_lines_to_the_generated_code() -> None:
    from mplint.facts import ModuleFacts

    source = "x = 1\ry = f(\r 2)\n"
    module = cst.parse_module(source)
    facts = ModuleFacts(module, "m.py", source)
    call = facts.calls[0].node
    assert facts.line_of(call) == Positions(module, source)[call].start.line == 2
    assert not facts._lines._known


# --- the fields of each node class, read from LibCST's source ------------------------------------

_NODE_CLASSES = sorted(
    (value for value in vars(cst).values()
     if isinstance(value, type) and issubclass(value, cst.CSTNode) and not inspect.isabstract(value)),
    key=lambda cls: cls.__name__,
)


@pytest.mark.parametrize("cls", _NODE_CLASSES, ids=lambda cls: cls.__name__)
def test_a_node_class_s_visit_is_read_as_inspect_reads_it(cls: type) -> None:
    # the walk reads the lines of `_visit_and_replace_children` without tokenizing the file; the
    # fields it finds there must be those of the function's whole source as `inspect` gives it
    code = cls._visit_and_replace_children.__code__
    expected = walk._VISITED_FIELD.findall(inspect.getsource(cls._visit_and_replace_children))
    assert walk._VISITED_FIELD.findall(walk._source_of(code)) == expected


def test_a_function_whose_source_cannot_be_read_gives_no_source() -> None:
    code = compile("def f():\n    return visit_required(self, 'x', None, None)\n", "<nowhere>", "exec")
    function_code = next(c for c in code.co_consts if isinstance(c, type(code)))
    assert walk._source_of(function_code) == ""


def test_where_the_source_cannot_be_read_the_fields_are_those_an_instance_visits(monkeypatch) -> None:
    module = cst.parse_module("@d\ndef f(a, *, b=1) -> int:\n    if a:\n        return g(a, b=[b])\n")
    nodes = [node for node in _all_nodes(module) if not isinstance(node, walk._TRIVIA_BASES)]
    from_source = {type(node): walk._fields(node) for node in nodes}
    monkeypatch.setattr(walk, "_source_of", lambda code: "")
    monkeypatch.setattr(walk, "_FIELDS", {})  # the walk's own table is left as it was
    recorded = {type(node): walk._fields(node) for node in nodes}
    # an instance visits only the fields it holds: the same or fewer, in the same order
    for cls, fields in recorded.items():
        assert [name for name in from_source[cls] if name in fields] == list(fields), cls
    assert recorded[cst.FunctionDef] == from_source[cst.FunctionDef]


def _all_nodes(node: cst.CSTNode) -> list[cst.CSTNode]:
    found = [node]
    for child in node.children:
        found += _all_nodes(child)
    return found

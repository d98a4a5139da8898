"""Partial parsing: blank out the definitions that no code using the API can reach, before LibCST
parses, keeping every line number and column of the code that is kept.

LibCST's parse is most of a check's cost, and in a large module one class or function often is
all that uses multiprocessing (a test module with one test that starts a process). Python's own
parser, a tenth of LibCST's cost, tells which definitions matter:

- *relevant* code names an API of the table (`apis.py`), or a name or attribute that relevant code
  binds (`ctx = get_context()`, `self.pool = Pool()`, `def make_pool(): return Pool()`);
- a module-level statement is kept where the facts read the module itself (imports, the
  docstring, the main guard, a skip or an exit, `pytestmark`, the first statement that makes the
  module a script for the guard fixes, a line it shares with another statement), or where kept
  code needs it: it binds or changes a name kept code reads, reads a name kept code changes, or
  names a definition that reaches kept code (import-time code that runs it);
- a class whose decorators, bases or keywords name the API (a subclass of `Process`) keeps all of
  its methods; one whose API code is only in its body (`ctx = get_context()` at class level)
  holds API objects: the names it binds are attributes relevant code gives one, and their readers
  are relevant;
- from kept code, everything it reaches by name is kept: the functions and classes it names
  (calls, references, decorators, bases, targets handed to children), the methods it names as
  attributes in kept classes and the methods that set those attributes, the dunder methods of
  kept classes;
- and what the facts read back from elsewhere in the module: the callers of kept functions and
  classes (what a parameter receives), the readers of module-level names that kept code changes,
  and of the attributes that methods handed to a child set on `self` (what the parent sees: read
  on another object than a method's own `self`, or in a class of the handed method's family);
- a method that only shares its name with a method of a kept class (`callgraph.may_be_overridden`
  asks whether another class defines it) keeps its definition, its body blanked; its class is
  kept to hold it, and, as long as no kept code names that class, none of its other methods is
  asked for.

The units are top-level statements and, inside top-level classes, each method (also one
defined under a class-level `if` or `try`: a method for the facts too) and each assignment to
plain names (`config = {...}`: in a class kept that does not use the API itself, one
whose names no kept code reads is blanked). A unit that is not kept is replaced by `pass` on its
first line and empty lines after it (a method kept as a definition: its body, from its first
line), so the result parses and everything else stays where it was. Where Python cannot parse
the file (syntax newer than the running Python), or it star-imports an API module, nothing is
blanked; a large module that is nearly all API code (`dense`) is not read at all. When unsure, keep.
`MPLINT_NO_PARTIAL=1` in the environment turns it off (to compare findings both ways). What
each unit reads, binds and calls is `mplint.ast_units`'s.
"""

from __future__ import annotations

import ast
import gc
import os
import re
from functools import lru_cache

from mplint import apis
from mplint.ast_units import Reader, Unit, read_units, relevant_qualname
from mplint.python_tree import python_tree

#: the environment variable that turns partial parsing off
DISABLE = "MPLINT_NO_PARTIAL"

_LINE_END = re.compile(r"(\r\n|\r|\n)")
_INDENT = re.compile(r"[ \t\f]*")


class _GiveUp(Exception):
    pass


def kept_units(tree: ast.Module, threads: bool, lines: list[str] | None = None) -> list[Unit]:
    """Every unit, with `keep` marked on those to keep whole and `outline` on the methods kept as
    definitions only (with `lines`, the text's lines: a body that starts a line of its own can be
    blanked alone). Raises _GiveUp where it cannot tell."""
    reader = Reader(threads)
    units = read_units(tree, reader)
    for unit in units:
        if unit.body_line and not _starts_line(lines, unit.body_line, unit.body_column):
            unit.body_line = 0
        if unit.kind == "class":  # a member after the `class` line's colon is kept with it
            unit.members = [m for m in unit.members if _starts_line(lines, m.body_line, m.body_column)]
    if any(relevant_qualname(module, threads) for module in reader.star):
        raise _GiveUp  # names of the API bound without being named
    for unit in (*units, *reader.flows, *(u.identity for u in units if u.identity is not None)):
        reader.judge(unit)
    relevant, whole = _relevant(units)
    return _reach(units, relevant, whole)


def _starts_line(lines: list[str] | None, line: int, column: int) -> bool:
    """Whether only white space is before `column` (UTF-8 bytes) of `line` (from 1)."""
    if lines is None or line > len(lines):
        return False
    try:
        return not lines[line - 1].encode("utf-8")[:column].strip(b" \t\f")
    except UnicodeEncodeError:
        return False


def _relevant(units: list[Unit]) -> tuple[set[int], set[int]]:
    """The units whose code uses the API, directly or through names that such code binds: the
    functions and classes it defines, and what its assignments give an API object to (module-level
    names, names declared `global`, attributes); and of them, the classes that are the API's
    themselves, whose methods are all kept (their decorators, bases or keywords name it: a
    subclass of `Process`). A class whose API code is only in its body (`ctx = get_context()`,
    a list of the API's types) holds API objects: the names it binds are attributes that relevant
    code gives an API object, and their readers are relevant, as for `self.pool = Pool()`."""
    api_names: set[str] = set()
    api_attrs: set[str] = set()
    relevant: set[int] = set()
    whole: set[int] = set()
    changed = True
    while changed:
        changed = False
        for unit in units:
            if id(unit) not in relevant:
                if not (unit.api or unit.loads & api_names or unit.attr_loads & api_attrs):
                    continue
                relevant.add(id(unit))
                changed = True
            names, attrs = _given_api(unit, api_names, api_attrs)
            if unit.kind == "def":
                names.add(unit.name)
            elif unit.kind == "class":
                identity = unit.identity
                if identity is None or identity.api or identity.loads & api_names or identity.attr_loads & api_attrs:
                    if id(unit) not in whole:
                        whole.add(id(unit))
                        changed = True
                    names.add(unit.name)
                else:
                    attrs |= _tainted(unit, api_names, api_attrs)[0]
            elif unit.kind == "method":
                attrs.add(unit.name)
            if not (names <= api_names and attrs <= api_attrs):
                api_names |= names
                api_attrs |= attrs
                changed = True
    return relevant, whole


def _given_api(unit: Unit, api_names: set[str], api_attrs: set[str]) -> tuple[set[str], set[str]]:
    """The module-level names and the attributes that the unit's assignments give an API object."""
    tainted, attrs = _tainted(unit, api_names, api_attrs)
    shared = unit.binds if unit.kind == "module" else unit.globals
    return (tainted & shared) | unit.defined, attrs


def _tainted(unit: Unit, api_names: set[str], api_attrs: set[str]) -> tuple[set[str], set[str]]:
    """The names and the attributes that the unit's assignments give an API object."""
    tainted: set[str] = set()
    attrs: set[str] = set()
    grew = True
    while grew:
        grew = False
        for names, targets, source in unit.flows:
            if names <= tainted and targets <= attrs:
                continue
            if source.api or source.loads & api_names or source.loads & tainted or source.attr_loads & api_attrs:
                tainted |= names
                attrs |= targets
                grew = True
    return tainted, attrs


def _reach(units: list[Unit], relevant: set[int], whole: set[int]) -> list[Unit]:
    kept: set[int] = set(relevant)
    kept.update(id(u) for u in units if u.kind == "module" and u.anchor)
    headers = [u for u in units if u.kind == "class"]
    by_name: dict[str, list[Unit]] = {}
    for header in headers:
        by_name.setdefault(header.name, []).append(header)
    for header in headers:  # every method of a class that is itself the API's
        if id(header) in whole:
            kept.update(id(m) for m in header.methods)
    handed_relevant = set().union(*(u.handed for u in units if id(u) in relevant))
    relevant_attr_loads = set().union(*(u.attr_loads for u in units if id(u) in relevant))
    called = _called(units, relevant, handed_relevant)
    called_names = {u.name for u in called if u.kind in ("def", "class")}
    called_methods = {u.name for u in called if u.kind == "method"}
    #: names bound to a class by another statement than a top-level class: the bases of a class
    #: that bears one are not all known
    opaque = set().union(*(u.defined for u in units), *(u.globals for u in units))
    #: methods kept as definitions only (what reads them asks only that they exist), and the
    #: classes kept only to hold them: no kept code names such a class, so none of its other
    #: methods is asked for (until something names it)
    outlined: set[int] = set()
    containers: set[int] = set()
    definitions = _definitions(units)
    changed = True
    while changed:
        changed = False
        for unit in units:
            if unit.cls is None or id(unit.cls) in kept:
                continue
            if id(unit) in kept:
                kept.add(id(unit.cls))
                containers.discard(id(unit.cls))
                changed = True
            elif id(unit) in outlined and id(unit.cls) not in containers:
                containers.add(id(unit.cls))
                changed = True
        live = [u for u in units if id(u) in kept]
        signatures = [u.signature for u in units if id(u) in outlined and u.signature is not None]
        read = [*live, *(u for u in units if id(u) in containers), *signatures]  # the code the parse holds
        held = kept | containers
        loads = set().union(*(u.loads for u in read))
        attr_loads = set().union(*(u.attr_loads for u in read))
        module_bound = set().union(*(u.binds for u in units if u.kind == "module"), *(u.globals for u in units))
        mutated = set().union(*(u.mutates for u in read)) & module_bound
        # methods handed to a child (and what they call on self) set attributes the parent reads
        handed = {m for h in headers if id(h) in kept for m in h.methods
                  if id(m) in kept and (m.name in handed_relevant or id(h) in whole)}
        handed_methods = _self_reached(handed, headers, kept)
        seen_attrs = set().union(*(m.attr_stores for m in handed_methods))
        family = _family(headers, {m.cls.name for m in handed if m.cls is not None}, opaque)
        kept_lineage = _lineage(headers, held, by_name)
        kept_classes = {h.name for h in headers if id(h) in held}
        # `callgraph.may_be_overridden` asks whether another class defines a kept method's name
        defined_methods = {u.name for u in live if u.kind == "method"}.union(
            {u.name for u in units if id(u) in outlined}, *(u.nested_methods for u in live))
        self_called = set().union(*(u.self_calls for u in read))
        shared_methods = {m for m in defined_methods if not _dunder(m) or m in self_called}
        reaching = _reaching(units, held, definitions)
        for unit in units:
            if id(unit) in kept:
                continue
            why = _module_wanted(unit, loads, reaching, mutated) if unit.kind == "module" else ""
            why = why or _wanted(unit, loads, attr_loads, called_names, mutated, seen_attrs, called_methods,
                          kept_lineage, kept_classes, kept, relevant_attr_loads, shared_methods, family)
            if why == DEFINED and unit.kind == "method" and unit.body_line:
                if id(unit) not in outlined:  # only its name is asked: its body is blanked
                    unit.why = why
                    outlined.add(id(unit))
                    changed = True
            elif why:
                unit.why = why
                kept.add(id(unit))
                outlined.discard(id(unit))
                containers.discard(id(unit))
                changed = True
    for unit in units:
        unit.keep = id(unit) in kept or id(unit) in containers
        unit.outline = id(unit) in outlined
    _keep_members(units, relevant, kept | containers, outlined, _reaching(units, kept | containers, definitions) | mutated)
    return units


def _keep_members(units: list[Unit], relevant: set[int], held: set[int], outlined: set[int], asked: set[str]) -> None:
    """Marks `keep` on the class-level assignments that the parse needs, in the classes held that
    do not use the API themselves (a class that does keeps all of itself): those whose names kept
    code reads (`self.config`, `Cls.config`, a class statement), or that a method's name is (an
    alias read as a definition), or that read what reaches kept code or what kept code changes."""
    read: set[str] = set()
    for unit in units:
        if unit.kind == "class":
            read |= unit.own_loads if id(unit) in held else set()
        elif id(unit) in held:
            read |= unit.loads | unit.attr_loads
        elif id(unit) in outlined and unit.signature is not None:
            read |= unit.signature.loads | unit.signature.attr_loads
    read |= {u.name for u in units if u.kind == "method"}.union(*(u.nested_methods for u in units))
    pending = []
    for unit in units:
        if unit.kind == "class":
            whole = id(unit) in relevant or id(unit) not in held
            for member in unit.members:
                member.keep = whole or member.api
                if member.keep:
                    read |= member.loads | member.attr_loads
                else:
                    pending.append(member)
    changed = True
    while changed:
        changed = False
        for member in pending:
            if not member.keep and (member.targets & read or member.loads & asked or member.mutates & read):
                member.keep = True
                member.why = "a class-level name kept code needs"
                read |= member.loads | member.attr_loads
                changed = True


def _definitions(units: list[Unit]) -> dict[str, set[str]]:
    """The names each top-level def or class (its methods included) reads."""
    definitions: dict[str, set[str]] = {}
    for unit in units:
        if unit.kind in ("def", "class"):
            definitions.setdefault(unit.name, set()).update(unit.loads)
        elif unit.kind == "method" and unit.cls is not None:
            definitions.setdefault(unit.cls.name, set()).update(unit.loads)
    return definitions


def _reaching(units: list[Unit], held: set[int], definitions: dict[str, set[str]]) -> set[str]:
    """The module-level names whose code may reach what the parse holds: the defs and classes
    held (also those a module-level statement defines), and those whose code names one of these
    (a function that calls a kept function, at any distance: import-time code that calls it runs
    what it reaches)."""
    names: set[str] = set()
    for unit in units:
        if id(unit) in held:
            names |= unit.defined
            if unit.kind in ("def", "class"):
                names.add(unit.name)
    changed = True
    while changed:
        changed = False
        for name, named in definitions.items():
            if name not in names and named & names:
                names.add(name)
                changed = True
    return names


def _module_wanted(unit: Unit, loads: set[str], reaching: set[str], mutated: set[str]) -> str:
    """Why kept code needs a module-level statement that names no API ("" when it does not): it
    binds or changes a name that kept code reads, or names what kept code binds or a definition
    that reaches kept code (import-time code that runs it, what a parameter receives)."""
    if unit.binds & loads:
        return "binds a name kept code reads"
    if unit.mutates & loads:
        return "changes a name kept code reads"
    if unit.loads & reaching:
        return "names what reaches kept code"
    return ""


#: why a unit is kept that only defines a name a kept class defines
DEFINED = "defines a method a kept class defines"


def _wanted(unit, loads, attr_loads, called_names, mutated, seen_attrs, called_methods, lineage, classes, kept,
            relevant_attr_loads, shared_methods, family) -> str:
    """Why kept code needs `unit` ("" when it does not); DEFINED only when nothing else needs it."""
    if unit.kind in ("def", "class") and unit.name in loads:
        return "named"
    if unit.globals & loads:
        return "binds a global read"  # `global x; x = ...` in a function
    if unit.kind == "method" and id(unit.cls) in kept:
        if _dunder(unit.name):
            return "dunder"
        if unit.name in unit.cls.twice and any(
            id(m) in kept for m in unit.cls.methods if m.name == unit.name
        ):
            return "defines again a kept method"  # the facts know a class's first definition
        if unit.name in attr_loads or unit.name in unit.cls.loads:
            return "method named"
        if unit.attr_stores & relevant_attr_loads:
            return "sets an attribute read"  # what `self.x` is, for code that uses the API
    # the callers of what code using the API calls: what its parameters receive
    if unit.name_calls & called_names:
        return "calls"
    if unit.kind == "method" and unit.self_calls & called_methods and unit.cls.name in lineage:
        return "calls a method"
    if unit.loads & classes and unit.attr_loads & called_methods:
        return "calls an object's method"  # `obj = Cls(); obj.method(x)`
    if unit.loads & mutated:
        return "reads a changed name"  # a module-level name that kept code changes
    if unit.foreign_attr_loads & seen_attrs:
        return "reads an attribute a child sets"
    if unit.kind == "method" and (family is None or unit.cls.name in family) and unit.attr_loads & seen_attrs:
        return "reads an attribute a child sets on its object"  # `self.x` in a class of the family
    if unit.nested_methods & shared_methods:
        return "a class in it defines a method a kept class defines"
    if unit.kind == "method" and unit.name in shared_methods:
        return DEFINED  # `callgraph.may_be_overridden` asks whether another class defines it
    return ""


def _dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def _called(units: list[Unit], relevant: set[int], handed: set[str]) -> list[Unit]:
    """The units that code using the API calls (or hands over), directly or through others."""
    defs: dict[str, list[Unit]] = {}
    methods: dict[str, list[Unit]] = {}
    for unit in units:
        if unit.kind in ("def", "class"):
            defs.setdefault(unit.name, []).append(unit)
        elif unit.kind == "method":
            methods.setdefault(unit.name, []).append(unit)
    found = [u for u in units if id(u) in relevant]
    seen = {id(u) for u in found}
    pending = list(found)
    for name in handed:
        pending.extend(methods.get(name, ()))
    while pending:
        unit = pending.pop()
        callees = [d for name in unit.name_calls for d in defs.get(name, ())]
        callees += [m for d in callees if d.kind == "class" for m in d.methods if m.name == "__init__"]
        callees += [m for name in unit.self_calls for m in methods.get(name, ())]
        for callee in [unit, *callees]:
            if id(callee) not in seen:
                seen.add(id(callee))
                found.append(callee)
                pending.append(callee)
    return found


def _family(headers: list, roots: set[str], opaque: set[str]) -> set[str] | None:
    """Names of the classes that `visibility.family` can give a class of `roots`: its bases of the
    module, their bases, and the classes that derive from one of these (None: any class may).
    Where a class has a base that another statement binds (a class under a module-level `if`),
    its ancestors are unknown: it is taken for one of the family."""
    bases: dict[str, set[str]] = {}
    for header in headers:
        bases.setdefault(header.name, set()).update(header.bases)
    family = set(roots)
    pending = list(roots)
    while pending:  # up: the bases, and theirs
        for base in bases.get(pending.pop(), ()):
            if base in opaque:
                return None
            if base not in family:
                family.add(base)
                pending.append(base)
    changed = True
    while changed:  # down: what derives from one of them
        changed = False
        for name, its_bases in bases.items():
            if name not in family and its_bases & (family | opaque):
                family.add(name)
                changed = True
    return family


def _self_reached(methods: set, headers: list, kept: set[int]) -> set:
    found = set(methods)
    pending = list(methods)
    by_name: dict[str, list] = {}
    for header in headers:
        for method in header.methods:
            by_name.setdefault(method.name, []).append(method)
    while pending:
        method = pending.pop()
        for name in method.self_calls:
            for callee in by_name.get(name, ()):
                if callee not in found:
                    found.add(callee)
                    pending.append(callee)
    return found


def _lineage(headers: list, kept: set[int], by_name: dict[str, list]) -> set[str]:
    """Names of the kept classes and of the classes of the module that derive from one."""
    names = {h.name for h in headers if id(h) in kept}
    changed = True
    while changed:
        changed = False
        for header in headers:
            if header.name not in names and any(base in names for base in header.bases):
                names.add(header.name)
                changed = True
    return names


def read(text: str, threads: bool) -> tuple[bool, str | None]:
    """Whether Python's parser accepted `text` (False also where partial parsing is off), and
    `text` with the units no relevant code reaches blanked out (None when nothing is blanked).
    A text Python parsed needs no `nesting.scan`: Python's parser refuses more than 200 nested
    brackets and chains too deep for its own stack, all that would hurt LibCST's.

    The collector is off throughout: Python's tree holds no cycle, and the units' only ones
    (a method and its class) are cut before the end, so everything made here is freed by its
    count and leaves the collector no young objects to traverse (half of this step's cost when
    the collector ran on Python's tree)."""
    if os.environ.get(DISABLE):
        return False, None
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _read(text, threads)
    finally:
        if collecting:
            gc.enable()


#: below this many characters a module's reading costs little either way
DENSE_FROM = 20_000
#: mentions of the API's names per `def` above which a module is taken for all API code
DENSE_MENTIONS = 1.7


def dense(text: str) -> bool:
    """Whether `text` is a large module whose code is nearly all API code (`_test_multiprocessing`,
    a pool's own module): more mentions of the API table's names than DENSE_MENTIONS a `def`.
    Blanking keeps 75-100% of such a module, and Python's parse with the units' reading costs about
    a quarter of LibCST's parse of the whole module, more than the blanking saves: it is parsed
    whole, as where partial parsing is off (the findings are the same either way, only the cost
    differs). Measured on the standard library and the six sdists: every module above the line
    keeps 76% or more, the nearest below it (1.5 mentions a `def`) keeps 14%."""
    if len(text) < DENSE_FROM:
        return False
    mentions = len(_api_mentions().findall(text))
    return mentions > DENSE_MENTIONS * max(text.count("def "), 1)


@lru_cache(maxsize=1)
def _api_mentions() -> re.Pattern[str]:
    """One search for all of `_api_words` (the longest first): a pass over the text instead of a
    `str.count` per word, half the time on the standard library's large modules (13 against 25
    ms). Two words that overlap in a text count once, where the counts would count both (on the
    standard library, the repository's files and the sdists the two counts are the same): a
    measure of cost, it changes no finding."""
    return re.compile("|".join(re.escape(word) for word in sorted(_api_words(), key=lambda w: (-len(w), w))))


@lru_cache(maxsize=1)
def _api_words() -> tuple[str, ...]:
    """The names of the table's process classes (`Process`, `Pool`, ...) and its families' and
    libraries' roots, without those that hold another (`Process` counts `ProcessPoolExecutor`)."""
    words = {
        name for name in (q.rsplit(".", 1)[-1] for q, api in apis.APIS.items() if api.kind not in apis.THREAD_KINDS)
        if name[:1].isupper()
    }
    words |= {family.root.rsplit(".", 1)[-1] for family in apis.FAMILIES} | set(apis.LIBRARY_ROOTS)
    return tuple(sorted(word for word in words if not any(other != word and other in word for other in words)))


def _read(text: str, threads: bool) -> tuple[bool, str | None]:
    if dense(text):
        return False, None  # as if Python had not read it: the nesting check decides
    tree = python_tree(text)
    if tree is None:
        return False, None
    try:
        pieces = _LINE_END.split(text)  # text, end, text, end, ..., text
        units = kept_units(tree, threads, pieces[0::2])
    except (RecursionError, MemoryError, _GiveUp):
        return True, None
    del tree
    ranges = [
        (u.body_line, u.last) if u.outline else (u.first, u.last) for u in units
        if u.outline or not (u.keep or u.kind == "class" and any(m.keep or m.outline for m in u.methods))
    ]
    ranges += [(m.first, m.last) for u in units if u.kind == "class" for m in u.members if not m.keep]
    for unit in units:
        unit.cls = None  # the units' only cycles: freed by their counts
        for member in unit.members:
            member.cls = None
    return True, blank_lines(text, ranges, pieces) if ranges else None


def blank(text: str, threads: bool) -> str | None:
    """`text` with the units no relevant code reaches blanked out, or None when nothing is blanked
    (nothing to blank, the switch is off, or Python cannot parse the text)."""
    return read(text, threads)[1]


def blank_lines(text: str, ranges: list[tuple[int, int]], pieces: list[str] | None = None) -> str:
    """`text` with each range of lines (first, last; from 1) replaced by `pass` at the first
    line's indentation, and the lines after it joined to it by backslashes up to an empty last
    line (`pass \\`, `\\`, ..., ``), line ends kept. Ranges may nest; the outer one wins.

    The joined lines are one token of white space to LibCST, where empty lines would each be an
    `EmptyLine` node with its own white space and newline (a third of LibCST's parse of a module
    blanked down to a fifth); Python reads the one `pass` either way, and every line after the
    range is where it was. Where a line of the range ends in a lone `\r`, or the range ends the
    text without a line end (a continuation may not end the file), its lines are left empty.
    `pieces`: the text split at its line ends, where the caller has it (`_LINE_END.split`)."""
    pieces = _LINE_END.split(text) if pieces is None else list(pieces)  # text, end, ..., text
    lines = pieces[0::2]
    ends = pieces[1::2]
    blanked = [False] * (len(lines) + 1)
    for first, last in sorted(ranges, key=lambda r: (r[0], -r[1])):
        if blanked[first]:
            continue
        indent = _INDENT.match(lines[first - 1]).group()  # type: ignore[union-attr]
        joined = last > first and last <= len(ends) and "\r" not in ends[first - 1 : last]
        lines[first - 1] = indent + ("pass \\" if joined else "pass")
        blanked[first] = True
        for number in range(first + 1, last + 1):
            lines[number - 1] = "\\" if joined and number < last else ""
            blanked[number] = True
    pieces[0::2] = lines
    return "".join(pieces)

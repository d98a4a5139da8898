"""What kind of work a function does: I/O-bound, CPU-bound, or work that cannot be judged.

Every call a worker makes is sorted by what it calls (a qualified name, imports undone), with the
tables of `mplint/work_apis.py`:

- *blocking*: it waits on the network, a timer or another program;
- *releases-gil*: C code that computes with the GIL released (numpy, compression, hashing);
- *compute*: a library that computes while holding the GIL (statistics, difflib, sympy);
- *process-only*: things a thread cannot do for itself (signal handlers, the working directory);
- *local-io*: the local disk, queues, locks, futures: a short wait;
- *bookkeeping*: logging, formatting, path joins, containers, URL parsing, retries: glue;
- *local*: a function or class of this module, judged through the call graph;
- anything else imported, or a callable we cannot see (a parameter, a method of an object of
  unknown type), is *unknown*: it may be heavy, it may wait.

Calls on a client (what a client factory returns: `boto3.client(...)`, `requests.Session()`, a
socket), also through `self.client`, a factory method of a client (`session.resource("s3")`) or
a helper of the module that returns one, are calls of the client's library: `s3.get(key)` waits
on the network, it is not `dict.get`.

The work of a worker (the functions it reaches in this module) has one of three answers
(`Work.bound`):

- **I/O-bound**: it waits on the network or another program (`time.sleep` alone is pacing, not
  I/O), and does nothing CPU-heavy and nothing unknown;
- **CPU-bound**: it computes (a loop or comprehension doing arithmetic, recursion, a call into a
  compute library) and waits on nothing at all, the disk and queues included, and calls nothing
  unknown;
- **unknown** otherwise. Rules stay silent on unknown work.

Bookkeeping never decides the answer: counters and totals (`n += 1`, `i + 1`, `total += size`),
string building and the calls above count neither as computation nor as waiting.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, Literal

import libcst as cst

from mplint.facts.arithmetic import computing_loop
from mplint.work_apis import (
    BLOCKING_CALLS,
    BOOKKEEPING_CALLS,
    BOOKKEEPING_METHODS,
    CLIENT_ATTRIBUTES,
    CLIENT_FACTORIES,
    CLIENT_FACTORY_METHODS,
    HOLDS_GIL_CALLS,
    LOCAL_IO_CALLS,
    NOT_BLOCKING,
    PROCESS_ONLY_CALLS,
    RELEASES_GIL_CALLS,
    TIMER,
    UNKNOWN_BUILTINS,
    WAITING_BUILTINS,
    WAITING_METHODS,
    WAITING_WITHOUT_ARGUMENTS,
    WAITLESS_METHODS,
)

if TYPE_CHECKING:
    from mplint.facts import ModuleFacts
    from mplint.project.told import Chain, RemoteWork
    from mplint.facts.scopes import CallSite, FunctionInfo, Scope

__all__ = ["TIMER", "Blocking", "Bound", "Computation", "Work", "Workloads", "matches"]

CallKind = Literal[
    "blocking", "releases-gil", "compute", "process-only", "local-io", "bookkeeping", "local",
    "unknown",
]


def matches(qualname: str, names: Iterable[str]) -> str | None:
    """The table entry that covers `qualname`, if any."""
    for name in names:
        if name.endswith("."):
            if qualname.startswith(name):
                return name
        elif qualname == name or qualname.startswith(name + "."):
            return name
    return None


@functools.lru_cache(maxsize=64)
def _blocking_table(extra: tuple[str, ...]) -> dict[str, str]:
    """`BLOCKING_CALLS` with the names a configuration adds (`io-bound-calls`)."""
    table = dict(BLOCKING_CALLS)
    for name in extra:
        table.setdefault(name, "I/O (listed in `io-bound-calls`)")
    return table


@functools.lru_cache(maxsize=1 << 15)
def _kind_by_name(qualname: str, extra_blocking: tuple[str, ...]) -> tuple[CallKind, str]:
    """What a call of `qualname` is by the tables (read once per name: the same names, `os.path.join`
    and the like, are called in every module, and each table is read entry by entry)."""
    if matches(qualname, NOT_BLOCKING):
        return "bookkeeping", qualname
    blocking = _blocking_table(extra_blocking)
    entry = matches(qualname, blocking)
    if entry is not None:
        return "blocking", blocking[entry]
    if matches(qualname, PROCESS_ONLY_CALLS):
        return "process-only", qualname
    if matches(qualname, RELEASES_GIL_CALLS):
        return "releases-gil", qualname
    if matches(qualname, HOLDS_GIL_CALLS):
        return "compute", qualname
    if matches(qualname, BOOKKEEPING_CALLS):
        return "bookkeeping", qualname
    if matches(qualname, LOCAL_IO_CALLS):
        return "local-io", qualname
    return "unknown", qualname


class Bound(enum.Enum):
    """The one answer about a worker's work that the rules judging work share."""

    IO = "I/O-bound"
    CPU = "CPU-bound"
    UNKNOWN = "unknown"


@dataclass(frozen=True, eq=False)
class Blocking:
    """A blocking call in worker code."""

    site: CallSite
    #: the function whose body makes the call (None: a lambda handed over)
    function: FunctionInfo | None
    #: what it waits for: "the network", "a timer", "another program", ...
    waits_for: str
    #: for a call made in another module of the project (`site` calls into it): the chain from
    #: the function called there to the blocking call, which comes last
    via: Chain | None = None


@dataclass(frozen=True, eq=False)
class Computation:
    """Where work computes: a loop doing arithmetic, recursion, a call into a compute library."""

    #: a short phrase: "a loop doing arithmetic", "recursion in `fib`", "`statistics.median`"
    what: str
    node: cst.CSTNode
    function: FunctionInfo | None


@dataclass
class Work:
    """What a worker does, with everything it calls in this module."""

    blocking: list[Blocking] = field(default_factory=list)
    #: the first computation seen, if any (with the GIL held, unless `releases_gil` says more)
    compute: Computation | None = None
    #: a call into C code that releases the GIL while it computes (numpy, zlib, hashlib, ...)
    releases_gil: str | None = None
    #: a short wait on the local disk, a queue, a lock or a future
    local_io: str | None = None
    #: a call whose cost cannot be known
    unknown: str | None = None
    #: why the work wants a process of its own (signal handlers, working directory, ...)
    process_only: str | None = None

    @property
    def waits(self) -> list[Blocking]:
        """Waits on the network or another program (a timer alone says nothing about the work)."""
        return [b for b in self.blocking if b.waits_for != TIMER]

    @property
    def heavy(self) -> str | None:
        """Why the work may be CPU-heavy or cannot be judged, if it may: a short phrase."""
        if self.compute is not None:
            return self.compute.what
        if self.releases_gil is not None:
            return f"`{self.releases_gil}`"
        if self.unknown is not None:
            return f"`{self.unknown}`, whose cost is unknown"
        return None

    @property
    def bound(self) -> Bound:
        if self.unknown is not None:
            return Bound.UNKNOWN
        computes = self.compute is not None or self.releases_gil is not None
        if self.waits and not computes:
            return Bound.IO
        if computes and not self.blocking and self.local_io is None:
            return Bound.CPU
        return Bound.UNKNOWN

    @property
    def io_bound(self) -> bool:
        return self.bound is Bound.IO

    @property
    def holds_the_gil(self) -> bool:
        """CPU-bound work that keeps the GIL: pure-Python computation, nothing released."""
        return self.bound is Bound.CPU and self.releases_gil is None


class Workloads:
    """Judges the work of functions; `extra_blocking` adds entries to `BLOCKING_CALLS`."""

    def __init__(self, facts: ModuleFacts, extra_blocking: Iterable[str] = ()) -> None:
        self._facts = facts
        self._extra_blocking = tuple(extra_blocking)
        self._kinds: dict[cst.Call, tuple[CallKind, str]] = {}
        self._own: dict[cst.FunctionDef, Work] = {}
        self._reaches_blocking: dict[cst.FunctionDef, bool] = {}
        self._returned: dict[cst.FunctionDef, str | None] = {}

    # --- one call ------------------------------------------------------------------------------

    def call_kind(self, site: CallSite) -> tuple[CallKind, str]:
        """What a call is, and a detail: what it waits for, or the name of what it calls."""
        if site.node not in self._kinds:
            self._kinds[site.node] = self._call_kind(site.node, site.scope)
        return self._kinds[site.node]

    def _call_kind(self, call: cst.Call, scope: Scope) -> tuple[CallKind, str]:
        facts = self._facts
        func = call.func
        if type(facts.names.definition(func, scope)) in (cst.FunctionDef, cst.ClassDef):
            return "local", ""
        qualname = facts.names.qualname(func, scope)
        if qualname is not None:
            if qualname in CLIENT_FACTORIES:
                return "bookkeeping", qualname
            return self._by_name(qualname)
        if type(func) is cst.Name:
            if facts.names.lookup(func.value, scope) is None:  # a builtin
                if func.value in WAITING_BUILTINS:
                    return "local-io", func.value
                if func.value not in UNKNOWN_BUILTINS:
                    return "bookkeeping", func.value
            return "unknown", func.value
        if type(func) is cst.Attribute:
            return self._method_kind(call, func, scope)
        return "unknown", facts.code(func)

    def _method_kind(self, call: cst.Call, func: cst.Attribute, scope: Scope) -> tuple[CallKind, str]:
        method = func.attr.value
        made_by = self._maker(func.value, scope)
        kind: CallKind = "unknown"
        if made_by is not None:
            kind, detail = self._by_name(made_by)
            if kind == "blocking":
                if method in WAITLESS_METHODS:
                    return "bookkeeping", method
                return kind, detail
            if kind in ("releases-gil", "compute"):
                return kind, detail
        if method in WAITING_WITHOUT_ARGUMENTS:
            positional = [a for a in call.args if a.keyword is None]
            return ("bookkeeping" if positional else "local-io"), method
        if method in BOOKKEEPING_METHODS:
            return "bookkeeping", method
        if method in WAITING_METHODS:
            return "local-io", method
        if type(func.value) is cst.Call and self._facts.code(func.value.func) == "super":
            return "bookkeeping", "super"
        if made_by is not None and kind in ("bookkeeping", "local-io"):
            return kind, made_by
        return "unknown", self._facts.code(func)

    def _by_name(self, qualname: str) -> tuple[CallKind, str]:
        return _kind_by_name(qualname, self._extra_blocking)

    def _maker(self, expr: cst.BaseExpression, scope: Scope, depth: int = 0) -> str | None:
        """The qualified name of the library callable whose result `expr` is (a client, an
        array): `requests.Session` for `session` after `session = requests.Session()`, also
        through `self.session`, `with ... as`, a client's factory methods
        (`session.resource("s3")`) and functions of this module that return one. Data taken
        from such a result (`response.text`, the result of its other methods) is not followed:
        it is plain data."""
        facts = self._facts
        if depth > 8:
            return None
        if type(expr) is cst.Call:
            return self._made_by_call(expr, scope, depth)
        values: list[tuple[cst.BaseExpression, Scope]] = []
        if type(expr) is cst.Name:
            found = facts.names.lookup(expr.value, scope)
            if found is None:
                return None
            where, bindings = found
            for binding in bindings:
                if binding.value is None:
                    return None
                values.append((binding.value, where))
        elif type(expr) is cst.Attribute:
            owner = facts.names.class_of(expr.value, scope)
            if owner is None:
                if expr.attr.value in CLIENT_ATTRIBUTES:  # `bucket.objects`: the same library
                    client = self._maker(expr.value, scope, depth + 1)
                    if client is not None and self._by_name(client)[0] == "blocking":
                        return client
                return None
            values = list(facts.classes[owner].attributes.get(expr.attr.value, ()))
        # `_client = None` at import, set by an initializer: the client is what matters
        values = [(v, s) for v, s in values if not (type(v) is cst.Name and v.value == "None")]
        makers = {self._maker(value, where, depth + 1) for value, where in values}
        return makers.pop() if len(makers) == 1 else None

    def _made_by_call(self, call: cst.Call, scope: Scope, depth: int) -> str | None:
        facts = self._facts
        qualname = facts.names.qualname(call.func, scope)
        if qualname is not None:
            return qualname
        definition = facts.names.definition(call.func, scope)
        if type(definition) is cst.FunctionDef:
            return self._returned_maker(definition, depth)
        func = call.func
        if type(func) is cst.Attribute:
            method = func.attr.value
            if method in CLIENT_FACTORY_METHODS or method[:1].isupper():
                owner = self._maker(func.value, scope, depth + 1)
                if owner is not None and self._by_name(owner)[0] == "blocking":
                    return owner  # `session.resource("s3")`, `s3.Bucket(name)`: the same library
        return None

    def _returned_maker(self, definition: cst.FunctionDef, depth: int) -> str | None:
        """What a helper of this module returns, when every `return` agrees: `get_client()`."""
        if definition in self._returned:
            return self._returned[definition]
        self._returned[definition] = None  # recursion
        function = self._facts.functions.get(definition)
        maker = None
        if function is not None:
            makers = {
                self._maker(node.value, function.scope, depth + 1) if node.value is not None else None
                for node in function.returns
            }
            maker = makers.pop() if len(makers) == 1 else None
        self._returned[definition] = maker
        return maker

    # --- one function --------------------------------------------------------------------------

    def own_work(self, function: FunctionInfo) -> Work:
        """What `function`'s own body does (calls into this module are judged separately)."""
        if function.node not in self._own:
            work = Work()
            for site in function.calls:
                self._add_call(work, site, function)
            if work.compute is None:
                work.compute = self._computing_loop(function)
            self._own[function.node] = work
        return self._own[function.node]

    def _add_call(self, work: Work, site: CallSite, function: FunctionInfo | None) -> None:
        kind, detail = self.call_kind(site)
        if kind == "unknown":
            remote = self._facts.project_work(site)
            if remote is not None:
                add_remote(work, remote, site, function)
                return
        if kind == "blocking":
            work.blocking.append(Blocking(site, function, detail))
        elif kind == "compute" and work.compute is None:
            work.compute = Computation(f"`{detail}`", site.node, function)
        elif kind == "releases-gil" and work.releases_gil is None:
            work.releases_gil = detail
        elif kind == "local-io" and work.local_io is None:
            work.local_io = detail
        elif kind == "unknown" and work.unknown is None:
            work.unknown = detail
        elif kind == "process-only" and work.process_only is None:
            work.process_only = f"`{detail}`"

    def handed_work(self, site: CallSite, target: cst.BaseExpression) -> Work | None:
        """The work of a function of another project module handed over at `site`."""
        name = self._facts.project_name(target, site.scope)
        remote = self._facts.project.work.get(name) if name is not None and self._facts.project else None
        if remote is None:
            return None
        work = Work()
        add_remote(work, remote, site, None)
        return work

    def reaches_blocking(self, function: FunctionInfo) -> bool:
        if function.node not in self._reaches_blocking:
            self._reaches_blocking[function.node] = False  # cycles
            self._reaches_blocking[function.node] = any(
                self.own_work(f).blocking for f in self._facts.callgraph.reached_from(function)
            )
        return self._reaches_blocking[function.node]

    def _computing_loop(self, function: FunctionInfo) -> Computation | None:
        loop = computing_loop(self, function)
        if loop is None:
            return None
        kind = "loop" if type(loop) in (cst.For, cst.While) else "comprehension"
        return Computation(f"a {kind} doing arithmetic", loop, function)

    # --- a worker --------------------------------------------------------------------------------

    def work_of(self, entries: list[FunctionInfo], lambda_scope: Scope | None = None) -> Work:
        """The work of functions run in a child or thread with everything they call in this
        module, and of the calls a lambda handed over makes itself."""
        total = Work()
        if lambda_scope is not None:
            for site in self._facts.calls:
                if site.scope is lambda_scope:
                    self._add_call(total, site, None)
        graph = self._facts.callgraph
        seen: set[cst.FunctionDef] = set()
        reached: list[FunctionInfo] = []
        for entry in entries:
            for function in graph.reached_from(entry):
                if function.node not in seen:
                    seen.add(function.node)
                    reached.append(function)
        for function in reached:
            own = self.own_work(function)
            total.blocking.extend(own.blocking)
            total.compute = total.compute or own.compute
            total.releases_gil = total.releases_gil or own.releases_gil
            total.local_io = total.local_io or own.local_io
            total.unknown = total.unknown or own.unknown
            total.process_only = total.process_only or own.process_only
        if total.compute is None:
            for function in reached:
                if self._recursive(function):
                    total.compute = Computation(f"recursion in `{function.name}`", function.node, function)
                    break
        return total

    def _recursive(self, function: FunctionInfo) -> bool:
        graph = self._facts.callgraph
        for site in function.calls:
            callee = graph.callee(site)
            if callee is not None and any(f.node is function.node for f in graph.reached_from(callee)):
                return True
        return False


def add_remote(work: Work, remote: RemoteWork, site: CallSite, function: FunctionInfo | None) -> None:
    """Adds the work of a function of another module, called (or handed over) at `site`."""
    for _text, waits_for, chain in remote.blocking:
        work.blocking.append(Blocking(site, function, waits_for, chain))
    if remote.compute is not None and work.compute is None:
        work.compute = Computation(remote.compute, site.node, function)
    work.releases_gil = work.releases_gil or remote.releases_gil
    work.local_io = work.local_io or remote.local_io
    work.unknown = work.unknown or remote.unknown
    work.process_only = work.process_only or remote.process_only

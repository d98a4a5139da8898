"""Facts about one module, computed once and shared by every rule.

Rules ask here what a name means, which object an expression is, which code runs at import time,
and what a function reaches; they do not walk the tree to rediscover it. Facts that only some rules
need are computed on first use.
"""

from __future__ import annotations

import ast
from functools import cached_property
from typing import Callable, Iterator

import libcst as cst
from libcst.metadata import CodeRange

from mplint import apis
from mplint.facts.arguments import Arguments
from mplint.facts.callbacks import Unobserved, unobserved_callbacks
from mplint.facts.callgraph import CallChain, CallGraph
from mplint.facts.conditions import Condition, Conditions
from mplint.facts.carried import Carried, CarriedValues
from mplint.facts.contexts import Context, Contexts
from mplint.facts.daemonic import Daemonic, DaemonicRun
from mplint.facts.fanout import Fanout, Fanouts
from mplint.facts.forking import Fork, Forking, ForkWithThreads
from mplint.facts.handed import Handed
from mplint.facts import callbacks, libraries, lifecycles, results
from mplint.facts.flow import Flow
from mplint.facts.lifecycles import Lifecycles
from mplint.facts.locks import Locks
from mplint.facts.loops import Loops
from mplint.facts.main_only import main_only_definitions
from mplint.facts.names import Names
from mplint.facts.order import Order, Step
from mplint.facts.payload import Payloads
from mplint.facts.lines import Lines
from mplint.facts.positions import Positions
from mplint.facts.proxies import HeldChange, Proxies, Proxy
from mplint.facts.queues import PipeSender, Producer, Producers
from mplint.facts.reach import Reach
from mplint.facts.received import Received
from mplint.facts.resources import ProcessResources, Resource, Resources
from mplint.facts.resolve import owner_of
from mplint.facts.results import PoolResults
from mplint.facts.scopes import (
    Binding,
    CallSite,
    ClassInfo,
    FunctionInfo,
    Scope,
    collect,
)
from mplint.facts.shared_memory import SharedMemorySegments
from mplint.facts.shared_values import SharedValue, SharedValues
from mplint.facts.records import UNASKED
from mplint.facts.syntax import blocks_of
from mplint.facts.state import Mutation, Plain, SelfChange, State
from mplint.facts.statements import Statements
from mplint.facts.unpicklable import Sent, Unpicklables
from mplint.facts.values import Instance, Values
from mplint.facts.visibility import Visibility
from mplint.facts.workers import Dispatch, Workers
from mplint.project.told import NO_PROJECT_FACTS, Chain, ProjectFacts, RemoteWork

__all__ = [
    "Arguments",
    "Binding",
    "Dispatch",
    "CallChain",
    "Chain",
    "Carried",
    "CarriedValues",
    "CallSite",
    "ClassInfo",
    "Condition",
    "Conditions",
    "Context",
    "Contexts",
    "Daemonic",
    "DaemonicRun",
    "Fork",
    "ForkWithThreads",
    "Forking",
    "Fanout",
    "Fanouts",
    "FunctionInfo",
    "Instance",
    "Lifecycles",
    "Locks",
    "Loops",
    "ModuleFacts",
    "Mutation",
    "Plain",
    "SelfChange",
    "Sent",
    "Unpicklables",
    "ProjectFacts",
    "PipeSender",
    "Producer",
    "Producers",
    "PoolResults",
    "HeldChange",
    "Proxies",
    "Proxy",
    "ProcessResources",
    "Resource",
    "Resources",
    "Received",
    "Order",
    "Scope",
    "SharedMemorySegments",
    "Step",
    "SharedValue",
    "SharedValues",
    "State",
    "Statements",
    "Visibility",
    "Workers",
]


class ModuleFacts:
    def __init__(
        self,
        module: cst.Module,
        path: str = "<stdin>",
        source: str | None = None,
        project: ProjectFacts = NO_PROJECT_FACTS,
        python_tree: ast.Module | None = None,
    ) -> None:
        self.module = module
        #: the text `module` was parsed from, so positions are those of Python's tokens in it
        self.source = source
        #: Python's tree of `source` where the engine made it (else `lines.py` makes it if asked)
        self._python_tree = python_tree
        self.path = path
        #: what the other modules of the project do, for the calls this module makes into them
        self.project = project
        collected = collect(module)
        self.module_scope = collected.module_scope
        self.scopes = collected.scopes
        #: every call of the module, in source order
        self.calls = collected.calls
        self.functions = collected.functions
        self.classes = collected.classes
        #: names read, by name: [(Name, the scope it is read in)] in source order
        self.loads = collected.loads
        #: attributes read, by attribute name: [(Attribute, the scope it is read in)]
        self.attribute_loads = collected.attribute_loads
        self._parents = collected.parents
        #: every node the walk reaches -> the node it was reached from (None for the module; a
        #: def's decorators, defaults and annotations hang from the def)
        self.up = collected.up
        #: every `with` statement: its scope, and where its body is in the calls and the stores
        self.withs = collected.withs
        self._collected = collected
        self.names = Names(collected)
        self.values = Values(collected, self.names)
        self.callgraph = CallGraph(collected, self.names)

    @cached_property
    def site_of(self) -> dict[cst.Call, CallSite]:
        """Each call of the module -> its call site (one map for the facts that ask it)."""
        return {site.node: site for site in self.calls}

    @cached_property
    def names_in_order(self) -> list[cst.Name]:
        """Every Name the walk reached, in source order (`FunctionInfo.names_from`, `Span`)."""
        return list(self._collected.name_scopes)

    def names_in(self, expr: cst.CSTNode) -> list[cst.Name]:
        """The Names of a call, of the test of an `if`, `while` or conditional expression, or of
        the left operand of `and`/`or`, in source order (attributes' and keywords' included)."""
        span = self._collected.spans[expr]
        return self.names_in_order[span.names_from : span.names_to]

    def calls_in(self, expr: cst.CSTNode) -> list[CallSite]:
        """The calls of such an expression, in source order (a call first itself)."""
        span = self._collected.spans[expr]
        return self.calls[span.calls_from : span.calls_to]

    @cached_property
    def summary_keys(self) -> dict[FunctionInfo, str]:
        """How the module's functions are named in its project summary: `run` for a module-level
        function, `Job.run` for a method of a module-level class, `<line>name` for nested ones
        (which other modules cannot name, but which calls pass through)."""
        keys: dict[FunctionInfo, str] = {}
        module_scope = self.module_scope
        for info in self.functions.values():
            outer = info.scope.parent
            if info.cls is None and outer is module_scope:
                keys[info] = info.name
            elif info.cls is not None:
                cls = self.classes[info.cls]
                if cls.outer is module_scope and outer is cls.scope:
                    keys[info] = f"{cls.name}.{info.name}"
            if info not in keys:
                keys[info] = f"<{self.def_line(info)}>{info.name}"
        return keys

    @cached_property
    def project_children(self) -> dict[cst.FunctionDef, Chain]:
        """The module's functions that run in a child because another module of the project
        hands them (or a function that calls them) to one: the chain from the hand-over."""
        if not self.project or not self.project.in_child:
            return {}
        told = self.project.in_child
        return {info.node: told[key] for info, key in self.summary_keys.items() if key in told}

    @cached_property
    def unobserved_callbacks(self) -> list[Unobserved]:
        """Pool tasks with a `callback=`, no `error_callback=`, and a result nobody reads."""
        return unobserved_callbacks(self)

    @cached_property
    def workers(self) -> Workers:
        """Where callables are handed to child processes, and which functions run in a child."""
        return Workers(self)

    @cached_property
    def contexts(self) -> Contexts:
        """Under which start method, and with which pickler, processes, pools and executors run."""
        return Contexts(self)

    @cached_property
    def arguments(self) -> Arguments:
        """What each parameter of a function of the module receives from its callers."""
        return Arguments(self)

    def enclosing(self, statement: cst.CSTNode) -> list[tuple[cst.CSTNode, cst.CSTNode | None]]:
        """The compound statements around `statement` in its own scope (a def or class ends the
        climb), outermost first, each with its block that holds `statement`: the body, an
        `except` handler, the `finally`, the `else` or an `elif` (`syntax.blocks_of`). A compound
        `statement` comes last with the block None (`if test: call()` is the statement of its call).
        """
        chain = [(statement, None)] if isinstance(statement, cst.BaseCompoundStatement) else []
        child, parent = statement, self._parents.get(statement)
        while parent is not None and type(parent) not in (cst.FunctionDef, cst.ClassDef):
            chain.append((parent, next((b for b, inner in blocks_of(parent) if any(s is child for s in inner)), None)))
            child, parent = parent, self._parents.get(parent)
        chain.reverse()
        return chain

    def inside(self, node: cst.CSTNode, ancestor: cst.CSTNode) -> bool:
        """`node` is part of `ancestor` (or is it), by the parents the walk recorded."""
        up = self.up
        current: cst.CSTNode | None = node
        while current is not None:
            if current is ancestor:
                return True
            current = up.get(current)
        return False

    @cached_property
    def payloads(self) -> Payloads:
        """Whether a value sent through a queue or a pipe is known to be small."""
        return Payloads(self)

    @cached_property
    def producers(self) -> Producers:
        """Which queues a process's code puts on, and where each function reads a queue."""
        return Producers(self)

    @cached_property
    def _creations(self) -> list[tuple[CallSite, Instance, Scope]]:
        """The processes, pools, executors and managers whose lifecycle is followed."""
        return list(lifecycles.creations(self.calls, self.values))

    @cached_property
    def flow(self) -> Flow:
        """What happens to each local name of the functions that make a process, pool,
        executor, manager, pending pool result or result with an unguarded callback, in source
        order (one walk for them all)."""
        creations = {site.node: owner for site, _, owner in self._creations}
        for site in (*results.pending_sites(self), *callbacks.kept_results(self)):
            creations[site.node] = owner_of(site.scope)  # type: ignore[assignment]
        return Flow.of(self.module, self.scopes.values(), self.names, creations, Handed(self))

    @cached_property
    def lifecycles(self) -> Lifecycles:
        """What happens to each process, pool, executor and manager the module creates."""
        return Lifecycles(
            self._creations, lambda: self.flow, self.classes, self.names, self.values, self._collected.stores
        )

    @cached_property
    def state(self) -> State:
        """Plain mutable values, and the mutations functions make."""
        return State(self)

    @cached_property
    def reach(self) -> Reach:
        """Who runs a function where the call graph does not say: handed over only, a process's
        own setup, what the parent's own code reaches."""
        return Reach(self)

    @cached_property
    def visibility(self) -> Visibility:
        """What the parent can see of the state child code changes, and when it binds its globals."""
        return Visibility(self)

    @cached_property
    def pool_results(self) -> PoolResults:
        """The pending results of pools (`apply_async`, `imap`, ...) and what each body does with them."""
        return PoolResults(self)

    @cached_property
    def locks(self) -> Locks:
        """Where each function holds a lock, and its read-modify-write updates."""
        return Locks(self)

    @cached_property
    def shared_values(self) -> SharedValues:
        """Which shared `Value`/`Array` worker code updates, how it got there, and who races on it."""
        return SharedValues(self)

    @cached_property
    def conditions(self) -> Conditions:
        """The `if` tests, `try` handlers and `with` blocks around each call in its function."""
        return Conditions(self, self.up)

    @cached_property
    def daemonic(self) -> Daemonic:
        """Which functions run in a daemonic child (a pool worker, a `daemon=True` process)."""
        return Daemonic(self)

    @cached_property
    def order(self) -> Order:
        """What runs before what: each function's calls in the order they run, callees followed."""
        return Order(self)

    @cached_property
    def forking(self) -> Forking:
        """Where the program forks by choice, and which forks happen while its own threads run."""
        return Forking(self)

    @cached_property
    def main_only(self) -> frozenset[cst.FunctionDef | cst.ClassDef]:
        """The defs and classes made under `if __name__ == "__main__":`, missing in a spawned child."""
        return main_only_definitions(self.module)

    @cached_property
    def received(self) -> Received:
        """What object an expression is, following parameters to what every caller passes."""
        return Received(self)

    @cached_property
    def carried(self) -> CarriedValues:
        """What a value carries when it is pickled, and what a pool or executor task pickles."""
        return CarriedValues(self)

    @cached_property
    def unpicklables(self) -> Unpicklables:
        """The objects no pickle can send (thread locks, open files, generators) in what a
        dispatch would pickle: its arguments, a bound-method callable's object."""
        return Unpicklables(self)

    @cached_property
    def proxies(self) -> Proxies:
        """Manager proxies, and the in-place changes code makes to the copies they hand out."""
        return Proxies(self)

    @cached_property
    def resources(self) -> Resources:
        """Queues, pipe ends and locks: which one an expression is, its method calls, its escapes."""
        return Resources(self)

    @cached_property
    def statements(self) -> Statements:
        """Assignments, `finally:` blocks, returned values and `with` items, with their scopes."""
        return Statements(self._collected)

    @cached_property
    def shared_memory(self) -> SharedMemorySegments:
        """The shared memory segments the module creates, who owns them, and whether they are unlinked."""
        return SharedMemorySegments(self)

    @cached_property
    def process_resources(self) -> ProcessResources:
        """The queues, pipe ends and locks each process is given, and where the module uses them."""
        return ProcessResources(self)

    @cached_property
    def fanouts(self) -> Fanouts:
        """Processes created and started one per item of a collection the code does not bound."""
        return Fanouts(self)

    @cached_property
    def loops(self) -> Loops:
        """Which calls run again on every round of a loop, and which loops may stop early."""
        collected = self._collected
        return Loops(self.up, collected.returns_and_yields, collected.breaks, collected.whiles)

    def release(self) -> None:
        """The check is over: the facts let go of each other and of the tree. They refer to one
        another (each fact holds the module's facts; a name's holder and its lifecycles hold each
        other), and a tree held from a reference cycle is freed only by a pass of the collector
        over it, which costs about a tenth of the parse that made it (the six sdists: 1.5 s of
        collections in a 16 s run); with the cycles cut, the tree goes when the check returns."""
        facts = self.__dict__
        if "lifecycles" in facts:
            self.lifecycles.release()
        facts.clear()

    # --- positions and text, computed only for files that have findings -------------------------

    @cached_property
    def _positions(self) -> Positions:
        return Positions(self.module, self.source)

    def position(self, node: cst.CSTNode) -> CodeRange:
        """Where `node` is, from the code of the statement that holds it where that is the text
        there (`lines.py`), else from the whole module's (`positions.py`): the same range."""
        found = self._lines.range(node)
        return found if found is not None else self._positions[node]

    def top_level_code(self, node: cst.CSTNode) -> str | None:
        """The code of one of the module's own top-level nodes, from the positions' generation
        of it (a fix's code is made of them, `fixes.rewrite.locate`); None for any other node."""
        return self._positions.top_level_code(node)

    @cached_property
    def _lines(self) -> Lines:
        tree, self._python_tree = self._python_tree, None  # read once: not kept with the facts
        return Lines(self.module, self.source, list(self.functions), self.up, self._position_line, tree)

    def _position_line(self, node: cst.CSTNode) -> int:
        return self._positions[node].start.line

    def line_of(self, node: cst.CSTNode) -> int:
        """The line `node` starts on (the same as `position`'s, for less: `lines.py`)."""
        return self._lines.of(node)

    def def_line(self, info: FunctionInfo) -> int:
        """The line of a function's name."""
        return self._lines.of_def(info.node)

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    def call_text(self, call: cst.Call) -> str:
        """A call as a message shows it: `mp.Pool(...)`, `p.start()`."""
        return f"{self.code(call.func)}({'...' if call.args else ''})"

    # --- what calls do -------------------------------------------------------------------------

    def api_of_call(self, site: CallSite) -> apis.Api | None:
        api = site.api
        if api is UNASKED:  # asked of every call by several facts: answered once per call
            api = site.api = self.names.api(site.node.func, site.scope)
        return api  # type: ignore[return-value]

    def started_kind(self, site: CallSite) -> apis.Kind | None:
        """What the call starts, if it starts child processes: a pool, an executor, a manager, a process."""
        api = self.api_of_call(site)
        if api is not None:
            return api.kind if api.kind in apis.STARTS_PROCESSES else None
        func = site.node.func
        if type(func) is cst.Attribute and func.attr.value == "start":
            instance = self.values.instance_of(func.value, site.scope)
            if instance is not None and instance.kind in (apis.Kind.PROCESS, apis.Kind.MANAGER_CLASS):
                return instance.kind
        return None

    def starts_unguarded(self, site: CallSite) -> apis.Kind | None:
        """What the call starts whose children re-import `__main__` on spawn platforms: what
        `started_kind` says, but for the libraries that start workers without running the main
        module (loky, joblib's default backend), and with joblib's `Parallel(...)(tasks)` under a
        backend that needs the main guard and calls of pebble's `@concurrent.process` functions."""
        kind = self.started_kind(site)
        if kind is not None:
            api = self.api_of_call(site)
            return kind if api is None or (api.needs_main_guard and api.starts_at_creation) else None
        parallel = libraries.parallel_run(site.node, site.scope, self.values)
        if parallel is not None:
            return apis.Kind.PARALLEL if libraries.backend_needs_guard(parallel) else None
        callee = self.callgraph.callee(site)
        if callee is not None and callee.scope.parent is not None:
            if libraries.process_decorated(callee, callee.scope.parent, self.names):
                return apis.Kind.PROCESS_DECORATOR
        return None

    def starts_unguarded_processes(self, site: CallSite) -> bool:
        return self.starts_unguarded(site) is not None

    def starts_processes(self, site: CallSite) -> bool:
        return self.started_kind(site) is not None

    def project_call(self, site: CallSite) -> str | None:
        """The qualified name by which a call may run a function of another module of the
        project (None without a project, or for a call of this module's own functions)."""
        if not self.project or self.callgraph.callee(site) is not None:
            return None
        return self.project_name(site.node.func, site.scope)

    def project_start(self, site: CallSite) -> Chain | None:
        """The chain by which a call into another module of the project starts processes:
        `main()` (app/cli.py:12) -> `run_all()` (app/jobs.py:40) -> `Pool()` (app/jobs.py:41)."""
        name = self.project_call(site)
        return self.project.starts.get(name) if name is not None else None

    def project_threads(self, site: CallSite) -> Chain | None:
        """The chain by which a call into another module leaves a thread running."""
        name = self.project_call(site)
        return self.project.threads.get(name) if name is not None else None

    def project_thread_arg(self, site: CallSite) -> tuple[int, str, Chain] | None:
        """For a call into another module that starts the thread it is handed and returns with it
        running: the parameter's position and name, and the chain to the start."""
        name = self.project_call(site)
        return self.project.thread_args.get(name) if name is not None else None

    def project_thread_maker(self, site: CallSite) -> tuple[bool, Chain] | None:
        """For a call into another module that makes the thread it returns: whether it is
        running already, and the chain to its start (else to its creation)."""
        name = self.project_call(site)
        return self.project.thread_makers.get(name) if name is not None else None

    def project_setter(self, site: CallSite) -> Chain | None:
        """The chain by which a call into another module calls `set_start_method(...)` (without
        `force=True`, where nothing there copes with a method set before)."""
        name = self.project_call(site)
        return self.project.sets_method.get(name) if name is not None else None

    def project_work(self, site: CallSite) -> RemoteWork | None:
        """The work of the function of another module a call runs, with all it reaches."""
        name = self.project_call(site)
        return self.project.work.get(name) if name is not None else None

    def project_changes(self, site: CallSite) -> tuple[tuple[Chain, str], ...]:
        """The module state that the function of another module a call runs changes: for each
        state, the chain to the change and the absolute name of what it changes
        (`app.shared.status`), the nearest change first."""
        name = self.project_call(site)
        return self.project.changes.get(name, ()) if name is not None else ()

    def project_name(self, expr: cst.BaseExpression, scope: Scope) -> str | None:
        """The qualified name by which another module of the project may define what `expr`
        is: `app.net.fetch` for `net.fetch`, and for a method of an object made from an imported
        class (`job = Job(); job.run`) the method's name in that class: `app.jobs.Job.run`."""
        qualname = self.names.qualname(expr, scope)
        if qualname is not None or type(expr) is not cst.Attribute or type(expr.value) is not cst.Name:
            return qualname
        found = self.names.lookup(expr.value.value, scope)
        if found is None or len(found[1]) != 1:
            return None
        value = found[1][0].value
        if type(value) is cst.Call:
            cls = self.names.qualname(value.func, found[0])
            if cls is not None and apis.lookup(cls) is None:
                return f"{cls}.{expr.attr.value}"
        return None

    def starts_processes_here_or_in_project(self, site: CallSite) -> bool:
        return self.starts_processes(site) or self.project_start(site) is not None

    def import_time_calls_reaching(
        self, predicate: Callable[[CallSite], bool]
    ) -> Iterator[tuple[CallSite, CallChain]]:
        """Calls made at import time to functions of this module (`main()`, `sys.exit(main())`)
        that reach, directly or through other functions, a call satisfying `predicate`; with the
        chain of calls that gets there."""
        for site in self.calls:
            if site.import_time:
                callee = self.callgraph.callee(site)
                chain = self.callgraph.reaches(callee, predicate) if callee is not None else None
                if chain:
                    yield site, chain

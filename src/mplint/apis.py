"""The multiprocessing APIs that mplint knows, by qualified name: the one table every rule reads.

A qualified name is where a name comes from once imports are undone: `mp.Pool` after
`import multiprocessing as mp` is `multiprocessing.Pool`. The object returned by `get_context(...)`
has the same attributes as the module it came from, so the name resolver treats
`ctx = multiprocessing.get_context("spawn")` as another name for `multiprocessing` and `ctx.Pool`
as `multiprocessing.Pool`.

The prefilter (`prefilter.py`: files that mention none of `MARKERS`, or import from none of
`IMPORT_ROOTS`, are never parsed) is derived from this table, so a new entry cannot be missed by it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import NamedTuple


class Kind(enum.Enum):
    """What calling (or instantiating) the API does."""

    PROCESS = "process"  # a process class: an unstarted process; .start() starts it
    POOL = "pool"  # starts its worker processes when created
    PROCESS_EXECUTOR = "process-executor"  # starts worker processes on first submit; needs shutdown
    MANAGER = "manager"  # Manager(): a manager whose server process is already running
    MANAGER_CLASS = "manager-class"  # SyncManager()/BaseManager(): a server process after .start()
    SPAWN = "spawn"  # torch.multiprocessing.spawn and friends: start (and by default join) processes
    CONTEXT = "context"  # get_context(): an object with the same API as its module
    SET_START_METHOD = "set-start-method"
    THREAD_POOL = "thread-pool"  # looks like a process pool, runs threads: never a process API
    THREAD_EXECUTOR = "thread-executor"
    THREAD_PROCESS = "thread-process"  # multiprocessing.dummy.Process is a Thread
    THREAD = "thread"  # threading.Thread / Timer: a thread of the program's own after .start()
    FORK = "fork"  # os.fork() / os.forkpty(): a child that is a copy of this process
    SHARED_VALUE = "shared-value"  # Value / Array / RawValue / RawArray: shared ctypes memory
    SHARED_MEMORY = "shared-memory"  # shared_memory.SharedMemory / ShareableList
    QUEUE = "queue"  # Queue / SimpleQueue / JoinableQueue
    PIPE = "pipe"
    LOCK = "lock"  # Lock / RLock / Semaphore / BoundedSemaphore / Condition / Barrier
    EVENT = "event"
    PARALLEL = "parallel"  # joblib.Parallel: calling it runs the tasks, in processes for process backends
    PROCESS_DECORATOR = "process-decorator"  # pebble's @concurrent.process: each call runs in a new process


#: Kinds whose objects are made to be shared with a child; mutating them in a worker is the point.
SHARED_KINDS = frozenset(
    {Kind.SHARED_VALUE, Kind.SHARED_MEMORY, Kind.QUEUE, Kind.PIPE, Kind.LOCK, Kind.EVENT,
     Kind.MANAGER}
)

#: Kinds that run threads, never processes: they alone cannot make a file worth checking.
THREAD_KINDS = frozenset({Kind.THREAD_POOL, Kind.THREAD_EXECUTOR, Kind.THREAD_PROCESS, Kind.THREAD})

#: Kinds whose creation or use starts child processes right away.
STARTS_PROCESSES = frozenset({Kind.POOL, Kind.PROCESS_EXECUTOR, Kind.MANAGER, Kind.SPAWN})


# --- what the methods of each kind do --------------------------------------------------------


class Passes(enum.Enum):
    """How a method that hands a callable to the workers gives the callable its arguments."""

    EACH = "each"  # one call per element of an iterable: `pool.map(f, items)`
    EACH_TUPLE = "each-tuple"  # each element is the argument tuple of one call: `pool.starmap`
    TUPLE = "tuple"  # one call, with an argument tuple and a keyword dict: `pool.apply(f, args, kwds)`
    INLINE = "inline"  # one call, with the arguments written after it: `executor.submit(f, *args)`


@dataclass(frozen=True)
class Methods:
    """What the methods of one kind of object do, by name: the vocabulary every fact reads.

    Teaching mplint another library's pool is one `Methods` row in `VOCABULARY` (and its
    constructor in the table above)."""

    #: methods that hand a callable to the workers, and how they pass its arguments
    submit: dict[str, Passes] = field(default_factory=dict)
    #: submit methods that return before the work is done: an AsyncResult, a Future, a lazy iterator
    pending: frozenset[str] = frozenset()
    #: pending methods whose result is a lazy iterator
    lazy: frozenset[str] = frozenset()
    #: submit methods that wait for the one task they submit
    blocking: frozenset[str] = frozenset()
    #: (the method that submits one task, the method of its result that waits for it)
    submit_and_wait: tuple[str, str] | None = None
    #: methods that stop the object taking work, wait for its processes, stop them now, or all three
    close: frozenset[str] = frozenset()
    join: frozenset[str] = frozenset()
    terminate: frozenset[str] = frozenset()
    shutdown: frozenset[str] = frozenset()
    #: methods that forget a cached object, so that the next construction makes a new one
    #: (pathos keeps its pools as singletons: `pool.clear()` after `close()` and `join()`)
    clear: frozenset[str] = frozenset()
    #: the sets of calls that together end the object (any one set does), besides a `with` block
    ends: tuple[frozenset[str], ...] = ()
    library_ends: frozenset[str] = frozenset()  #: library functions ending every pool it caches
    #: leaving a `with` block on the object ends it (pathos' pools do nothing on exit)
    exit_ends: bool = True
    #: leaving a `with` block on the object calls `terminate()`: unfinished tasks are dropped
    exit_terminates: bool = False
    #: submit methods that take `callback=` and `error_callback=` (the 4th and 5th parameters)
    callbacks: frozenset[str] = frozenset()
    #: the parameter names of a submit method: the callable, the argument tuple and the keyword
    #: dict of `Passes.TUPLE` methods (`apply(func, args, kwds)`)
    parameters: tuple[str, str, str] = ("func", "args", "kwds")
    #: methods that put an item on it and take one off (queues)
    put: frozenset[str] = frozenset()
    get: frozenset[str] = frozenset()
    #: for managers: the methods that make no proxy (every other method makes a shared object whose
    #: proxy keeps the manager alive)
    no_proxy: frozenset[str] = frozenset()

    @property
    def maps(self) -> frozenset[str]:
        """Submit methods that call the callable once per element of an iterable."""
        return frozenset(m for m, how in self.submit.items() if how in (Passes.EACH, Passes.EACH_TUPLE))

    @property
    def starmaps(self) -> frozenset[str]:
        return frozenset(m for m, how in self.submit.items() if how is Passes.EACH_TUPLE)

    @property
    def ending(self) -> frozenset[str]:
        """Every method that ends (part of) the object's life."""
        return self.close | self.join | self.terminate | self.shutdown


_POOL = Methods(
    submit={
        "map": Passes.EACH, "imap": Passes.EACH, "imap_unordered": Passes.EACH, "map_async": Passes.EACH,
        "starmap": Passes.EACH_TUPLE, "starmap_async": Passes.EACH_TUPLE,
        "apply": Passes.TUPLE, "apply_async": Passes.TUPLE,
    },
    pending=frozenset({"apply_async", "map_async", "starmap_async", "imap", "imap_unordered"}),
    lazy=frozenset({"imap", "imap_unordered"}),
    blocking=frozenset({"apply"}),
    submit_and_wait=("apply_async", "get"),
    close=frozenset({"close"}),
    join=frozenset({"join"}),
    terminate=frozenset({"terminate"}),
    ends=(frozenset({"terminate"}), frozenset({"close", "join"})),
    exit_terminates=True,
    callbacks=frozenset({"apply_async", "map_async", "starmap_async"}),
)
_EXECUTOR = Methods(
    submit={"submit": Passes.INLINE, "map": Passes.EACH},
    submit_and_wait=("submit", "result"),
    shutdown=frozenset({"shutdown"}),
    ends=(frozenset({"shutdown"}),),
    parameters=("fn", "", ""),
)
_MANAGER = Methods(
    shutdown=frozenset({"shutdown"}),
    ends=(frozenset({"shutdown"}),),
    no_proxy=frozenset({"shutdown", "start", "connect", "get_server", "register", "read"}),
)

#: kind -> what its methods do (kinds without a row have no method mplint reasons about)
VOCABULARY: dict[Kind, Methods] = {
    Kind.PROCESS: Methods(
        join=frozenset({"join"}), terminate=frozenset({"terminate", "kill"}), close=frozenset({"close"})
    ),
    Kind.POOL: _POOL,
    Kind.THREAD_POOL: _POOL,  # the same API, run by threads
    Kind.PROCESS_EXECUTOR: _EXECUTOR,
    Kind.THREAD_EXECUTOR: _EXECUTOR,
    Kind.MANAGER: _MANAGER,
    Kind.MANAGER_CLASS: _MANAGER,
    Kind.QUEUE: Methods(put=frozenset({"put", "put_nowait"}), get=frozenset({"get", "get_nowait"})),
    Kind.PIPE: Methods(put=frozenset({"send", "send_bytes"}), get=frozenset({"recv", "recv_bytes", "recv_bytes_into"})),
}

_NO_METHODS = Methods()


def methods(kind: Kind) -> Methods:
    """What the methods of objects of `kind` do."""
    return VOCABULARY.get(kind, _NO_METHODS)


def vocabulary(api: Api) -> Methods:
    """What the methods of the objects `api` makes do: the library's own row, else its kind's."""
    return api.methods if api.methods is not None else methods(api.kind)


# --- the third-party pool libraries' own vocabularies --------------------------------------

#: pathos' pools (`ProcessPool`, `ParallelPool`, `ThreadPool`): `map(f, *iterables)` like the
#: builtin, `amap`/`apipe` return results to `.get()`, `uimap` is unordered; the pools are cached
#: singletons, ended by `close()`+`join()`, `terminate()` or `clear()` (which closes and joins);
#: leaving a `with` block does nothing; `shutdown()` lets every cached pool go
PATHOS_POOL = Methods(
    submit={"map": Passes.EACH, "imap": Passes.EACH, "uimap": Passes.EACH, "amap": Passes.EACH,
            "pipe": Passes.INLINE, "apipe": Passes.INLINE},
    pending=frozenset({"imap", "uimap", "amap", "apipe"}),
    lazy=frozenset({"imap", "uimap"}),
    blocking=frozenset({"pipe"}),
    submit_and_wait=("apipe", "get"),
    close=frozenset({"close"}),
    join=frozenset({"join"}),
    terminate=frozenset({"terminate"}),
    clear=frozenset({"clear"}),
    ends=(frozenset({"terminate"}), frozenset({"close", "join"}), frozenset({"clear"})),
    library_ends=frozenset({"pathos.helpers.shutdown", "pathos.pools._clear"}),
    exit_ends=False, parameters=("f", "", ""),
)
#: pebble's `ProcessPool` and `ThreadPool`: `schedule(function, args, kwargs)` returns a future,
#: `map` a future of an iterator (`submit(function, timeout, *args)` is left out: its arguments
#: follow a timeout); `close()` then `join()`, or `stop()` then `join()`;
#: leaving a `with` block closes and joins (pending tasks run to the end)
PEBBLE_POOL = Methods(
    submit={"schedule": Passes.TUPLE, "map": Passes.EACH},
    pending=frozenset({"schedule", "map"}),
    submit_and_wait=("schedule", "result"),
    close=frozenset({"close"}),
    join=frozenset({"join"}),
    terminate=frozenset({"stop"}),
    ends=(frozenset({"close", "join"}), frozenset({"stop", "join"})),
    parameters=("function", "args", "kwargs"),
)
#: mpire's `WorkerPool`: `map`/`map_unordered` wait, `imap`/`imap_unordered` are lazy,
#: `apply_async` returns a result to `.get()`; `stop_and_join()` or `terminate()` ends it, and
#: leaving a `with` block terminates it
MPIRE_POOL = Methods(
    submit={
        "map": Passes.EACH, "map_unordered": Passes.EACH, "imap": Passes.EACH,
        "imap_unordered": Passes.EACH, "apply": Passes.TUPLE, "apply_async": Passes.TUPLE,
    },
    pending=frozenset({"imap", "imap_unordered", "apply_async"}),
    lazy=frozenset({"imap", "imap_unordered"}),
    blocking=frozenset({"apply"}),
    submit_and_wait=("apply_async", "get"),
    join=frozenset({"join", "stop_and_join"}),
    terminate=frozenset({"terminate"}),
    ends=(frozenset({"stop_and_join"}), frozenset({"terminate"})),
    exit_terminates=True,
    callbacks=frozenset({"apply_async"}),
    parameters=("func", "args", "kwargs"),
)



@dataclass(frozen=True)
class Api:
    qualname: str
    kind: Kind
    #: how callables handed to it are pickled: "pickle", or "dill"/"cloudpickle", which also
    #: take lambdas and nested functions
    pickler: str = "pickle"
    #: the pool's worker processes are daemonic, so the code they run cannot start processes of
    #: its own (multiprocessing's `Pool` and its forks; a `ProcessPoolExecutor`'s are not)
    daemonic_workers: bool = False
    #: what its methods do, when it is a library's own API whose methods differ from its kind's
    #: (`pebble.ProcessPool.schedule`); None: the kind's row of `VOCABULARY`
    methods: Methods | None = None
    #: the start method the library uses unless told otherwise (mpire forks where it can); None:
    #: multiprocessing's default for the platform
    start_method: str | None = None
    #: a callable handed to its workers is inherited, not pickled, when they are forked (mpire
    #: passes the function to the workers it starts for each map)
    inherits_callables: bool = False
    #: creating or running it at import time starts processes that re-import `__main__` on
    #: spawn platforms; False for loky's start method, which starts workers without running the
    #: main module (joblib's default backend too)
    needs_main_guard: bool = True
    #: the caller owns it and must end it; False for executors that the library keeps and reuses
    #: on purpose (`loky.get_reusable_executor()`) and pools that stop their workers after each
    #: map (mpire's `WorkerPool` unless `keep_alive=True`)
    owned: bool = True
    #: its worker processes start when it is made (mpire's in each map, pebble's at its first task)
    starts_at_creation: bool = True


# Names that a multiprocessing-like module and every context it returns expose.
_CONTEXT_NAMES: dict[str, Kind] = {
    "Process": Kind.PROCESS,
    "Pool": Kind.POOL,
    "Manager": Kind.MANAGER,
    "get_context": Kind.CONTEXT,
    "set_start_method": Kind.SET_START_METHOD,
    "Value": Kind.SHARED_VALUE,
    "Array": Kind.SHARED_VALUE,
    "RawValue": Kind.SHARED_VALUE,
    "RawArray": Kind.SHARED_VALUE,
    "Queue": Kind.QUEUE,
    "SimpleQueue": Kind.QUEUE,
    "JoinableQueue": Kind.QUEUE,
    "Pipe": Kind.PIPE,
    "Lock": Kind.LOCK,
    "RLock": Kind.LOCK,
    "Semaphore": Kind.LOCK,
    "BoundedSemaphore": Kind.LOCK,
    "Condition": Kind.LOCK,
    "Barrier": Kind.LOCK,
    "Event": Kind.EVENT,
}

# Names only reachable through a submodule of a multiprocessing-like package.
_SUBMODULE_NAMES: dict[str, Kind] = {
    "context.Process": Kind.PROCESS,
    "context.SpawnProcess": Kind.PROCESS,
    "context.ForkProcess": Kind.PROCESS,
    "context.ForkServerProcess": Kind.PROCESS,
    "process.BaseProcess": Kind.PROCESS,
    "pool.Pool": Kind.POOL,
    "pool.ThreadPool": Kind.THREAD_POOL,
    "dummy.Pool": Kind.THREAD_POOL,
    "dummy.Process": Kind.THREAD_PROCESS,
    "managers.SyncManager": Kind.MANAGER_CLASS,
    "managers.BaseManager": Kind.MANAGER_CLASS,
    "managers.SharedMemoryManager": Kind.MANAGER_CLASS,
    "sharedctypes.Value": Kind.SHARED_VALUE,
    "sharedctypes.Array": Kind.SHARED_VALUE,
    "sharedctypes.RawValue": Kind.SHARED_VALUE,
    "sharedctypes.RawArray": Kind.SHARED_VALUE,
    "sharedctypes.synchronized": Kind.SHARED_VALUE,
    "shared_memory.SharedMemory": Kind.SHARED_MEMORY,
    "shared_memory.ShareableList": Kind.SHARED_MEMORY,
    "queues.Queue": Kind.QUEUE,
    "queues.SimpleQueue": Kind.QUEUE,
    "queues.JoinableQueue": Kind.QUEUE,
    "connection.Pipe": Kind.PIPE,
    "synchronize.Lock": Kind.LOCK,
    "synchronize.RLock": Kind.LOCK,
    "synchronize.Semaphore": Kind.LOCK,
    "synchronize.Event": Kind.EVENT,
}


class Family(NamedTuple):  # (cheaper to define than a dataclass: every run imports this module)
    """A package with the multiprocessing API."""

    root: str
    #: text that any file using the package must contain (the prefilter looks for it)
    marker: str
    pickler: str = "pickle"


FAMILIES = (
    Family("multiprocessing", marker="multiprocess"),
    Family("multiprocess", marker="multiprocess", pickler="dill"),  # the dill-based fork
    Family("billiard", marker="billiard"),  # Celery's fork
    Family("torch.multiprocessing", marker="multiprocess"),
)

#: APIs outside the multiprocessing families: (qualified name, kind, pickler, marker).
_OTHER_APIS: tuple[tuple[str, Kind, str, str], ...] = (
    ("concurrent.futures.ProcessPoolExecutor", Kind.PROCESS_EXECUTOR, "pickle", "ProcessPoolExecutor"),
    ("concurrent.futures.process.ProcessPoolExecutor", Kind.PROCESS_EXECUTOR, "pickle",
     "ProcessPoolExecutor"),
    ("concurrent.futures.ThreadPoolExecutor", Kind.THREAD_EXECUTOR, "pickle", "ThreadPoolExecutor"),
    ("concurrent.futures.thread.ThreadPoolExecutor", Kind.THREAD_EXECUTOR, "pickle",
     "ThreadPoolExecutor"),
    ("os.fork", Kind.FORK, "pickle", "fork("),
    ("os.forkpty", Kind.FORK, "pickle", "forkpty("),
    ("threading.Thread", Kind.THREAD, "pickle", "Thread"),
    ("threading.Timer", Kind.THREAD, "pickle", "Timer"),
    ("torch.multiprocessing.spawn", Kind.SPAWN, "pickle", "multiprocess"),
    ("torch.multiprocessing.start_processes", Kind.SPAWN, "pickle", "multiprocess"),
)


def _library_apis() -> tuple[Api, ...]:
    """The third-party pool libraries, by what each of their APIs is (read from their docs and
    source): the pickler, the vocabulary, the start method, whether the workers are daemonic."""
    pathos_pools = ("multiprocessing.ProcessingPool", "multiprocessing.ProcessPool", "pools.ProcessPool")
    return (
        # pathos: dill pickles lambdas and local functions; ProcessPool runs multiprocess's Pool
        # (daemonic workers) and starts it when constructed; ParallelPool: ppft's subprocess workers
        *(Api(f"pathos.{name}", Kind.POOL, "dill", daemonic_workers=True, methods=PATHOS_POOL)
          for name in pathos_pools),
        *(Api(f"pathos.{name}", Kind.POOL, "dill", methods=PATHOS_POOL, needs_main_guard=False)
          for name in ("pools.ParallelPool", "parallel.ParallelPool", "pp.ParallelPool")),
        *(Api(f"pathos.{name}", Kind.THREAD_POOL, "dill", methods=PATHOS_POOL)
          for name in ("pools.ThreadPool", "threading.ThreadPool", "multiprocessing.ThreadingPool")),
        *(Api(f"pathos.{name}", Kind.POOL, "dill", daemonic_workers=True)  # multiprocess.Pool itself
          for name in ("helpers.ProcessPool", "pools._ProcessPool")),
        *(Api(f"pathos.{name}", Kind.THREAD_POOL, "dill") for name in ("helpers.ThreadPool", "pools._ThreadPool")),
        # loky: cloudpickle; its own start method starts workers without running `__main__`;
        # the reusable executor is the library's to keep
        *(Api(f"{root}.{name}", Kind.PROCESS_EXECUTOR, "cloudpickle", needs_main_guard=False)
          for root in ("loky", "joblib.externals.loky")
          for name in ("ProcessPoolExecutor", "process_executor.ProcessPoolExecutor")),
        *(Api(f"{root}.{name}", Kind.PROCESS_EXECUTOR, "cloudpickle", needs_main_guard=False, owned=False)
          for root in ("loky", "joblib.externals.loky")
          for name in ("get_reusable_executor", "reusable_executor.get_reusable_executor")),
        # joblib: the loky backend by default; `backend="multiprocessing"` needs the main guard
        *(Api(name, Kind.PARALLEL, "cloudpickle", needs_main_guard=False)
          for name in ("joblib.Parallel", "joblib.parallel.Parallel")),
        # mpire: forks where it can (not Windows): the function reaches the workers unpickled; dill
        # with `use_dill=True`; daemonic workers, started for each map and stopped after it
        # unless `keep_alive=True`, so making one at import time starts nothing
        *(Api(name, Kind.POOL, "pickle", daemonic_workers=True, methods=MPIRE_POOL, start_method="fork",
              inherits_callables=True, owned=False, needs_main_guard=False, starts_at_creation=False)
          for name in ("mpire.WorkerPool", "mpire.pool.WorkerPool")),
        # pebble 5: workers not daemonic, started at the first task, under `context=`'s start method
        *(Api(name, Kind.POOL, "pickle", methods=PEBBLE_POOL, starts_at_creation=False)
          for name in ("pebble.ProcessPool", "pebble.pool.ProcessPool", "pebble.pool.process.ProcessPool")),
        *(Api(name, Kind.THREAD_POOL, "pickle", methods=PEBBLE_POOL)
          for name in ("pebble.ThreadPool", "pebble.pool.ThreadPool", "pebble.pool.thread.ThreadPool")),
        *(Api(name, Kind.PROCESS_DECORATOR, "pickle")
          for name in ("pebble.concurrent.process", "pebble.concurrent.process.process")),
    )


#: the libraries' top-level packages: each file using one names it (the prefilter's marker)
LIBRARY_ROOTS = ("pathos", "loky", "joblib", "mpire", "pebble")

#: packages that nearly every file imports: their APIs make a file worth parsing only together
#: with their own markers (`os` with `fork(`), not with any marker of the table
_PAIRED_ROOTS = frozenset({"os"})


def _build() -> tuple[dict[str, Api], frozenset[str], dict[str, frozenset[str]]]:
    table: dict[str, Api] = {}
    markers: set[str] = set()
    paired: dict[str, set[str]] = {}
    for family in FAMILIES:
        markers.add(family.marker)
        for name, kind in {**_CONTEXT_NAMES, **_SUBMODULE_NAMES}.items():
            qualname = f"{family.root}.{name}"
            table[qualname] = Api(qualname, kind, family.pickler, daemonic_workers=kind is Kind.POOL)
    for qualname, kind, pickler, marker in _OTHER_APIS:
        table[qualname] = Api(qualname, kind, pickler)
        root = qualname.split(".")[0]
        if root in _PAIRED_ROOTS:
            paired.setdefault(root, set()).add(marker)
        elif kind not in THREAD_KINDS:
            markers.add(marker)
    for api in _library_apis():
        table[api.qualname] = api
    markers.update(LIBRARY_ROOTS)
    return table, frozenset(markers), {root: frozenset(found) for root, found in paired.items()}


#: qualified name -> API; the markers that go with any of IMPORT_ROOTS; root -> its own markers
APIS, MARKERS, PAIRED_MARKERS = _build()

#: the modules whose names are (or return) contexts: `get_context()` resolves to one of these
FAMILY_ROOTS = frozenset(family.root for family in FAMILIES)

#: the top-level packages of the table's APIs: a file can only use one after importing from one
#: (threads alone make no finding: `threading` is not among them)
IMPORT_ROOTS = frozenset(
    api.qualname.split(".")[0]
    for api in APIS.values()
    if api.kind not in THREAD_KINDS and api.qualname.split(".")[0] not in _PAIRED_ROOTS
)

#: the markers and top-level packages of thread APIs (`Thread` is also in `ThreadPoolExecutor`;
#: `multiprocessing.dummy` and `ThreadPool` pass already by "multiprocess")
THREAD_MARKERS = frozenset(marker for _, kind, _, marker in _OTHER_APIS if kind in THREAD_KINDS)
THREAD_ROOTS = frozenset(api.qualname.split(".")[0] for api in APIS.values() if api.kind in THREAD_KINDS)


def is_library(api: Api) -> bool:
    """The API is a third-party pool library's (its constructor's positions are its own)."""
    return api.qualname.split(".", 1)[0] in LIBRARY_ROOTS


def lookup(qualname: str | None) -> Api | None:
    return APIS.get(qualname) if qualname else None


# --- what may be handed to a child ---------------------------------------------------------------

#: kinds whose objects refuse to be pickled except while a child process is being started
#: (`RuntimeError: Lock objects should only be shared between processes through inheritance`):
#: they reach a child through `Process(args=...)` or a pool's `initargs`, never as a task argument
INHERITANCE_ONLY = frozenset({Kind.LOCK, Kind.EVENT, Kind.QUEUE, Kind.SHARED_VALUE})

#: the manager method that makes a proxy standing in for an object of the table (by its name);
#: a proxy pickles fine and can be a task argument
MANAGER_EQUIVALENT = {
    "SimpleQueue": "Queue",
    "RawValue": "Value",
    "RawArray": "Array",
    "synchronized": "Value",
}


def short_name(api: Api) -> str:
    """`Lock` for `multiprocessing.synchronize.Lock`."""
    return api.qualname.rsplit(".", 1)[-1]

#: the methods of a manager (`Manager()`, `SyncManager`) that make a proxy, by the type proxied
MANAGER_PROXY_TYPES = frozenset({
    "dict", "list", "Namespace", "Lock", "RLock", "Semaphore", "BoundedSemaphore", "Condition",
    "Event", "Barrier", "Queue", "JoinableQueue", "Value", "Array", "Pool",
})
#: proxies whose items are sent back as copies: changing an item in place changes the copy
CONTAINER_PROXIES = frozenset({"dict", "list"})
#: a proxy whose attributes are sent back as copies
NAMESPACE_PROXY = "Namespace"
#: methods of a dict proxy that hand back a copy of an item (`d.setdefault(k, []).append(x)`)
ITEM_COPYING_METHODS = frozenset({"get", "setdefault"})



#: every method that ends (part of) an object's life: handing one out as a bound method is an escape
LIFECYCLE_METHODS = frozenset(
    m for row in (*VOCABULARY.values(), PATHOS_POOL, PEBBLE_POOL, MPIRE_POOL) for m in row.ending | row.clear
)
#: every method of any pool or executor that hands a callable to the workers
SUBMIT_METHODS = frozenset(
    m for row in (*VOCABULARY.values(), PATHOS_POOL, PEBBLE_POOL, MPIRE_POOL) for m in row.submit
)
#: every method of any pool that returns before its work is done
PENDING_METHODS = frozenset(
    m for row in (*VOCABULARY.values(), PATHOS_POOL, PEBBLE_POOL, MPIRE_POOL) for m in row.pending
)
#: a pool method that submits one task and waits for its result before returning
POOL_BLOCKING_SUBMIT = methods(Kind.POOL).blocking
#: (method that submits one task, method of its result that waits for it), by the kinds that run
#: the task in a child process
SUBMIT_AND_WAIT: dict[Kind, tuple[str, str]] = {
    kind: row.submit_and_wait for kind, row in VOCABULARY.items()
    if row.submit_and_wait is not None and kind in STARTS_PROCESSES
}

#: queue methods that take an item out of it
QUEUE_GETS = methods(Kind.QUEUE).get
#: queue methods that put an item in it
QUEUE_PUTS = methods(Kind.QUEUE).put
#: the queue class (and manager proxy) whose `join()` waits for a `task_done()` per item
JOINABLE_QUEUE = "JoinableQueue"
#: the methods by which code uses a queue, a pipe end or a lock
RESOURCE_METHODS = frozenset({
    *QUEUE_GETS, *QUEUE_PUTS, "empty", "full", "qsize", "close", "join_thread", "cancel_join_thread",
    "task_done", "join", *methods(Kind.PIPE).put, *methods(Kind.PIPE).get, "poll", "fileno",
    "acquire", "release", "wait", "notify", "notify_all", "set", "clear", "is_set",
})

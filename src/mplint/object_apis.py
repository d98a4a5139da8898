"""Objects of other libraries whose fate in a child process the rules need to know.

`apis.py` holds the multiprocessing APIs and `work_apis.py` what calls cost; this table holds the
objects a worker handles that are not made for processes at all:

- progress bars (tqdm): `update()` in a child moves the child's copy of the bar, never the
  parent's (MPL003);
- objects that no pickler of the family can send to a child, with the error pickling raises and
  the picklers that do manage (dill recreates a fresh lock in the receiver, cloudpickle reads a
  file opened for reading): thread locks and their relatives, thread queues, open files,
  generators, `threading.local`, sqlite connections (MPL026). Sockets and multiprocessing's own
  objects are not here: multiprocessing has reducers for them (or refuses them itself, MPL017).
"""

from __future__ import annotations

from dataclasses import dataclass

#: progress-bar classes: a bar made in the parent and advanced in a child never moves
PROGRESS_BARS = frozenset(
    {
        "tqdm.tqdm", "tqdm.std.tqdm", "tqdm.auto.tqdm", "tqdm.autonotebook.tqdm",
        "tqdm.notebook.tqdm", "tqdm.tqdm_notebook", "tqdm.notebook.tqdm_notebook",
        "tqdm.asyncio.tqdm", "tqdm.rich.tqdm", "tqdm.contrib.telegram.tqdm",
    }
)
#: the methods of a progress bar that advance it
PROGRESS_METHODS = frozenset({"update"})


@dataclass(frozen=True)
class Unpicklable:
    """A constructor whose objects cannot be pickled."""

    #: what the object is, in words: "a `threading.Lock`"
    what: str
    #: the error `pickle.dumps` raises for it (CPython 3.11)
    error: str
    #: what to do instead, for the code at hand
    fix: str
    #: the picklers of `apis.Api.pickler` that send it without an error
    pickled_by: frozenset[str] = frozenset()
    #: for files: where the constructor takes its mode (position, keyword) and the default mode;
    #: the error names the `_io` class the mode makes
    mode: tuple[int, str, str] | None = None


_LOCK_FIX = (
    "create it where it is used, in the child (a pool `initializer=` can make one per worker); "
    "to share one lock between processes, use a `multiprocessing` lock handed over with "
    "`Process(args=...)` or `initargs=`"
)
_QUEUE_FIX = (
    "use a `multiprocessing.Queue` handed over with `Process(args=...)` or `initargs=` (or a "
    "`Manager().Queue()`, which a pool task may take)"
)
_FILE_FIX = "pass the file's path and open it in the child"
_THREAD_LOCK = "TypeError: cannot pickle '_thread.lock' object"
_THREAD_RLOCK = "TypeError: cannot pickle '_thread.RLock' object"
_DILL = frozenset({"dill"})


def _lock(name: str, error: str = _THREAD_LOCK, fix: str = _LOCK_FIX) -> Unpicklable:
    # dill pickles them by making a new one in the receiver (no error, and nothing shared)
    return Unpicklable(f"a `{name}`", error, fix, _DILL)


def _file(default_mode: str, position: int = 1) -> Unpicklable:
    # dill pickles a file handle (reopening it in the receiver); cloudpickle pickles a file opened
    # for reading (by its contents), not one opened for writing: both are left alone
    return Unpicklable(
        "an open file", file_error(default_mode), _FILE_FIX, frozenset({"dill", "cloudpickle"}),
        (position, "mode", default_mode),
    )


def file_error(mode: str | None) -> str:
    """The error pickling a file object opened with `mode` raises (None: a mode not known)."""
    if mode is None:
        return "TypeError: cannot pickle '_io.TextIOWrapper' object (or `_io.Buffered...`, by its mode)"
    if "b" not in mode:
        io_class = "TextIOWrapper"
    elif "+" in mode:
        io_class = "BufferedRandom"
    elif "r" in mode:
        io_class = "BufferedReader"
    else:
        io_class = "BufferedWriter"
    return f"TypeError: cannot pickle '_io.{io_class}' object"


#: constructors (qualified names; builtins by their bare name) whose objects cannot be pickled
UNPICKLABLE: dict[str, Unpicklable] = {
    "threading.Lock": _lock("threading.Lock"),
    "threading.RLock": _lock("threading.RLock", _THREAD_RLOCK),
    "threading.Condition": _lock("threading.Condition", _THREAD_RLOCK),
    "threading.Event": _lock("threading.Event"),
    "threading.Semaphore": _lock("threading.Semaphore"),
    "threading.BoundedSemaphore": _lock("threading.BoundedSemaphore"),
    "threading.Barrier": _lock("threading.Barrier"),
    "threading.Thread": _lock("threading.Thread", fix="start the thread in the child instead"),
    "threading.Timer": _lock("threading.Timer", fix="start the timer in the child instead"),
    "_thread.allocate_lock": _lock("_thread.allocate_lock()"),
    "threading.local": Unpicklable(
        "a `threading.local`", "TypeError: cannot pickle '_thread._local' object", "create it in the child"
    ),
    "queue.Queue": _lock("queue.Queue", fix=_QUEUE_FIX),
    "queue.LifoQueue": _lock("queue.LifoQueue", fix=_QUEUE_FIX),
    "queue.PriorityQueue": _lock("queue.PriorityQueue", fix=_QUEUE_FIX),
    "queue.SimpleQueue": Unpicklable(
        "a `queue.SimpleQueue`", "TypeError: cannot pickle '_queue.SimpleQueue' object", _QUEUE_FIX
    ),
    "open": _file("r"),
    "io.open": _file("r"),
    "builtins.open": _file("r"),
    "gzip.open": _file("rb"),
    "bz2.open": _file("rb"),
    "lzma.open": _file("rb"),
    "tempfile.TemporaryFile": _file("w+b", 0),
    "tempfile.NamedTemporaryFile": _file("w+b", 0),
    "sqlite3.connect": Unpicklable(
        "an sqlite connection", "TypeError: cannot pickle 'sqlite3.Connection' object",
        "pass the database's path and connect in the child",
    ),
}

# a bar writes to `sys.stderr`, which only dill and cloudpickle know how to send
_PROGRESS_BAR = Unpicklable(
    "a tqdm progress bar", "TypeError: cannot pickle '_io.TextIOWrapper' object",
    "keep the bar in the parent and advance it there as each result comes back",
    frozenset({"dill", "cloudpickle"}),
)
UNPICKLABLE.update({"tqdm.tqdm": _PROGRESS_BAR, "tqdm.std.tqdm": _PROGRESS_BAR})

#: what a generator (a generator expression, or a call of a generator function) is
GENERATOR = Unpicklable(
    "a generator", "TypeError: cannot pickle 'generator' object",
    "pass the values themselves (`list(...)`) or what the generator is made from, and build it in the child",
)


def unpicklable(qualname: str | None) -> Unpicklable | None:
    """The table's row for a constructor, if its objects cannot be pickled."""
    return UNPICKLABLE.get(qualname) if qualname is not None else None

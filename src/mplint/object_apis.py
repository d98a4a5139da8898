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
    #: the picklers of `apis.Api.pickler` that send it without an error
    pickled_by: frozenset[str] = frozenset()
    #: for files: where the constructor takes its mode (position, keyword) and the default mode;
    #: the error names the `_io` class the mode makes
    mode: tuple[int, str, str] | None = None


_THREAD_LOCK = "TypeError: cannot pickle '_thread.lock' object"
_THREAD_RLOCK = "TypeError: cannot pickle '_thread.RLock' object"
_DILL = frozenset({"dill"})


def _lock(name: str, error: str = _THREAD_LOCK) -> Unpicklable:
    return Unpicklable(f"a `{name}`", error, _DILL)


def _file(name: str, default_mode: str, position: int = 1) -> Unpicklable:
    # cloudpickle pickles a file opened for reading (by its contents), not one opened for writing
    return Unpicklable(
        f"an open file (`{name}(...)`)", file_error(default_mode), _DILL, (position, "mode", default_mode)
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
    "threading.Thread": _lock("threading.Thread"),
    "threading.Timer": _lock("threading.Timer"),
    "_thread.allocate_lock": _lock("_thread.allocate_lock()"),
    "threading.local": Unpicklable("a `threading.local`", "TypeError: cannot pickle '_thread._local' object"),
    "queue.Queue": _lock("queue.Queue"),
    "queue.LifoQueue": _lock("queue.LifoQueue"),
    "queue.PriorityQueue": _lock("queue.PriorityQueue"),
    "queue.SimpleQueue": Unpicklable(
        "a `queue.SimpleQueue`", "TypeError: cannot pickle '_queue.SimpleQueue' object"
    ),
    "open": _file("open", "r"),
    "io.open": _file("io.open", "r"),
    "builtins.open": _file("open", "r"),
    "gzip.open": _file("gzip.open", "rb"),
    "bz2.open": _file("bz2.open", "rb"),
    "lzma.open": _file("lzma.open", "rb"),
    "tempfile.TemporaryFile": _file("tempfile.TemporaryFile", "w+b", 0),
    "tempfile.NamedTemporaryFile": _file("tempfile.NamedTemporaryFile", "w+b", 0),
    "sqlite3.connect": Unpicklable(
        "an sqlite connection", "TypeError: cannot pickle 'sqlite3.Connection' object"
    ),
}

# a bar writes to `sys.stderr`, which only dill and cloudpickle know how to send
_PROGRESS_BAR = Unpicklable(
    "a tqdm progress bar", "TypeError: cannot pickle '_io.TextIOWrapper' object", frozenset({"dill", "cloudpickle"})
)
UNPICKLABLE.update({"tqdm.tqdm": _PROGRESS_BAR, "tqdm.std.tqdm": _PROGRESS_BAR})

#: what a generator (a generator expression, or a call of a generator function) is
GENERATOR = Unpicklable("a generator", "TypeError: cannot pickle 'generator' object")


def unpicklable(qualname: str | None) -> Unpicklable | None:
    """The table's row for a constructor, if its objects cannot be pickled."""
    return UNPICKLABLE.get(qualname) if qualname is not None else None

"""What kind of work a function does: blocking I/O, CPU-heavy work, or work we cannot judge.

Calls are sorted by what they call, as a qualified name (imports undone):

- *blocking* (`BLOCKING_CALLS`): the call waits on the network, a timer or another program;
- *compute* (`COMPUTE_CALLS`): a numeric, imaging, compression or hashing library: CPU work;
- *process-only* (`PROCESS_ONLY_CALLS`): things a thread cannot do for itself (signal handlers,
  the working directory, user ids, resource limits): a reason to want a process;
- *light* (`LIGHT_CALLS`, builtins, and a short list of cheap methods): glue that costs little;
- anything else imported, or a callable we cannot see (a parameter, a method of an object of
  unknown type), is *unknown*: it may be heavy.

Names in the tables are qualified-name prefixes when they end with "." (`requests.`), else exact
names that also cover what is below them (`os.system`, `time.sleep`).

Work is I/O-bound when it waits on the network or another program; `time.sleep` counts as
waiting alongside those, but a worker that only sleeps is not called I/O-bound (see `Work`).

CPU-heavy work is judged conservatively: a call into a compute library, a call we cannot judge,
recursion, or a loop (`for`, `while`, or a comprehension) that does arithmetic and has no
blocking call inside it. When any of these is present the work is not called I/O-bound.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, Literal

import libcst as cst

from mplint.facts.syntax import FunctionBodyVisitor

if TYPE_CHECKING:
    from mplint.facts import ModuleFacts
    from mplint.facts.scopes import CallSite, FunctionInfo, Scope

TIMER = "a timer"

#: callables that block on I/O -> what they wait for
BLOCKING_CALLS: dict[str, str] = {
    # the network
    "requests.": "the network",
    "httpx.": "the network",
    "urllib.request.": "the network",
    "urllib3.": "the network",
    "http.client.": "the network",
    "socket.": "the network",
    "ssl.": "the network",
    "ftplib.": "the network",
    "smtplib.": "the network",
    "poplib.": "the network",
    "imaplib.": "the network",
    "xmlrpc.client.": "the network",
    "paramiko.": "the network",
    "pysftp.": "the network",
    "websocket.": "the network",
    "grpc.": "the network",
    "boto3.": "the network",
    "botocore.": "the network",
    "google.cloud.": "the network",
    "azure.storage.": "the network",
    "redis.": "the network",
    "pymongo.": "the network",
    "psycopg2.": "the network",
    "psycopg.": "the network",
    "pymysql.": "the network",
    "elasticsearch.": "the network",
    "socketserver.": "the network",
    "http.server.": "the network",
    # a timer
    "time.sleep": TIMER,
    # other programs
    "subprocess.": "another program",
    "os.system": "another program",
    "os.popen": "another program",
    "pexpect.": "another program",
}

#: libraries whose calls do CPU work
COMPUTE_CALLS = frozenset(
    {
        "numpy.", "scipy.", "pandas.", "polars.", "pyarrow.", "numba.", "numexpr.", "torch.",
        "tensorflow.", "jax.", "sklearn.", "xgboost.", "lightgbm.", "sympy.", "networkx.",
        "cv2.", "PIL.", "skimage.", "imageio.", "shapely.", "statistics.", "hashlib.",
        "zlib.", "bz2.", "lzma.", "gzip.", "zipfile.", "tarfile.", "cryptography.",
        "Crypto.", "nacl.", "bcrypt.", "argon2.", "heapq.", "difflib.",
    }
)

#: calls that change the state of the whole process: a thread could not do them for itself
PROCESS_ONLY_CALLS = frozenset(
    {
        "signal.signal", "signal.alarm", "signal.setitimer", "signal.pthread_sigmask",
        "os.chdir", "os.fchdir", "os.chroot", "os.setsid", "os.setpgrp", "os.setpgid",
        "os.setuid", "os.setgid", "os.seteuid", "os.setegid", "os.setgroups", "os.nice",
        "os.umask", "os.sched_setaffinity", "os.dup2", "os._exit", "os.execv", "os.execve",
        "os.execvp", "os.execl", "os.execlp", "resource.setrlimit", "sys.setrecursionlimit",
        "faulthandler.", "prctl.", "setproctitle.",
    }
)

#: cheap library calls: glue around the real work
LIGHT_CALLS = frozenset(
    {
        "logging.", "os.", "pathlib.", "time.", "datetime.", "json.", "uuid.", "random.",
        "tempfile.", "shutil.", "io.", "csv.", "sys.", "traceback.", "warnings.", "functools.",
        "itertools.", "collections.", "contextlib.", "dataclasses.", "typing.", "urllib.parse.",
        "base64.", "binascii.", "struct.", "string.", "textwrap.", "re.", "queue.", "threading.",
        "multiprocessing.", "concurrent.futures.", "signal.", "platform.", "getpass.", "copy.",
        "enum.", "operator.", "pprint.", "math.", "glob.", "fnmatch.", "errno.", "atexit.",
        "types.", "pickle.", "secrets.", "email.", "mimetypes.", "html.", "locale.", "codecs.",
        "ipaddress.", "shlex.", "argparse.", "configparser.", "stat.", "weakref.", "abc.",
    }
)

#: methods that are cheap whatever object they are called on
CHEAP_METHODS = frozenset(
    {
        # str / bytes
        "strip", "lstrip", "rstrip", "split", "rsplit", "splitlines", "join", "lower", "upper",
        "casefold", "replace", "startswith", "endswith", "format", "format_map", "encode",
        "decode", "find", "rfind", "index", "count", "partition", "rpartition", "zfill",
        "ljust", "rjust", "center", "title", "capitalize", "isdigit", "isalpha", "isspace",
        "removeprefix", "removesuffix", "hex",
        # containers
        "get", "items", "keys", "values", "append", "extend", "insert", "add", "update", "pop",
        "popitem", "setdefault", "copy", "clear", "remove", "discard", "popleft", "appendleft",
        # files, paths, responses
        "read", "write", "readline", "readlines", "writelines", "close", "flush", "seek",
        "tell", "fileno", "exists", "is_file", "is_dir", "mkdir", "unlink", "rename",
        "with_suffix", "with_name", "resolve", "read_text", "write_text", "read_bytes",
        "write_bytes", "open", "iterdir", "glob", "json", "raise_for_status", "iter_content",
        "iter_lines", "getvalue",
        # logging, queues, events, locks, futures
        "debug", "info", "warning", "warn", "error", "exception", "critical", "log", "put",
        "put_nowait", "get_nowait", "task_done", "send", "recv", "poll", "set", "is_set",
        "wait", "acquire", "release", "result", "done", "cancel",
        # dates
        "isoformat", "strftime", "timestamp", "total_seconds",
    }
)

#: names under a blocking prefix that do not wait: constants, exception classes, local lookups
_NOT_BLOCKING = frozenset(
    {
        "socket.gethostname", "subprocess.PIPE", "subprocess.DEVNULL", "subprocess.STDOUT",
        "subprocess.CalledProcessError", "subprocess.TimeoutExpired", "subprocess.SubprocessError",
        "subprocess.list2cmdline",
    }
)

#: constructors under a blocking prefix that return a client or socket without waiting: making
#: one is light; the calls made on it (`s.connect()`, `session.get()`) wait
_WAITLESS_MAKERS = frozenset(
    {
        "socket.socket", "socket.fromfd", "socket.socketpair", "ssl.SSLContext",
        "ssl.create_default_context", "requests.Session", "requests.session", "httpx.Client",
        "httpx.AsyncClient", "urllib3.PoolManager", "http.client.HTTPConnection",
        "http.client.HTTPSConnection", "redis.Redis", "redis.StrictRedis",
    }
)
#: methods of such a client or socket that never wait on the other end
_WAITLESS_METHODS = frozenset(
    {
        "close", "detach", "fileno", "setblocking", "settimeout", "gettimeout", "setsockopt",
        "getsockopt", "getsockname", "bind", "listen", "mount", "load_cert_chain",
        "load_verify_locations",
    }
)

_ARITHMETIC = (
    cst.Add, cst.Subtract, cst.Multiply, cst.Divide, cst.FloorDivide, cst.Modulo, cst.Power,
    cst.MatrixMultiply, cst.LeftShift, cst.RightShift, cst.BitAnd, cst.BitOr, cst.BitXor,
)
_AUGMENTED_ARITHMETIC = (
    cst.AddAssign, cst.SubtractAssign, cst.MultiplyAssign, cst.DivideAssign,
    cst.FloorDivideAssign, cst.ModuloAssign, cst.PowerAssign, cst.MatrixMultiplyAssign,
    cst.LeftShiftAssign, cst.RightShiftAssign, cst.BitAndAssign, cst.BitOrAssign,
    cst.BitXorAssign,
)
_STRINGS = (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)

CallKind = Literal["blocking", "compute", "process-only", "light", "local", "unknown"]


def matches(qualname: str, names: Iterable[str]) -> str | None:
    """The table entry that covers `qualname`, if any."""
    for name in names:
        if name.endswith("."):
            if qualname.startswith(name):
                return name
        elif qualname == name or qualname.startswith(name + "."):
            return name
    return None


@dataclass(frozen=True, eq=False)
class Blocking:
    """A blocking call in worker code."""

    site: CallSite
    #: the function whose body makes the call (None: a lambda handed over)
    function: FunctionInfo | None
    #: what it waits for: "the network", "a timer", "another program", ...
    waits_for: str


@dataclass
class Work:
    """What a worker does, with everything it calls in this module."""

    blocking: list[Blocking] = field(default_factory=list)
    #: why the work may be CPU-heavy (or cannot be judged), if it may: a short phrase
    heavy: str | None = None
    #: why the work wants a process of its own (signal handlers, working directory, ...)
    process_only: str | None = None

    @property
    def io_bound(self) -> bool:
        """Waiting on the network or another program, with nothing heavy or process-only. Sleeping
        alone is not enough: a bare `time.sleep` is mostly pacing (a monitor loop) or a stand-in
        for real work in an example, and says nothing about what the real work is."""
        return (
            any(b.waits_for != TIMER for b in self.blocking)
            and self.heavy is None
            and self.process_only is None
        )


class Workloads:
    """Judges the work of functions; `extra_blocking` adds entries to `BLOCKING_CALLS`."""

    def __init__(self, facts: ModuleFacts, extra_blocking: Iterable[str] = ()) -> None:
        self._facts = facts
        self._blocking = dict(BLOCKING_CALLS)
        for name in extra_blocking:
            self._blocking.setdefault(name, "I/O (listed in `io-bound-calls`)")
        self._kinds: dict[cst.Call, tuple[CallKind, str]] = {}
        self._own: dict[cst.FunctionDef, Work] = {}
        self._reaches_blocking: dict[cst.FunctionDef, bool] = {}

    # --- one call ------------------------------------------------------------------------------

    def call_kind(self, site: CallSite) -> tuple[CallKind, str]:
        """What a call is, and a detail: what it waits for, or the name of what it calls."""
        if site.node not in self._kinds:
            self._kinds[site.node] = self._call_kind(site.node, site.scope)
        return self._kinds[site.node]

    def _call_kind(self, call: cst.Call, scope: Scope) -> tuple[CallKind, str]:
        facts = self._facts
        func = call.func
        if isinstance(facts.names.definition(func, scope), (cst.FunctionDef, cst.ClassDef)):
            return "local", ""
        qualname = facts.names.qualname(func, scope)
        if qualname is not None:
            if qualname in _WAITLESS_MAKERS:
                return "light", qualname
            return self._by_name(qualname)
        if isinstance(func, cst.Name):
            found = facts.names.lookup(func.value, scope)
            if found is None and func.value not in ("eval", "exec", "__import__"):
                return "light", func.value  # a builtin
            return "unknown", func.value
        if isinstance(func, cst.Attribute):
            made_by = self._maker(func.value, scope)
            if made_by is not None:
                kind, detail = self._by_name(made_by)
                if kind == "blocking" and made_by in _WAITLESS_MAKERS and func.attr.value in _WAITLESS_METHODS:
                    return "light", func.attr.value
                if kind in ("blocking", "compute"):
                    return kind, detail
            if func.attr.value in CHEAP_METHODS:
                return "light", func.attr.value
            if isinstance(func.value, cst.Call) and facts.code(func.value.func) == "super":
                return "light", "super"
            if made_by is not None and kind == "light":
                return "light", made_by
        return "unknown", facts.code(func)

    def _by_name(self, qualname: str) -> tuple[CallKind, str]:
        if qualname in _NOT_BLOCKING:
            return "light", qualname
        entry = matches(qualname, self._blocking)
        if entry is not None:
            return "blocking", self._blocking[entry]
        if matches(qualname, PROCESS_ONLY_CALLS):
            return "process-only", qualname
        if matches(qualname, COMPUTE_CALLS):
            return "compute", qualname
        if matches(qualname, LIGHT_CALLS):
            return "light", qualname
        return "unknown", qualname

    def _maker(self, expr: cst.BaseExpression, scope: Scope, depth: int = 0) -> str | None:
        """The qualified name of the library callable whose result `expr` is (a client, an
        array): `requests.Session` for `session` after `session = requests.Session()`, also
        through `self.session` and `with ... as`. Data taken from such a result (`response.text`,
        the result of one of its methods) is not followed: it is plain data."""
        facts = self._facts
        if depth > 8:
            return None
        if isinstance(expr, cst.Call):
            return facts.names.qualname(expr.func, scope)
        values: list[tuple[cst.BaseExpression, Scope]] = []
        if isinstance(expr, cst.Name):
            found = facts.names.lookup(expr.value, scope)
            if found is None:
                return None
            where, bindings = found
            for binding in bindings:
                if binding.value is None:
                    return None
                values.append((binding.value, where))
        elif isinstance(expr, cst.Attribute):
            owner = facts.names.class_of(expr.value, scope)
            if owner is None:
                return None
            values = list(facts.classes[owner].attributes.get(expr.attr.value, ()))
        # `_client = None` at import, set by an initializer: the client is what matters
        values = [(v, s) for v, s in values if not (isinstance(v, cst.Name) and v.value == "None")]
        makers = {self._maker(value, where, depth + 1) for value, where in values}
        return makers.pop() if len(makers) == 1 else None

    # --- one function --------------------------------------------------------------------------

    def own_work(self, function: FunctionInfo) -> Work:
        """What `function`'s own body does (calls into this module are judged separately)."""
        if function.node not in self._own:
            work = Work()
            for site in function.calls:
                self._add_call(work, site, function)
            if work.heavy is None:
                work.heavy = self._heavy_loop(function)
            self._own[function.node] = work
        return self._own[function.node]

    def _add_call(self, work: Work, site: CallSite, function: FunctionInfo | None) -> None:
        kind, detail = self.call_kind(site)
        if kind == "blocking":
            work.blocking.append(Blocking(site, function, detail))
        elif kind == "compute" and work.heavy is None:
            work.heavy = f"`{detail}`"
        elif kind == "unknown" and work.heavy is None:
            work.heavy = f"`{detail}`, whose cost is unknown"
        elif kind == "process-only" and work.process_only is None:
            work.process_only = f"`{detail}`"

    def reaches_blocking(self, function: FunctionInfo) -> bool:
        if function.node not in self._reaches_blocking:
            self._reaches_blocking[function.node] = False  # cycles
            self._reaches_blocking[function.node] = any(
                self.own_work(f).blocking for f in self._facts.callgraph.reached_from(function)
            )
        return self._reaches_blocking[function.node]

    def _heavy_loop(self, function: FunctionInfo) -> str | None:
        finder = _LoopArithmetic(self, function)
        finder.walk(function.node.body)
        return finder.found

    # --- a worker --------------------------------------------------------------------------------

    def work_of(self, entries: list[FunctionInfo], lambda_scope: Scope | None = None) -> Work:
        """The work of functions run in a child with everything they call in this module, and of
        the calls a lambda handed over makes itself."""
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
            total.heavy = total.heavy or own.heavy
            total.process_only = total.process_only or own.process_only
        if total.heavy is None:
            for function in reached:
                if self._recursive(function):
                    total.heavy = f"recursion in `{function.name}`"
                    break
        return total

    def _recursive(self, function: FunctionInfo) -> bool:
        graph = self._facts.callgraph
        for site in function.calls:
            callee = graph.callee(site)
            if callee is not None and any(f.node is function.node for f in graph.reached_from(callee)):
                return True
        return False


class _LoopArithmetic(FunctionBodyVisitor):
    """Finds a loop that does arithmetic and waits on nothing: CPU work."""

    def __init__(self, workloads: Workloads, function: FunctionInfo) -> None:
        self._workloads = workloads
        self._facts = workloads._facts
        self._sites = {site.node: site for site in function.calls}
        #: loops being visited: [node, does arithmetic, waits on I/O]
        self._loops: list[list] = []
        #: depth of blocking calls' arguments (`time.sleep(2 ** attempt)` computes a delay)
        self._in_blocking = 0
        self.found: str | None = None

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self.found is not None:
            return False
        return super().on_visit(node)

    def _loop(self, node: cst.CSTNode, once: cst.CSTNode | None, repeated: list[cst.CSTNode | None]) -> bool:
        """Visit a loop: `once` (the first iterable) is evaluated before it, the rest each time."""
        if once is not None:
            self.walk(once)
        self._loops.append([node, False, False])
        for part in repeated:
            if part is not None:
                self.walk(part)
        _, arithmetic, waits = self._loops.pop()
        if arithmetic and not waits and self.found is None:
            kind = "loop" if isinstance(node, (cst.For, cst.While)) else "comprehension"
            self.found = f"a {kind} doing arithmetic"
        return False

    def visit_For(self, node: cst.For) -> bool:
        return self._loop(node, node.iter, [node.target, node.body, node.orelse])

    def visit_While(self, node: cst.While) -> bool:
        return self._loop(node, None, [node.test, node.body, node.orelse])

    def _comprehension(self, node: cst.BaseComp) -> bool:
        first = node.for_in
        elements = [node.key, node.value] if isinstance(node, cst.DictComp) else [node.elt]  # type: ignore[attr-defined]
        inner = first.inner_for_in
        rest: list[cst.CSTNode | None] = [first.target, *first.ifs, inner, *elements]
        return self._loop(node, first.iter, rest)

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comprehension

    def visit_Call(self, node: cst.Call) -> None:
        site = self._sites.get(node)
        if site is None:
            return
        kind, _ = self._workloads.call_kind(site)
        waits = kind == "blocking"
        if kind == "local":
            callee = self._facts.callgraph.callee(site)
            waits = callee is not None and self._workloads.reaches_blocking(callee)
        if waits:
            for loop in self._loops:
                loop[2] = True
            if kind == "blocking":
                self._in_blocking += 1

    def leave_Call(self, original_node: cst.Call) -> None:
        site = self._sites.get(original_node)
        if site is not None and self._workloads.call_kind(site)[0] == "blocking":
            self._in_blocking -= 1

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if not isinstance(node.operator, _ARITHMETIC) or self._in_blocking:
            return
        if isinstance(node.operator, (cst.Add, cst.Modulo)) and (
            isinstance(node.left, _STRINGS) or isinstance(node.right, _STRINGS)
        ):
            return  # building a string
        self._arithmetic()

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.operator, _AUGMENTED_ARITHMETIC) and not isinstance(node.value, _STRINGS):
            self._arithmetic()

    def _arithmetic(self) -> None:
        if self._loops:
            self._loops[-1][1] = True

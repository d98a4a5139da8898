"""What calls cost: the half of the API table that says how work spends its time.

`apis.py` says what a call does to processes; this table says what a call does to the work of the
thread or process that makes it. `facts/workload.py` sorts every call of a worker by these tables
(by qualified name, imports undone), and the rules that judge work (MPL004 `io-bound-process`,
MPL024 `cpu-bound-threads`) read that fact, never these tables directly.

Names are qualified-name prefixes when they end with "." (`requests.`), else exact names that
also cover what is below them (`os.system`, `time.sleep`).
"""

from __future__ import annotations

TIMER = "a timer"
NETWORK = "the network"
PROGRAM = "another program"

#: callables that block on I/O -> what they wait for (the GIL is released while they wait)
BLOCKING_CALLS: dict[str, str] = {
    **dict.fromkeys(
        (
            "requests.", "httpx.", "urllib.request.", "urllib3.", "http.client.", "socket.",
            "ssl.", "ftplib.", "smtplib.", "poplib.", "imaplib.", "xmlrpc.client.", "paramiko.",
            "pysftp.", "websocket.", "grpc.", "boto3.", "botocore.", "google.cloud.",
            "azure.storage.", "redis.", "pymongo.", "psycopg2.", "psycopg.", "pymysql.",
            "mysql.connector.", "elasticsearch.", "socketserver.", "http.server.", "pika.",
            "kafka.", "confluent_kafka.", "pymemcache.", "docker.", "kubernetes.client.",
            "ldap3.", "dns.resolver.",
        ),
        NETWORK,
    ),
    "time.sleep": TIMER,
    "subprocess.": PROGRAM,
    "os.system": PROGRAM,
    "os.popen": PROGRAM,
    "os.wait": PROGRAM,
    "os.waitpid": PROGRAM,
    "pexpect.": PROGRAM,
}

#: names under a blocking prefix that do not wait: constants, exception classes, local lookups
NOT_BLOCKING = frozenset(
    {
        "socket.gethostname", "subprocess.PIPE", "subprocess.DEVNULL", "subprocess.STDOUT",
        "subprocess.CalledProcessError", "subprocess.TimeoutExpired", "subprocess.SubprocessError",
        "subprocess.list2cmdline", "requests.exceptions.", "requests.RequestException",
        "requests.HTTPError", "requests.ConnectionError", "requests.Timeout",
        "botocore.exceptions.", "botocore.config.Config", "urllib.request.Request",
        "http.client.responses", "requests.adapters.", "requests.auth.", "requests.structures.",
        "urllib3.util.", "urllib3.Retry", "urllib3.Timeout",
    }
)

#: client factories: calls under a blocking prefix that make a client, session or socket
#: without waiting. Making one is light; the calls made on it (`s.connect()`, `session.get()`,
#: `s3.get_object()`) wait, and so do the calls on what its factory methods return
#: (`session.resource("s3").Bucket(name)`)
CLIENT_FACTORIES = frozenset(
    {
        "socket.socket", "socket.fromfd", "socket.socketpair", "ssl.SSLContext",
        "ssl.create_default_context", "requests.Session", "requests.session", "httpx.Client",
        "httpx.AsyncClient", "urllib3.PoolManager", "http.client.HTTPConnection",
        "http.client.HTTPSConnection", "redis.Redis", "redis.StrictRedis", "redis.from_url",
        "boto3.client", "boto3.resource", "boto3.Session", "boto3.session.Session",
        "botocore.session.get_session", "pymongo.MongoClient", "elasticsearch.Elasticsearch",
        "docker.from_env", "docker.DockerClient", "paramiko.SSHClient", "ftplib.FTP",
        "smtplib.SMTP", "smtplib.SMTP_SSL",
    }
)
#: methods of a client that return another client of the same library (boto3 sessions and
#: resources, database cursors, storage buckets): calls on the result wait too
CLIENT_FACTORY_METHODS = frozenset(
    {
        "client", "resource", "Session", "cursor", "pipeline", "get_paginator", "get_bucket",
        "bucket", "blob", "get_blob_client", "get_container_client", "get_database",
        "get_collection", "open_sftp", "get_transport",
    }
)
#: attributes of a client that are clients of the same library (a boto3 resource's collections,
#: `s3.meta.client`); other attributes (`session.headers`, `response.text`) are plain data
CLIENT_ATTRIBUTES = frozenset({"objects", "buckets", "object_versions", "multipart_uploads", "meta", "client"})
#: methods of a client or socket that never wait on the other end
WAITLESS_METHODS = frozenset(
    {
        "close", "detach", "fileno", "setblocking", "settimeout", "gettimeout", "setsockopt",
        "getsockopt", "getsockname", "bind", "listen", "mount", "load_cert_chain",
        "load_verify_locations", "set_missing_host_key_policy", "load_system_host_keys",
    }
)

#: calls into C code that releases the GIL while it computes: numeric and imaging libraries,
#: compression, hashing (CPython's hashlib releases it for data over 2047 bytes; the size is not
#: known here, so every hashlib call counts), password hashing. Threads running these overlap.
RELEASES_GIL_CALLS = frozenset(
    {
        "numpy.", "scipy.", "pandas.", "polars.", "pyarrow.", "numba.", "numexpr.", "torch.",
        "tensorflow.", "jax.", "sklearn.", "xgboost.", "lightgbm.", "cv2.", "PIL.", "skimage.",
        "imageio.", "shapely.", "hashlib.", "zlib.", "bz2.", "lzma.", "gzip.", "zipfile.",
        "tarfile.", "zstandard.", "lz4.", "brotli.", "cryptography.", "Crypto.", "nacl.",
        "bcrypt.", "argon2.", "blake3.", "xxhash.",
    }
)

#: libraries whose calls compute in Python (or in C that keeps the GIL): CPU work a thread cannot
#: overlap with another thread's
HOLDS_GIL_CALLS = frozenset(
    {
        "statistics.", "heapq.", "difflib.", "fractions.", "sympy.", "networkx.", "bisect.",
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

#: bookkeeping: logging, formatting, paths as strings, dates, containers, URL parsing,
#: serialization, retries. Cheap, and no reason to call work I/O- or CPU-bound either way
BOOKKEEPING_CALLS = frozenset(
    {
        "logging.", "loguru.", "structlog.", "os.path.", "posixpath.", "ntpath.", "os.getpid",
        "os.getppid", "os.environ", "os.getenv", "os.cpu_count", "os.process_cpu_count", "os.fspath",
        "os.sep", "pathlib.PurePath", "pathlib.PurePosixPath", "pathlib.PureWindowsPath",
        "time.", "datetime.", "json.", "uuid.", "random.", "sys.", "traceback.", "warnings.",
        "functools.", "itertools.", "collections.", "contextlib.", "dataclasses.", "typing.",
        "urllib.parse.", "base64.", "binascii.", "struct.", "string.", "textwrap.", "re.",
        "threading.", "queue.", "multiprocessing.", "concurrent.futures.", "signal.",
        "platform.", "getpass.", "copy.", "enum.", "operator.", "pprint.", "math.", "fnmatch.",
        "errno.", "atexit.", "types.", "pickle.", "secrets.", "email.", "mimetypes.", "html.",
        "locale.", "codecs.", "ipaddress.", "shlex.", "argparse.", "configparser.", "stat.",
        "weakref.", "abc.", "tenacity.", "backoff.", "retrying.", "io.StringIO", "io.BytesIO",
    }
)

#: the local disk: cheap next to the network for MPL004, but a wait (the GIL is released) for a
#: thread
LOCAL_IO_CALLS = frozenset({"os.", "pathlib.", "tempfile.", "shutil.", "io.", "glob.", "csv.", "select."})

#: builtins that wait (for the disk, for a user); every other builtin is bookkeeping or, like
#: `eval`, unknown
WAITING_BUILTINS = frozenset({"open", "input"})
UNKNOWN_BUILTINS = frozenset({"eval", "exec", "__import__"})

#: methods that are bookkeeping whatever object they are called on
BOOKKEEPING_METHODS = frozenset(
    {
        # str / bytes
        "strip", "lstrip", "rstrip", "split", "rsplit", "splitlines", "lower", "upper",
        "casefold", "replace", "startswith", "endswith", "format", "format_map", "encode",
        "decode", "find", "rfind", "index", "count", "partition", "rpartition", "zfill",
        "ljust", "rjust", "center", "title", "capitalize", "isdigit", "isalpha", "isspace",
        "removeprefix", "removesuffix", "hex",
        # containers
        "items", "keys", "values", "append", "extend", "insert", "add", "update", "pop",
        "popitem", "setdefault", "copy", "clear", "remove", "discard", "popleft", "appendleft",
        "sort", "reverse",
        # paths and responses as values
        "with_suffix", "with_name", "with_stem", "joinpath", "relative_to", "as_posix", "json",
        "raise_for_status", "getvalue",
        # logging
        "debug", "info", "warning", "warn", "error", "exception", "critical", "log",
        # events, locks and futures that do not wait
        "get_nowait", "put_nowait", "task_done", "set", "is_set", "release", "done", "cancel",
        "cancelled", "add_done_callback", "notify", "notify_all", "is_alive",
        # dates
        "isoformat", "strftime", "timestamp", "total_seconds",
    }
)

#: methods that wait a little: files and paths on the local disk, queues, pipes, locks, events,
#: futures. Cheap next to the network (MPL004), but a thread calling them releases the GIL
WAITING_METHODS = frozenset(
    {
        "read", "write", "readline", "readlines", "writelines", "flush", "seek", "tell",
        "exists", "is_file", "is_dir", "mkdir", "unlink", "rename", "resolve", "read_text",
        "write_text", "read_bytes", "write_bytes", "open", "iterdir", "glob", "rglob", "stat",
        "iter_content", "iter_lines", "put", "send", "recv", "poll", "wait", "acquire",
        "result", "close", "fileno",
    }
)
#: methods that wait when called without a positional argument (`q.get()`, `t.join()`,
#: `q.get(timeout=1)`) and are container or string bookkeeping with one (`d.get(key)`,
#: `", ".join(parts)`)
WAITING_WITHOUT_ARGUMENTS = frozenset({"get", "join"})

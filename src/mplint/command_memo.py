"""The memo of a whole command: a run's exact output and exit code, keyed by what it can depend
on before any option is parsed, answered without importing the command line, the settings or
discovery.

A warm run that finds every result in the cache still pays for click, the settings (the rules'
defaults read from their source), the cache's key of every file and the stat index's folders.
This memo sits in front of all of it (`main`, the console script's entry). Its key is the exact
arguments, the working folder, the environment variables mplint reads (`MPLINT*`, `NO_COLOR`),
whether stdout and stderr are terminals and their encodings, and the interpreter (its path,
version, prefix and `sys.path`) and mplint's own folder. An entry holds everything the run read
besides, checked again on a look-up:

- mplint's own source files' times and LibCST's and click's versions (`identity.py`);
- every `pyproject.toml` the settings' look-up read or could have found (from the working
  folder up to the one in use, or the `--config` file), byte for byte;
- what discovery saw (`observed.py`): each folder's entries, each suffixless file's first
  line, each real path, each named path's kind;
- every file checked or read by the project side, by its stat as the stat index keeps it (size,
  time, inode, when it was read): a file modified within the racy window of that moment
  (`observed.RACY_NS`) is read and hashed again, as is one whose stat changed;
- the project side's folder listings and "is it a folder?" answers (`run_memo.Reads`).

The cache folder is found as the full run finds it: `--cache-dir`, else `$MPLINT_CACHE_DIR`,
else beside the pyproject.toml in use, else in the working folder. The look-up guesses it from
the arguments without parsing them (the last `--cache-dir` or `--config` before `--`, and each
`pyproject.toml` upwards that names mplint); a guess can only miss, never answer from elsewhere:
an entry is written only into the folder the full run used, only when that folder is the one
the look-up guesses, and it records the folder, so an entry found is one the same command made
there, and its recorded `pyproject.toml` files tell that the full run would use it still.

Only a run that read nothing else stores: the cache on, no `-` (standard input), no `--fix`,
`--diff`, `--add-noqa` or `--output-file`, no progress line shown, no file that could not be
read, no folder that could not be listed, no result that could not be kept, and nothing of its
own reads changed under it (mplint's code, the `pyproject.toml` files). `--no-cache` anywhere
in the arguments means no look-up. A damaged entry (its checksum), another folder's or another
key's is a miss; a miss runs the command in full, copies what it writes, and stores it when it
may.
"""

from __future__ import annotations

import io
import marshal
import os
import sys

from mplint import command_record, listings, observed
from mplint.cache_folder import default_folder
from mplint.command_record import Record
from mplint.identity import at_start, libcst_version, source_stamps

TYPE_CHECKING = False  # (typing is not imported: an answer imports nothing it does not use)
if TYPE_CHECKING:
    from typing import Any, Iterable

    from mplint.cache import Cache

FORMAT = 1
FOLDER = "commands"  # in the cache folder


def main(argv: list[str] | None = None) -> None:
    """The console script: answer from the memo when it holds this command, else run it (and
    memoise it when it may). SIGINT and SIGTERM end it as interrupted from this first step on:
    one line and 128 + the signal's number, also while the memo is looked up or click imported
    (`interrupts.py`)."""
    from mplint.interrupts import entry_point

    with entry_point():
        _main(argv)


def _main(argv: list[str] | None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    where = _where(args)
    if where is not None:
        found = _look_up(*where)
        if found is not None:
            _replay(*found)
    record = None
    log: list[tuple[int, bytes]] = []
    if where is not None and _streams_copyable():
        key, folders, chain, config = where
        record = command_record.start(Record(key, folders, chain, config, _own_code(at_start())))
        _copy_streams(log)
    from mplint.cli import main as run_command

    try:
        run_command(argv)
    except SystemExit as stop:
        command_record.start(None)
        if record is not None and type(stop.code) is int:
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
            _store(record, stop.code, log)
        _exit_now(stop.code)
        raise


def _exit_now(code: object) -> None:
    """Exit with `code` at once, without Python's teardown (every module finalised one by one:
    8-10 ms of a run with nothing to parse), when it would do nothing else: an int code, no
    `atexit` callback (multiprocessing's, which joins the workers, among them), no thread but
    this one and no callback of `threading`'s (`concurrent.futures`'), no profiler or tracer
    (`python -m cProfile -o FILE -m mplint` writes FILE once the run returns), and stdout and
    stderr flushed. Anything else returns, and the run exits as Python does (a flush that fails
    reports itself there). Files the run wrote are closed by then (`whole_files.py`, the output
    file's `with`)."""
    if code is None:
        code = 0
    if type(code) is not int or not 0 <= code <= 255:
        return
    if sys.getprofile() is not None or sys.gettrace() is not None:
        return
    import atexit

    callbacks = getattr(atexit, "_ncallbacks", None)  # (CPython's)
    if callbacks is None or callbacks():
        return
    threading = sys.modules.get("threading")
    if threading is not None and (threading.active_count() != 1 or getattr(threading, "_threading_atexits", [None])):
        return
    try:
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        return
    os._exit(code)


# --- The key and where to look ------------------------------------------------------------------


def _where(args: list[str]) -> tuple[str, list[str], list[tuple[str, bytes | None]], str | None] | None:
    """This command's key, the cache folders its entry may be in (the one the full run uses, if
    the guess is right), the `pyproject.toml` files from the working folder up (or `--config`'s)
    as they are now, and `--config`; None: it has no entry (`--no-cache`, `server`, and `-`:
    standard input is never memoised, so neither looked up nor recorded, nor mplint's code read)."""
    if args[:1] == ["server"] or any(arg == "--no-cache" or arg == "-" for arg in args):
        return None
    try:
        cwd = os.getcwd()
    except OSError:
        return None
    cache_dir, config = _named(args, "--cache-dir"), _named(args, "--config")
    chain = _config_chain(cwd, config)
    if cache_dir is not None:
        folders = [os.path.abspath(cache_dir)]
    else:  # as the full run's: beside the --config file, else beside a pyproject.toml that may
        # have a [tool.mplint] table, else here (`$MPLINT_CACHE_DIR` before any of them)
        roots = [os.path.dirname(chain[0][0])] if config is not None else [
            os.path.dirname(path) for path, data in chain if data is not None and b"mplint" in data] + [cwd]
        folders = list(dict.fromkeys(os.path.abspath(default_folder(root)) for root in roots))
    return _key(args, cwd), folders, chain, config


def _named(args: list[str], option: str) -> str | None:
    """The value of the last `option` before `--` (a guess: another option's value may look
    like one, which costs a miss)."""
    value = None
    for index, arg in enumerate(args):
        if arg == "--":
            break
        if arg == option and index + 1 < len(args):
            value = args[index + 1]
        elif arg.startswith(option + "="):
            value = arg[len(option) + 1:]
    return value


def _config_chain(cwd: str, config: str | None) -> list[tuple[str, bytes | None]]:
    """Each `pyproject.toml` the settings may read, with its bytes (None: not a file): the
    `--config` file, else one per folder from `cwd` up to the root (`config.find_config`
    stops at the first with a [tool.mplint] table: `Record` keeps the chain up to it)."""
    if config is not None:
        paths = [os.path.abspath(os.path.join(cwd, config))]
    else:
        paths, folder = [], cwd
        while True:
            paths.append(os.path.join(folder, "pyproject.toml"))
            parent = os.path.dirname(folder)
            if parent == folder:
                break
            folder = parent
    return [(path, _bytes_of(path)) for path in paths]


def _bytes_of(path: str) -> bytes | None:
    if not os.path.isfile(path):
        return None
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError:
        return b"\0cannot be read"  # (the settings fail on it: nothing is stored)


def _key(args: list[str], cwd: str) -> str:
    environment = sorted((name, value) for name, value in os.environ.items()
                         if "MPLINT" in name.upper() or name == "NO_COLOR")
    streams = [(_isatty(stream), getattr(stream, "encoding", None), getattr(stream, "errors", None))
               for stream in (sys.stdout, sys.stderr)]
    return repr((FORMAT, args, cwd, environment, streams, sys.executable, sys.version, sys.prefix, sys.path,
                 os.path.dirname(os.path.abspath(__file__))))


def _isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError, OSError):
        return False


def _entry_path(folder: str, key: str) -> str:
    """The entry's file: named by a 64-bit FNV-1a hash of the key, which the entry holds whole
    (two keys of one name cost a miss, never a wrong answer)."""
    value = 0xCBF29CE484222325
    for byte in key.encode("utf-8", "surrogatepass"):
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return os.path.join(folder, FOLDER, f"{value:016x}.marshal")


def _own_code(read: tuple[str, list[str]] | None = None) -> tuple[str, list[str], tuple[str, int, int] | None]:
    """LibCST's version file, mplint's own source files' times (`read`: as read already), click's
    (the package that writes the output) first file's stat."""
    from importlib.machinery import PathFinder

    spec = PathFinder.find_spec("click")
    click = None
    if spec is not None and spec.origin:
        try:
            status = os.stat(spec.origin)
            click = (spec.origin, status.st_size, status.st_mtime_ns)
        except OSError:
            pass
    libcst, stamps = read if read is not None else (libcst_version(), source_stamps())
    return libcst, stamps, click


# --- The look-up ----------------------------------------------------------------------------------


def _look_up(
    key: str, folders: list[str], chain: list[tuple[str, bytes | None]], config: str | None
) -> tuple[list[tuple[int, bytes]], int] | None:
    """The output and exit code an entry holds, if everything it recorded still stands."""
    for folder in folders:
        data = _read(_entry_path(folder, key))
        if data is None:
            continue
        try:
            if data[0] == FORMAT and data[1] == key and data[2] == folder and _holds(data[3], chain):
                output, code = data[4], data[5]
                if isinstance(output, list) and type(code) is int and all(
                        type(fd) is int and type(chunk) is bytes for fd, chunk in output):
                    return output, code
        except Exception:  # of another shape: a miss (the full run says what is wrong, if anything)
            pass
    return None


def _read(path: str) -> Any:
    try:
        with open(path, "rb") as file:
            raw = file.read()
    except OSError:
        return None
    import zlib

    if len(raw) < 4 or zlib.crc32(raw[4:]) != int.from_bytes(raw[:4], "big"):
        return None  # damaged
    try:
        data = marshal.loads(raw[4:])
    except (ValueError, EOFError, TypeError):
        return None
    return data if isinstance(data, tuple) and len(data) == 6 else None


def _holds(record: Any, chain: list[tuple[str, bytes | None]]) -> bool:
    code, configs, seen, files, absent, folders, dirs = record
    if configs != chain[:len(configs)] or code != _own_code():
        return False  # a pyproject.toml changed (or another is in use); or mplint did
    if not observed.still_seen(seen):
        return False  # discovery would find other files
    if any(os.path.isfile(path) for path in absent):
        return False
    if any(listings.listing(folder) != names for folder, names in folders.items()):
        return False
    if any(os.path.isdir(path) is not is_dir for path, is_dir in dirs.items()):
        return False
    return all(_unchanged(path, *seen) for path, seen in files.items())


def _unchanged(path: str, size: int, mtime_ns: int, inode: int, seen_ns: int, digest: str) -> bool:
    """The file's bytes are those the run read: its stat as then, and not racily clean then; or
    its bytes hashed again."""
    import stat

    try:
        status = os.stat(path)
    except OSError:
        return False
    if observed.stamp(status) == (size, mtime_ns, inode) and not observed.racily_clean(mtime_ns, seen_ns):
        return True
    if not stat.S_ISREG(status.st_mode):
        return False  # (a FIFO is never opened: it could block)
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError:
        return False
    from mplint.digests import sha256_hex

    return sha256_hex(data) == digest


def _replay(output: list[tuple[int, bytes]], code: int) -> None:
    for fd, chunk in output:
        stream = sys.stdout if fd == 1 else sys.stderr
        stream.buffer.write(chunk)
        stream.buffer.flush()
    _exit_now(code)
    sys.exit(code)


# --- Storing a run ------------------------------------------------------------------------------


def _store(record: Record, code: int, log: Iterable[tuple[int, bytes]]) -> None:
    """Memoise the run `record` kept, in the cache folder it used, unless it may not be."""
    folder = record.folder
    if record.refused or not record.finished or folder is None or record.seen.failed:
        return
    if _config_chain(os.getcwd(), record.config)[:len(record.chain)] != record.chain or _own_code() != record.code:
        return  # changed while the run read it
    output: list[tuple[int, bytes]] = []
    for fd, chunk in log:
        if output and output[-1][0] == fd:
            output[-1] = (fd, output[-1][1] + chunk)
        elif chunk:
            output.append((fd, chunk))
    _write(record.cache, _entry_path(folder, record.key), (FORMAT, record.key, folder, record.kept(), output, code))


def _write(cache: Cache, path: str, data: tuple[Any, ...]) -> None:
    import zlib

    from mplint.whole_files import write_whole

    payload = marshal.dumps(data)
    try:
        cache.subfolder(FOLDER)
        write_whole(path, zlib.crc32(payload).to_bytes(4, "big") + payload)
    except (OSError, ValueError):
        pass  # a read-only or full disk costs speed, never output


# --- The output, copied as written ---------------------------------------------------------------


class _Copy(io.BufferedIOBase):
    """A binary stream that writes to another and keeps a copy of what passed (with its fd)."""

    def __init__(self, target: Any, fd: int, log: list[tuple[int, bytes]]) -> None:
        super().__init__()
        self._target, self._fd, self._log = target, fd, log

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._log.append((self._fd, chunk))
        self._target.write(chunk)
        return len(chunk)

    def flush(self) -> None:
        self._target.flush()

    def isatty(self) -> bool:
        return self._target.isatty()

    def fileno(self) -> int:
        return self._target.fileno()


def _streams_copyable() -> bool:
    return all(isinstance(stream, io.TextIOWrapper) and hasattr(stream, "buffer") for stream in (sys.stdout, sys.stderr))


def _copy_streams(log: list[tuple[int, bytes]]) -> None:
    """Route stdout and stderr through copies, each as it was (encoding, errors, buffering)."""
    for name, fd in (("stdout", 1), ("stderr", 2)):
        stream = getattr(sys, name)
        stream.flush()
        copied = io.TextIOWrapper(_Copy(stream.buffer, fd, log), encoding=stream.encoding, errors=stream.errors,
                                  line_buffering=stream.line_buffering, write_through=stream.write_through)
        setattr(sys, name, copied)

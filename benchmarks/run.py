"""How fast mplint is, next to its peers and next to its own floor, on the same files in one run.

    python benchmarks/run.py [--work DIR] [--repeat 5] [--slow-repeat 1] [--tools ...]
                             [--corpora stdlib,sdists,editor] [--baseline OTHER/src] [--markdown]
                             [--rows NAMES] [--skip NAMES]

Run it with the Python whose environment has mplint installed (`pip install -e .`): mplint is run
as `python -m mplint`. The peers (current releases, pinned below) are installed into a virtual
environment of their own under the work folder (default: ~/.cache/mplint-bench), never into
mplint's. The corpora: this interpreter's standard library; the worst case, six libraries built
on multiprocessing whose files nearly all use it (their pinned source distributions, downloaded
with `pip download --no-deps --no-binary :all:`); and editor latency, one file at a time.

Every command of a corpus is run once per round, the rounds one after the other (interleaved, so
that a change of the machine's load touches every row alike), and each figure is the median over
the rounds. CPU is user + system time of the whole process tree (the command and its worker
processes), from `getrusage(RUSAGE_CHILDREN)` in a small parent that runs nothing else; wall time
includes start-up; peak memory is that of the largest process of the tree. The load average is
printed with each corpus: on a shared machine, compare ratios within one run. mplint's bytecode
is compiled first and PYTHONDONTWRITEBYTECODE is dropped, as for an installed tool.

The floor rows are what mplint cannot avoid: start Python, find, read and prefilter every file
("start + read + prefilter"), and then LibCST's parse of the files that pass ("+ parse"). Two
more are the floor of partial parsing's design (`mplint.partial`), where only the code that uses
the API is parsed: LibCST's parse of the text partial parsing keeps of each file that passes,
that text made before the rounds (the reading that chooses it is mplint's own work, outside
the floor), and then also Python's parse of the files partial parsing reads (all that pass but
the large ones of nearly all API code, `partial.dense`), which chooses it.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import generated

PEERS = ["ruff==0.17.6", "flake8==7.5.0", "flake8-bugbear==26.10.27", "pylint==4.1.4"]
SDISTS = [
    "billiard==4.3.2", "multiprocess==0.70.19", "joblib==1.6.0", "loky==3.7.0", "pebble==5.2.3",
    "mpire==2.10.2",
]
#: the editor rows' file that must be parsed (2,101 lines that use multiprocessing)
EDITOR_FILE = "joblib-1.6.0/joblib/parallel.py"
SLOW = ("flake8", "pylint")
# folders no tool should walk into: the stdlib's installed packages are not the stdlib
SKIP = ("site-packages",)

# Run in a child: the floor (no mplint start-up beyond what a run needs, no rules)
# (`kept`, `python+kept`: the next argument is the file of what partial parsing keeps, `kept_texts`:
# a path -> [whether Python's parser reads the file, its blanked text or null where nothing is])
_FLOOR = """
import sys
from mplint.discovery import discover
from mplint.precheck import precheck
mode, paths = sys.argv[1], sys.argv[2:]
if mode != "read" and mode != "parse":
    import json
    with open(paths[0], encoding="utf-8") as file:
        kept = json.load(file)
    paths = paths[1:]
texts = []
for path in discover(paths).files:
    with open(path, "rb") as file:
        ready = precheck(file.read(), path)
    if isinstance(ready, tuple):
        texts.append((path, ready[0]))
if mode != "read" and texts:
    import libcst
    if mode == "python+kept":
        import ast
    for path, text in texts:
        if mode != "parse":
            read_by_python, blanked = kept.get(path, (False, None))
            if read_by_python and mode == "python+kept":
                ast.parse(text)
            text = text if blanked is None else blanked
        try:
            libcst.parse_module(text)
        except Exception:
            pass
"""

# The parent of one measured command: its CPU and peak memory are those of its children only;
# with `--stdin FILE` first, the command reads FILE on its standard input
_MEASURE = """
import json, resource, subprocess, sys, time
command, stdin = sys.argv[1:], subprocess.DEVNULL
if command[0] == "--stdin":
    stdin, command = open(command[1], "rb"), command[2:]
started = time.perf_counter()
done = subprocess.run(command, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
                  "peak_mb": usage.ru_maxrss / 1024, "code": done.returncode,
                  "traceback": b"Traceback" in done.stderr}))
"""


@dataclass
class Row:
    name: str
    command: list[str]
    slow: bool = False
    before: object = None  # called before each run (an emptied cache for a cold run)
    stdin: Path | None = None  # the file the command reads on its standard input
    runs: list[dict] = field(default_factory=list)

    def median(self, key: str) -> float:
        return statistics.median(run[key] for run in self.runs)


def measure(row: Row, env: dict[str, str]) -> None:
    if callable(row.before):
        row.before()
    stdin = ["--stdin", str(row.stdin)] if row.stdin is not None else []
    done = subprocess.run([sys.executable, "-c", _MEASURE, *stdin, *row.command], capture_output=True,
                          text=True, env=env, check=True)
    outcome = json.loads(done.stdout)
    if outcome["traceback"]:
        print(f"  note: {row.name} printed a traceback", file=sys.stderr)
    row.runs.append(outcome)


def peers_venv(work: Path) -> Path:
    venv = work / "peers"
    marker = venv / "installed.txt"
    wanted = "\n".join(sorted(PEERS))
    if not marker.exists() or marker.read_text() != wanted:
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *PEERS], check=True)
        marker.write_text(wanted)
    return venv / "bin"


def sdist_corpus(work: Path) -> Path:
    """The pinned sdists, unpacked into one folder."""
    downloads, tree = work / "sdists", work / "sdist-tree"
    downloads.mkdir(parents=True, exist_ok=True)
    wanted = {spec.replace("==", "-").lower() for spec in SDISTS}
    for spec in SDISTS:
        if not any(p.name.lower().startswith(spec.replace("==", "-").lower() + ".")
                   for p in downloads.iterdir()):
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                            "--no-binary", ":all:", spec, "-d", str(downloads)], check=True)
    if not tree.exists() or {p.name.lower() for p in tree.iterdir()} != wanted:
        shutil.rmtree(tree, ignore_errors=True)
        tree.mkdir()
        for archive in downloads.glob("*.tar.gz"):
            if archive.name[: -len(".tar.gz")].lower() in wanted:
                with tarfile.open(archive) as tar:
                    if sys.version_info >= (3, 12):
                        tar.extractall(tree, filter="data")
                    else:
                        tar.extractall(tree)  # noqa: S202 - pinned archives from PyPI
    return tree


def python_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    found = []
    for folder, folders, files in os.walk(root):
        folders[:] = [f for f in folders if f not in SKIP]
        found += [Path(folder, f) for f in files if f.endswith(".py")]
    return found


def edited(target: Path, work: Path) -> tuple[Path, object]:
    """A file standing for an editor's buffer of `target`, and the hook that edits it before each
    run (one more comment line, never the same twice): no run finds it in the cache."""
    buffer = Path(tempfile.mkstemp(prefix="mplint-buffer-", suffix=".py", dir=work)[1])
    edits = iter(range(1, 1_000_000))

    def edit() -> None:
        buffer.write_bytes(target.read_bytes() + f"\n# edit {next(edits)}\n".encode())

    return buffer, edit


def rows_for(
    target: Path, bin_dir: Path, tools: list[str], work: Path, baseline: Path | None = None
) -> list[Row]:
    """The commands measured on one corpus (a folder, or one file for the editor rows)."""
    python = sys.executable
    cache = Path(tempfile.mkdtemp(prefix="mplint-cache-", dir=work))
    mplint = [python, "-m", "mplint", str(target), "--exit-zero"]
    rows = [
        Row("floor: start + read + prefilter", [python, "-c", _FLOOR, "read", str(target)]),
        Row("floor: + LibCST parse of the files that pass", [python, "-c", _FLOOR, "parse", str(target)]),
    ]
    if target.is_dir():
        kept = kept_texts(target, work)
        rows += [
            Row("floor: + LibCST parse of the code partial parsing keeps",
                [python, "-c", _FLOOR, "kept", str(kept), str(target)]),
            Row("floor: + Python's parse + LibCST parse of the code kept",
                [python, "-c", _FLOOR, "python+kept", str(kept), str(target)]),
        ]
    if baseline is not None:  # another checkout of mplint, for before/after in one run
        old = ["env", f"PYTHONPATH={baseline}", python, "-m", "mplint", str(target), "--exit-zero"]
        old_cache = Path(tempfile.mkdtemp(prefix="mplint-cache-", dir=work))
        rows += [
            Row("baseline mplint cold", [*old, "--cache-dir", str(old_cache)],
                before=lambda: shutil.rmtree(old_cache, ignore_errors=True)),
            Row("baseline mplint warm", [*old, "--cache-dir", str(old_cache)]),
            *_buffer_rows("baseline ", old, target, old_cache, work),
            Row("baseline mplint --jobs 1, no cache", [*old, "--no-cache", "--jobs", "1"]),
        ]
    if "mplint" in tools:
        rows += [
            Row("mplint cold", [*mplint, "--cache-dir", str(cache)],
                before=lambda: shutil.rmtree(cache, ignore_errors=True)),
            Row("mplint warm", [*mplint, "--cache-dir", str(cache)]),
            *_buffer_rows("", mplint, target, cache, work),
            Row("mplint --jobs 1, no cache", [*mplint, "--no-cache", "--jobs", "1"]),
            Row("mplint --jobs 2, no cache", [*mplint, "--no-cache", "--jobs", "2"]),
            # partial parsing switched off, for before/after in one run (docs/performance.md)
            Row("mplint --jobs 1, no cache, whole files", ["env", "MPLINT_NO_PARTIAL=1", *mplint,
                                                         "--no-cache", "--jobs", "1"]),
            Row("mplint --select MPL --jobs 1, no cache", [*mplint, "--select", "MPL", "--no-cache",
                                                           "--jobs", "1"]),
            Row("mplint --select MPL --jobs 1, no cache, whole files", [
                "env", "MPLINT_NO_PARTIAL=1", *mplint, "--select", "MPL", "--no-cache", "--jobs", "1"]),
        ]
    ruff = ruff_command(bin_dir)
    if "ruff" in tools:
        rows += [
            Row("ruff --select E9 (parse only)", [*ruff, "--select", "E9", str(target)]),
            Row("ruff (default rules)", [*ruff, str(target)]),
        ]
    if "flake8" in tools:
        rows.append(Row("flake8 --select=B (bugbear)", [
            str(bin_dir / "flake8"), "--isolated", "--select=B", "--exit-zero",
            f"--extend-exclude={','.join(SKIP)}", str(target)], slow=True))
    if "pylint" in tools:
        rows.append(Row("pylint consider-using-with", [
            str(bin_dir / "pylint"), "--disable=all", "--enable=consider-using-with", "--jobs=0",
            "--exit-zero", "--recursive=y", f"--ignore={','.join(SKIP)}", "--score=n",
            str(target)], slow=True))
    return rows


def kept_texts(target: Path, work: Path) -> Path:
    """A file of what partial parsing keeps of each file of `target` that passes the prefilter,
    checked alone with the default rules (a run over a project parses the files it summarises
    whole: it parses more, never less), for the floor rows of partial parsing's design."""
    from mplint import engine, partial
    from mplint.discovery import discover
    from mplint.precheck import precheck

    threads = any(rule.judges_threads for rule in engine.enabled_rules(None))
    kept: dict[str, tuple[bool, str | None]] = {}
    for path in discover([str(target)]).files:
        ready = precheck(Path(path).read_bytes(), path)
        if isinstance(ready, tuple):
            kept[path] = partial.read(ready[0], threads)
    found = Path(tempfile.mkstemp(prefix="mplint-kept-", suffix=".json", dir=work)[1])
    found.write_text(json.dumps(kept), encoding="utf-8")
    return found


def _buffer_rows(prefix: str, mplint: list[str], target: Path, cache: Path, work: Path) -> list[Row]:
    """For one file (the editor rows): the file as an edited buffer on standard input, its project
    in the cache (the warm row before it filled it), as an editor integration checks it."""
    if target.is_dir():
        return []
    buffer, edit = edited(target, work)
    command = [*mplint[:-2], "-", "--stdin-filename", str(target), "--exit-zero", "--cache-dir", str(cache)]
    return [Row(f"{prefix}mplint - --stdin-filename, the buffer edited", command, before=edit, stdin=buffer)]


def measured_env() -> dict[str, str]:
    env = {**os.environ}
    env.pop("MPLINT_CACHE_DIR", None)
    # as installed, a tool has its bytecode cached: without it every run compiles mplint's source
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def compile_mplint(baseline: Path | None) -> None:
    spec = importlib.util.find_spec("mplint")
    assert spec is not None and spec.submodule_search_locations, "mplint is not installed here"
    folders = [*spec.submodule_search_locations, *([str(baseline)] if baseline else [])]
    for folder in folders:
        subprocess.run([sys.executable, "-m", "compileall", "-q", folder], check=True, env=measured_env())


def run_rounds(rows: list[Row], repeat: int, slow_repeat: int) -> None:
    env = measured_env()
    for round_ in range(max(repeat, slow_repeat)):
        for row in rows:
            if round_ < (slow_repeat if row.slow else repeat):
                measure(row, env)


def ruff_command(bin_dir: Path) -> list[str]:
    """ruff as every row runs it: no configuration of the tree, no cache, findings not failing."""
    return [str(bin_dir / "ruff"), "check", "--isolated", "--no-cache", "--exit-zero", "--quiet"]


def cold_rounds(rows: list[Row], rounds: int, bin_dir: Path, path: str) -> str:
    """`rounds` interleaved rounds of `rows` and of ruff's parse-only run over `path` (mplint's
    bytecode compiled first), as a table of CPU against ruff's, with the load before and after
    (each row keeps its runs)."""
    rows = [*rows, Row("ruff --select E9 (parse only)", [*ruff_command(bin_dir), "--select", "E9", path])]
    compile_mplint(None)
    before = load()
    run_rounds(rows, rounds, rounds)
    return table(f"Cold runs ({before} before, {load()} after)", rows, ["ruff --select E9"], False)


def load() -> str:
    try:
        return "load average " + " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def table(title: str, rows: list[Row], references: list[str], markdown: bool) -> str:
    refs = [next((row for row in rows if row.name.startswith(name)), None) for name in references]
    head = ("what", "CPU s", "wall s", "peak MiB", *(f"CPU x {name}" for name in references), "runs")
    lines = []
    for row in rows:
        cpu = row.median("cpu")
        ratios = [f"{cpu / ref.median('cpu'):.2f}" if ref is not None else "-" for ref in refs]
        lines.append((row.name, f"{cpu:.3f}", f"{row.median('wall'):.3f}",
                      f"{max(run['peak_mb'] for run in row.runs):.0f}", *ratios, str(len(row.runs))))
    if markdown:
        out = [f"**{title}**", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        out += ["| " + " | ".join(line) + " |" for line in lines]
    else:
        widths = [max(len(r[i]) for r in [head, *lines]) for i in range(len(head))]
        out = [title] + ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in [head, *lines]]
    return "\n".join(out)


def machine(bin_dir: Path, tools: list[str]) -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = [f"Python {platform.python_version()}"]
    mplint = subprocess.run([sys.executable, "-m", "mplint", "--version"], capture_output=True, text=True)
    versions.append(mplint.stdout.strip())
    versions.append(f"libcst {importlib.metadata.version('libcst')}")
    versions += [peer.replace("==", " ") for peer in PEERS if peer.split("==")[0].split("-")[0] in tools]
    return f"{cpu}, {cpus} CPUs available, {platform.system()} {platform.release()}\n" + "; ".join(versions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path.home() / ".cache" / "mplint-bench")
    parser.add_argument("--tools", default="mplint,ruff,flake8,pylint")
    parser.add_argument("--corpora", default="stdlib,sdists,editor")
    parser.add_argument("--repeat", type=int, default=5, help="rounds for mplint, ruff and the floor")
    parser.add_argument("--slow-repeat", type=int, default=1, help="rounds for flake8 and pylint")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--baseline", type=Path, metavar="SRC",
                        help="also run the mplint package found in this folder (another checkout's src)")
    parser.add_argument("--rows", metavar="NAMES",
                        help="measure only the rows whose name contains one of these (comma-separated; "
                             "a warm row needs its cold row: `--rows cold,warm,ruff --select`)")
    parser.add_argument("--skip", metavar="NAMES",
                        help="leave out the rows whose name contains one of these (comma-separated)")
    args = parser.parse_args()
    tools, corpora = args.tools.split(","), args.corpora.split(",")
    only = args.rows.split(",") if args.rows else None
    skipped = args.skip.split(",") if args.skip else []
    args.work.mkdir(parents=True, exist_ok=True)
    bin_dir = peers_venv(args.work) if set(tools) - {"mplint"} else Path()
    targets: list[tuple[str, Path, list[str]]] = []
    if "stdlib" in corpora:
        targets.append(("This interpreter's standard library", Path(sysconfig.get_paths()["stdlib"]), tools))
    if "sdists" in corpora or "editor" in corpora:
        tree = sdist_corpus(args.work)
        if "sdists" in corpora:
            targets.append(("Worst case: " + ", ".join(s.replace("==", " ") for s in SDISTS), tree, tools))
        if "editor" in corpora:
            nothing = args.work / "editor" / "nothing_to_parse.py"
            nothing.parent.mkdir(exist_ok=True)
            nothing.write_text("x = 1\n")
            fast = [tool for tool in tools if tool not in SLOW]
            targets.append((f"Editor: one file that must be parsed ({EDITOR_FILE})", tree / EDITOR_FILE, fast))
            script = args.work / "editor" / "script_with_a_guard_fix.py"
            script.write_text(generated.module(2000))
            targets.append(("Editor: a script with a guard fix (generated, as server_latency.py's)", script, fast))
            targets.append(("Editor: one file with nothing to parse (`x = 1`)", nothing, fast))
    compile_mplint(args.baseline)
    print(machine(bin_dir, tools))
    for title, target, corpus_tools in targets:
        files = python_files(target)
        lines = sum(p.read_bytes().count(b"\n") for p in files)
        rows = rows_for(target, bin_dir, corpus_tools, args.work, args.baseline)
        if only is not None:
            rows = [row for row in rows if any(name in row.name for name in only)]
        rows = [row for row in rows if not any(name in row.name for name in skipped)]
        before = load()
        run_rounds(rows, args.repeat, args.slow_repeat)
        print()
        print(table(f"{title} ({len(files):,} files, {lines:,} lines; {before} before, {load()} after)",
                    rows, ["ruff --select E9", "floor: + LibCST parse"], args.markdown))
        for row in rows:
            if callable(row.before):
                row.before()


if __name__ == "__main__":
    main()

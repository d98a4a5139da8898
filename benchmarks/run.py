"""How fast mplint is, next to its peers, on the same files in the same run.

    python benchmarks/run.py [--work DIR] [--tools mplint,ruff,flake8,pylint] [--no-sdists] [--markdown]

Run it with the Python whose environment has mplint installed (`pip install -e .`): mplint is run
as `python -m mplint`. The peers are installed, at pinned versions, into a virtual environment of
their own under the work folder (default: ~/.cache/mplint-bench), never into mplint's. The corpora:
this interpreter's standard library, and a few pinned source distributions from PyPI that use
multiprocessing heavily, downloaded there with `pip download --no-deps --no-binary :all:`.

Every tool gets every CPU: mplint and pylint their default and `--jobs=0`, flake8 its default
(`--jobs=auto`), ruff its threads. mplint runs cold (an empty cache folder) and then warm (the same
folder again); ruff runs without its cache. Each figure is the best of `--repeat` runs (default 1
for the slow peers). Wall times include each tool's start-up, as a user would see them.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PEERS = {
    "ruff": "ruff==0.8.6",
    "flake8": "flake8==7.1.1",
    "flake8-bugbear": "flake8-bugbear==24.10.31",
    "pylint": "pylint==3.3.3",
}
SDISTS = ["billiard==4.2.1", "multiprocess==0.70.17", "joblib==1.4.2", "pebble==5.1.0"]
# folders no tool should walk into: the stdlib's installed packages are not the stdlib
SKIP = ("site-packages",)


@dataclass
class Measure:
    tool: str
    seconds: float
    exit_code: int


def run(command: list[str], *, repeat: int = 1, env: dict[str, str] | None = None,
        before: object = None) -> tuple[float, int]:
    best = float("inf")
    code = 0
    for _ in range(repeat):
        if callable(before):
            before()
        started = time.perf_counter()
        done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        best = min(best, time.perf_counter() - started)
        code = done.returncode
        if "Traceback" in done.stderr.decode(errors="replace"):
            print(f"  note: {command[0]} printed a traceback", file=sys.stderr)
    return best, code


def peers_venv(work: Path) -> Path:
    venv = work / "peers"
    marker = venv / "installed.txt"
    wanted = "\n".join(sorted(PEERS.values()))
    if not marker.exists() or marker.read_text() != wanted:
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *PEERS.values()], check=True)
        marker.write_text(wanted)
    return venv / "bin"


def sdist_corpus(work: Path) -> Path:
    """The pinned sdists, unpacked into one folder."""
    downloads, tree = work / "sdists", work / "sdist-tree"
    downloads.mkdir(parents=True, exist_ok=True)
    for spec in SDISTS:
        name = spec.split("==")[0].lower()
        if not any(p.name.lower().startswith(f"{name}-{spec.split('==')[1]}") for p in downloads.iterdir()):
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                            "--no-binary", ":all:", spec, "-d", str(downloads)], check=True)
    if not tree.exists():
        tree.mkdir()
        for archive in downloads.glob("*.tar.gz"):
            with tarfile.open(archive) as tar:
                tar.extractall(tree, filter="data") if sys.version_info >= (3, 12) else tar.extractall(tree)  # noqa: S202
    return tree


def python_files(root: Path) -> list[Path]:
    found = []
    for folder, folders, files in os.walk(root):
        folders[:] = [f for f in folders if f not in SKIP]
        found += [Path(folder, f) for f in files if f.endswith(".py")]
    return found


def measure_corpus(root: Path, bin_dir: Path, tools: list[str], repeat: int, work: Path) -> list[Measure]:
    results = []
    cache = Path(tempfile.mkdtemp(prefix="mplint-cache-", dir=work))
    env = {**os.environ}
    env.pop("MPLINT_CACHE_DIR", None)
    mplint = [sys.executable, "-m", "mplint", str(root), "--exit-zero", "--cache-dir", str(cache)]
    if "mplint" in tools:
        seconds, code = run(mplint, repeat=repeat, env=env, before=lambda: shutil.rmtree(cache, ignore_errors=True))
        results.append(Measure("mplint (cold)", seconds, code))
        seconds, code = run(mplint, repeat=repeat, env=env)
        results.append(Measure("mplint (warm)", seconds, code))
        seconds, code = run([sys.executable, "-m", "mplint", str(root), "--exit-zero", "--no-cache", "--jobs", "1"],
                            repeat=repeat, env=env)
        results.append(Measure("mplint --jobs 1", seconds, code))
    if "ruff" in tools:
        seconds, code = run([str(bin_dir / "ruff"), "check", "--isolated", "--no-cache", "--exit-zero",
                             "--quiet", str(root)], repeat=max(repeat, 3))
        results.append(Measure("ruff (no cache)", seconds, code))
    if "flake8" in tools:
        seconds, code = run([str(bin_dir / "flake8"), "--isolated", "--select=B", "--exit-zero",
                             f"--extend-exclude={','.join(SKIP)}", str(root)], repeat=repeat)
        results.append(Measure("flake8 --select=B (bugbear)", seconds, code))
    if "pylint" in tools:
        seconds, code = run([str(bin_dir / "pylint"), "--disable=all", "--enable=consider-using-with",
                             "--jobs=0", "--exit-zero", "--recursive=y", f"--ignore={','.join(SKIP)}",
                             "--score=n", str(root)], repeat=repeat)
        results.append(Measure("pylint consider-using-with", seconds, code))
    shutil.rmtree(cache, ignore_errors=True)
    return results


def table(title: str, files: int, lines: int, measures: list[Measure], markdown: bool) -> str:
    cold = next((m.seconds for m in measures if m.tool == "mplint (cold)"), None)
    rows = []
    for m in measures:
        ratio = f"{m.seconds / cold:.2f}" if cold else "-"
        rows.append((m.tool, f"{m.seconds:.2f}", f"{files / m.seconds:,.0f}", ratio))
    head = ("tool", "wall s", "files/s", "x mplint cold")
    if markdown:
        out = [f"**{title}** ({files:,} files, {lines:,} lines)", "",
               "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        out += ["| " + " | ".join(row) + " |" for row in rows]
    else:
        widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
        out = [f"{title}: {files:,} files, {lines:,} lines"]
        out += ["  " + "  ".join(str(c).ljust(w) for c, w in zip(row, widths)) for row in [head, *rows]]
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
    for tool in ("ruff", "flake8", "pylint"):
        if tool in tools:
            out = subprocess.run([str(bin_dir / tool), "--version"], capture_output=True, text=True).stdout
            first = out.split()[1] if tool != "flake8" else out.split()[0]
            versions.append(f"{tool} {first}")
    if "flake8" in tools:
        versions.append(f"flake8-bugbear {PEERS['flake8-bugbear'].split('==')[1]}")
    return f"{cpu}, {cpus} CPUs available, {platform.system()} {platform.release()}\n" + "; ".join(versions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path.home() / ".cache" / "mplint-bench")
    parser.add_argument("--tools", default="mplint,ruff,flake8,pylint")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--no-sdists", action="store_true")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    tools = args.tools.split(",")
    args.work.mkdir(parents=True, exist_ok=True)
    bin_dir = peers_venv(args.work) if set(tools) - {"mplint"} else Path()
    corpora = [("standard library", Path(sysconfig.get_paths()["stdlib"]))]
    if not args.no_sdists:
        corpora.append(("sdists: " + ", ".join(SDISTS), sdist_corpus(args.work)))
    print(machine(bin_dir, tools))
    for title, root in corpora:
        files = python_files(root)
        lines = sum(p.read_bytes().count(b"\n") for p in files)
        measures = measure_corpus(root, bin_dir, tools, args.repeat, args.work)
        print()
        print(table(title, len(files), lines, measures, args.markdown))


if __name__ == "__main__":
    main()

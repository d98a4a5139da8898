"""The methods `dataclasses` generates, compiled once and kept between runs (`dataclass_code.py`):
a class made from kept code is the class compiling makes, nothing else is touched, and a file
that cannot be read as kept is compiled again."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest
from mplint import dataclass_code

PROBE = textwrap.dedent(
    """
    from dataclasses import dataclass, field

    @dataclass(frozen=True, order=True)
    class Point:
        x: int
        y: int = 0
        tags: tuple = field(default=(), compare=False)

    @dataclass
    class Box:
        items: list = field(default_factory=list)
        name: str = "box"

    @dataclass(frozen=True, slots=True)
    class Slotted:
        a: int
        b: "str" = "b"

    @dataclass(eq=False, repr=False)
    class Plain:
        value: object = None
    """
)

CLASSES = ("Point", "Box", "Slotted", "Plain")
METHODS = ("__init__", "__repr__", "__eq__", "__lt__", "__le__", "__gt__", "__ge__", "__hash__",
           "__setattr__", "__delattr__")


def _define(name: str) -> dict[str, object]:
    """The probe's classes, defined in a module `name` (registered while they are made: a
    string annotation is looked up in it)."""
    module = types.ModuleType(name)
    previous = sys.modules.get(name)
    sys.modules[name] = module
    try:
        exec(compile(PROBE, f"<{name}>", "exec", dont_inherit=True), vars(module))
    finally:
        if previous is None:
            del sys.modules[name]
        else:
            sys.modules[name] = previous
    return vars(module)


def _codes(namespace: dict[str, object]) -> dict[tuple[str, str], object]:
    found = {}
    for cls_name in CLASSES:
        cls = namespace[cls_name]
        for method in METHODS:
            function = cls.__dict__.get(method)
            if function is not None and hasattr(function, "__code__"):
                found[cls_name, method] = function.__code__
    return found


@pytest.fixture
def kept_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The files in a folder of the test's, written (whatever the environment says of bytecode),
    and nothing remembered from the process's own imports."""
    monkeypatch.setattr(dataclass_code, "FOLDER", str(tmp_path))
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    for table in (dataclass_code._read, dataclass_code._used, dataclass_code._compiled):
        monkeypatch.setattr(dataclass_code, table_name(table), {})
    return tmp_path


def table_name(table: dict) -> str:
    return next(name for name in ("_read", "_used", "_compiled") if getattr(dataclass_code, name) is table)


def _compilations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts `dataclass_code` compiles from now on."""
    asked: list[str] = []

    def counting(source, *args, **kwargs):
        asked.append(source)
        return compile(source, *args, **kwargs)

    monkeypatch.setattr(dataclass_code, "compile", counting, raising=False)
    return asked


def test_classes_made_from_kept_code_are_those_compiling_makes(kept_here: Path, monkeypatch) -> None:
    plain = _codes(_define("mplint.probe"))
    compiled = _compilations(monkeypatch)
    with dataclass_code.kept():
        first = _define("mplint.probe")
    assert compiled  # the first time, every text is compiled...
    assert [path.name for path in kept_here.iterdir()] == [
        f"dataclass-code.mplint.probe.{sys.implementation.cache_tag}.marshal"]  # ...and kept
    for table in (dataclass_code._read, dataclass_code._used):  # as a new process would start
        table.clear()
    compiled.clear()
    with dataclass_code.kept():
        second = _define("mplint.probe")
    assert compiled == []  # the second time, none is
    assert _codes(first) == _codes(second) == plain
    assert len(plain) >= 15  # the probe makes methods of every kind compared
    # and they work as dataclasses' own
    point = second["Point"](1, 2, tags=("t",))
    assert (point.x, point.y, point.tags) == (1, 2, ("t",))
    assert point == second["Point"](1, 2) and point < second["Point"](2)
    assert repr(point) == "Point(x=1, y=2, tags=('t',))"
    with pytest.raises(dataclasses.FrozenInstanceError):
        point.x = 3
    assert second["Box"]().items == [] and second["Box"]().items is not second["Box"]().items
    assert second["Slotted"](1).__slots__ == ("a", "b")


def test_outside_a_window_dataclasses_is_as_it_was(kept_here: Path) -> None:
    with dataclass_code.kept():
        with dataclass_code.kept():
            assert vars(dataclasses)["exec"] is dataclass_code._exec
        assert vars(dataclasses)["exec"] is dataclass_code._exec  # the outer one is still open
    assert "exec" not in vars(dataclasses)
    with pytest.raises(RuntimeError), dataclass_code.kept():
        raise RuntimeError("a failed import")
    assert "exec" not in vars(dataclasses)


def test_only_libcst_and_mplint_classes_are_kept(kept_here: Path, monkeypatch) -> None:
    compiled = _compilations(monkeypatch)
    with dataclass_code.kept():
        elsewhere = _define("somebody.elses")
    assert compiled  # compiled as `exec` does...
    assert list(kept_here.iterdir()) == [] and not dataclass_code._read  # ...neither looked up nor kept
    assert elsewhere["Point"](1) == elsewhere["Point"](1, 0)


def test_a_file_that_cannot_be_read_as_kept_is_compiled_again(kept_here: Path, monkeypatch) -> None:
    with dataclass_code.kept():
        _define("mplint.probe")
    (path,) = kept_here.iterdir()
    plain = _codes(_define("mplint.probe"))
    for damaged in (b"", b"not marshal", b"\0\0\0\0" + path.read_bytes()[4:], path.read_bytes()[:100]):
        path.write_bytes(damaged)
        for table in (dataclass_code._read, dataclass_code._used):
            table.clear()
        compiled = _compilations(monkeypatch)
        with dataclass_code.kept():
            again = _define("mplint.probe")
        assert compiled, damaged[:12]  # nothing was taken from it
        assert _codes(again) == plain
        assert path.read_bytes()[:4] == dataclass_code._magic()  # and it is whole again


def test_a_read_only_folder_is_left_as_it_is(kept_here: Path, monkeypatch) -> None:
    # (root writes into a folder whose mode says read-only: the refusal is the system's answer)
    from mplint import whole_files

    def refused(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(whole_files.os, "open", refused)
    with dataclass_code.kept():
        made = _define("mplint.probe")
    assert list(kept_here.iterdir()) == []
    assert made["Point"](1).y == 0


def test_a_folder_that_cannot_be_written_is_left_as_it_is(kept_here: Path, monkeypatch) -> None:
    # (the folder is a file: whoever runs the tests, root included, cannot write in it)
    blocked = kept_here / "blocked"
    blocked.write_text("a file, not a folder")
    monkeypatch.setattr(dataclass_code, "FOLDER", str(blocked / "__pycache__"))
    with dataclass_code.kept():
        made = _define("mplint.probe")
    assert sorted(path.name for path in kept_here.iterdir()) == ["blocked"]
    assert blocked.read_text() == "a file, not a folder"
    assert made["Point"](1) == made["Point"](1, 0)


def test_files_are_written_only_in_mplints_own_bytecode_folder() -> None:
    import mplint

    assert dataclass_code.FOLDER == os.path.join(os.path.dirname(mplint.__file__), "__pycache__")
    assert dataclass_code._file_of("libcst._nodes.expression").startswith(dataclass_code.FOLDER + os.sep)


def test_nothing_is_written_where_python_writes_no_bytecode(kept_here: Path, monkeypatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    with dataclass_code.kept():
        made = _define("mplint.probe")
    assert list(kept_here.iterdir()) == []
    assert made["Point"](1).y == 0


def test_a_text_asked_with_future_flags_is_compiled_with_them(kept_here: Path) -> None:
    # (this module compiles with `from __future__ import annotations`: an annotation stays a string)
    namespace: dict[str, object] = {"__name__": "mplint.probe"}
    dataclass_code._exec("def f(x: int) -> None: pass", namespace, namespace)
    assert namespace["f"].__annotations__ == {"x": "int", "return": "None"}
    namespace = {"__name__": "mplint.probe"}
    exec(compile("import mplint.dataclass_code as k\nk._exec('def g(x: int): pass', globals())",
                 "<plain>", "exec", dont_inherit=True), namespace)
    assert namespace["g"].__annotations__ == {"x": int}


@pytest.mark.slow
def test_runs_writing_at_once_leave_whole_files(tmp_path: Path) -> None:
    """Four processes define the same classes at once into an empty folder: each file they leave
    is whole (written to a temporary file, then renamed), and a fifth run reads it all."""
    program = textwrap.dedent(
        """
        import sys, types
        from mplint import dataclass_code
        dataclass_code.FOLDER = sys.argv[1]
        sys.dont_write_bytecode = False
        module = types.ModuleType("mplint.probe")
        sys.modules["mplint.probe"] = module
        compiled = []
        def counting(text, *args, **kwargs):
            compiled.append(text)
            return compile(text, *args, **kwargs)
        dataclass_code.compile = counting
        with dataclass_code.kept():
            exec(compile(sys.argv[2], "<probe>", "exec", dont_inherit=True), vars(module))
        print(len(compiled), len(dataclass_code._used["mplint.probe"]))
        """
    )
    command = [sys.executable, "-c", program, str(tmp_path), PROBE]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(4)]
    counts = set()
    for run in runs:
        out, _ = run.communicate(timeout=120)
        assert run.returncode == 0
        counts.add(tuple(map(int, out.split())))
    texts = {used for _, used in counts}
    assert len(texts) == 1 and texts.pop() >= len(CLASSES)  # every run made every class...
    assert all(compiled in (0, used) for compiled, used in counts), counts  # ...from a whole file, or none
    assert not [path for path in tmp_path.iterdir() if path.name.endswith(".tmp")]
    assert len(list(tmp_path.iterdir())) == 1
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    compiled, used = map(int, done.stdout.split())
    assert compiled == 0 and used == int(out.split()[1])  # every text read from the file the four left


@pytest.mark.slow
def test_libcst_classes_made_from_kept_code_are_those_compiling_makes(tmp_path: Path) -> None:
    """LibCST's node classes, in fresh processes: without the kept code, then writing it, then
    reading it, their generated methods are the same code."""
    program = textwrap.dedent(
        """
        import sys
        from mplint import dataclass_code
        dataclass_code.FOLDER = sys.argv[1]
        if sys.argv[2] == "kept":
            with dataclass_code.kept():
                import libcst
        else:
            import libcst
        import dataclasses

        def shown(value):  # a set's order is that of its making, as in a module's bytecode read back
            if isinstance(value, (frozenset, set)):
                return "{" + ", ".join(sorted(map(shown, value))) + "}"
            if isinstance(value, tuple):
                return "(" + ", ".join(map(shown, value)) + ")"
            return repr(value)

        for name in sorted(dir(libcst)):
            cls = getattr(libcst, name)
            if isinstance(cls, type) and dataclasses.is_dataclass(cls):
                for method in sorted(vars(cls)):
                    code = getattr(vars(cls)[method], "__code__", None)
                    if code is not None and code.co_filename == "<string>":
                        print(name, method, getattr(code, "co_qualname", code.co_name), code.co_code.hex(), shown(code.co_consts),
                              code.co_names, code.co_varnames, code.co_firstlineno)
        """
    )
    env = {**os.environ, "PYTHONHASHSEED": "0"}  # (a set of strings among the constants: their order)
    env.pop("PYTHONDONTWRITEBYTECODE", None)

    def classes(how: str) -> str:
        done = subprocess.run([sys.executable, "-c", program, str(tmp_path), how], capture_output=True,
                              text=True, env=env, timeout=120, check=True)
        return done.stdout

    plain = classes("plain")
    assert plain.count("\n") > 500  # LibCST's nodes' methods are all there
    assert classes("kept") == plain  # compiled, and written
    assert any(tmp_path.iterdir())
    assert classes("kept") == plain  # read

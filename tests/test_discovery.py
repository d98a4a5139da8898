from __future__ import annotations

import os

from mplint.discovery import discover


def touch(root, *names):
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")


def test_walks_for_py_files_in_a_stable_order_skipping_non_source_folders(tmp_path, monkeypatch):
    touch(tmp_path, "b.py", "a.py", "z/a.py", "m/n/c.py", "notes.txt", "stub.pyi",
          ".git/x.py", ".venv/lib/x.py", "venv/x.py", ".tox/x.py", ".nox/x.py", "build/x.py", "dist/x.py",
          "__pycache__/x.py", "node_modules/x.py", "lib/site-packages/x.py", ".eggs/x.py", "pkg.egg-info/x.py",
          ".mplint_cache/x.py")
    monkeypatch.chdir(tmp_path)
    found = discover(["."])
    assert found.files == ["a.py", "b.py", "m/n/c.py", "z/a.py"]
    assert found.errors == []
    assert discover(["."]).files == found.files


def test_named_paths_keep_their_order_and_each_file_is_listed_once(tmp_path, monkeypatch):
    touch(tmp_path, "a.py", "pkg/b.py", "script")
    monkeypatch.chdir(tmp_path)
    found = discover(["pkg", "script", "a.py", "./a.py", "pkg/b.py", "."])
    assert found.files == ["pkg/b.py", "script", "a.py"]


def test_a_named_folder_is_walked_even_if_its_name_is_skipped(tmp_path, monkeypatch):
    touch(tmp_path, "build/gen.py", "build/build/inner.py")
    monkeypatch.chdir(tmp_path)
    assert discover(["build"]).files == ["build/gen.py"]


def test_excluded_paths_are_pruned_but_named_files_are_kept(tmp_path, monkeypatch):
    touch(tmp_path, "keep.py", "gen/a.py", "pkg/skip_me.py", "pkg/ok.py")
    monkeypatch.chdir(tmp_path)
    seen = []

    def excluded(path):
        seen.append(path)
        return os.path.basename(path) in {"gen", "skip_me.py"}

    assert discover(["."], excluded).files == ["keep.py", "pkg/ok.py"]
    assert os.path.join(".", "gen") in seen  # the folder itself was pruned ...
    assert not any(p.endswith("a.py") for p in seen)  # ... so nothing under it was looked at
    assert discover(["pkg/skip_me.py"], excluded).files == ["pkg/skip_me.py"]


def test_a_missing_path_is_an_error_not_an_exception(tmp_path, monkeypatch):
    touch(tmp_path, "a.py")
    monkeypatch.chdir(tmp_path)
    found = discover(["nothere", "a.py"])
    assert found.files == ["a.py"]
    assert [str(e) for e in found.errors] == ["nothere: no such file or directory"]


def test_symlinks(tmp_path, monkeypatch):
    touch(tmp_path, "real/a.py")
    os.symlink(tmp_path / "real", tmp_path / "linked")  # a folder link: not followed
    os.symlink(tmp_path / "missing.py", tmp_path / "broken.py")  # listed; reading it will fail
    os.symlink(tmp_path / "real" / "a.py", tmp_path / "alias.py")  # the same file as real/a.py
    monkeypatch.chdir(tmp_path)
    assert discover(["."]).files == ["alias.py", "broken.py"]
    assert discover(["real", "alias.py"]).files == ["real/a.py"]


def test_a_file_reached_through_a_folder_link_and_its_real_folder_is_listed_once(tmp_path, monkeypatch):
    touch(tmp_path, "real/a.py")
    touch(tmp_path, "real/sub/b.py")
    os.symlink(tmp_path / "real", tmp_path / "linked")
    os.symlink(tmp_path / "real" / "a.py", tmp_path / "real" / "sub" / "alias.py")
    monkeypatch.chdir(tmp_path)
    assert discover(["linked", "real"]).files == ["linked/a.py", "linked/sub/b.py"]
    assert discover(["real/sub", "linked"]).files == ["real/sub/alias.py", "real/sub/b.py"]

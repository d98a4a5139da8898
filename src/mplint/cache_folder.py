"""Where the cache is: `--cache-dir`, else `$MPLINT_CACHE_DIR`, else `.mplint_cache` beside the
pyproject.toml in use, else in the current folder. Apart from `cache.py` so that the command
memo (`command_memo.py`) finds it before anything else is imported."""

from __future__ import annotations

import os

ENV_VAR = "MPLINT_CACHE_DIR"
DEFAULT_FOLDER = ".mplint_cache"


def default_folder(root: str | os.PathLike[str]) -> str:
    """The cache folder of a run whose configuration's folder (or current folder) is `root`, when
    no `--cache-dir` is given."""
    return os.environ.get(ENV_VAR) or os.path.join(root, DEFAULT_FOLDER)

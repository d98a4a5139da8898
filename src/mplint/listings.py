"""What a run saw of the project's folders: each listing read and each "is it a folder?"
answered. The resolver lists folders through `listing`; the two memos (`run_memo.py`,
`project/memo.py`) record what it saw (`recorded`) and, on a look-up, whether the file system
still shows the same (`still_seen`): a module added beside the others, a package that shadows a
module, a folder renamed or a new project root changes one of them. A folder asked about a few
names only is recorded as that view of its listing (`view`)."""

from __future__ import annotations

import os

TYPE_CHECKING = False  # (typing is not imported: the command memo's look-up lists folders here)
if TYPE_CHECKING:
    from typing import Callable, Iterable, Mapping


#: between a folder and names in a key that stands for a view of the folder's listing (`view`)
VIEW = "\0"


def view(folder: str, names: Iterable[str]) -> str:
    """The key of the names among `names` that `folder` holds: what a question of those names
    only (is a project root marker there?) is recorded as, so that another name coming or going
    (a busy folder above a project, `/tmp`) does not change it (names hold no `/`)."""
    return folder + VIEW + "/".join(sorted(names))


def listing(folder: str) -> frozenset[str]:
    """A folder's names (none when it cannot be listed); for a `view` key, those of its names."""
    folder, _, names = folder.partition(VIEW)
    try:
        found = frozenset(os.listdir(folder))
    except OSError:
        return frozenset()
    return found & frozenset(names.split("/")) if names else found


def digest(names: Iterable[str]) -> str:
    from mplint.digests import sha256_hex

    return sha256_hex("\0".join(sorted(names)).encode("utf-8", "surrogatepass"))


def recorded(listings: Mapping[str, Iterable[str]], dirs: Mapping[str, bool]) -> tuple[dict[str, str], dict[str, bool]]:
    """What a memo keeps of them: each listing by a hash of its names, each answer as it was."""
    return {folder: digest(names) for folder, names in sorted(listings.items())}, dict(sorted(dirs.items()))


def still_seen(
    listings: object, dirs: object, entries: Callable[[str], Iterable[str]] = listing,
    is_dir: Callable[[str], bool] = os.path.isdir,
) -> bool:
    """The folders list and answer today as a memo recorded them (`recorded`'s two tables, as
    read back: a record of another shape is not)."""
    if not (isinstance(listings, dict) and isinstance(dirs, dict)):
        return False
    if any(digest(entries(folder)) != seen for folder, seen in listings.items()):
        return False  # a module or folder came, went or was renamed
    return all(type(seen) is bool and is_dir(path) is seen for path, seen in dirs.items())

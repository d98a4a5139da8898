"""SHA-256, the digest of the cache's keys, the stat index and the memos, without paying for
hashlib at every start.

`import hashlib` loads OpenSSL's module and builds a constructor for each of its algorithms
(about 3 ms of a run); a run that hashes a few short texts (the linter's fingerprint, one small
file, a folder's name) spends less with CPython's own SHA-256 module, which is imported in a
tenth of that but hashes about six times slower. So the first `BUILTIN_BYTES` hashed in a
process go through the builtin module, and anything more through hashlib's. Both compute
SHA-256: the digests are the same whichever hashed them.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # (typing is not imported: the command memo's look-up may hash a file)
if TYPE_CHECKING:
    from typing import Any, Callable

#: what the builtin module hashes before hashlib's faster one is imported (at about 6 ms/MB more,
#: the bytes that cost what hashlib's import does)
BUILTIN_BYTES = 1 << 18

_hashed = 0
_openssl: Callable[..., Any] | None = None
_builtin: Callable[..., Any] | None = None


def sha256(data: bytes = b"") -> Any:
    """A SHA-256 hash object holding `data` (more may be added with `update`, as hashlib's)."""
    global _hashed, _openssl, _builtin
    if _openssl is None:
        _hashed += len(data)
        if _hashed <= BUILTIN_BYTES:
            if _builtin is None:
                _builtin = _builtin_sha256()
            if _builtin is not None:
                return _builtin(data)
        import hashlib

        _openssl = hashlib.sha256
    return _openssl(data)


def sha256_hex(data: bytes) -> str:
    return sha256(data).hexdigest()


def _builtin_sha256() -> Callable[..., Any] | None:
    try:
        if sys.version_info >= (3, 12):
            from _sha2 import sha256 as builtin
        else:
            from _sha256 import sha256 as builtin
    except ImportError:  # a build without it: hashlib's
        return None
    return builtin

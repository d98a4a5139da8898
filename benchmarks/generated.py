"""The generated module the editor benchmarks check: a script of about `lines` lines whose pool
is made at module level (so it has an MPL001 finding with the guard fix), and functions that do
not touch the API. Used by `server_latency.py` and by `run.py`'s editor rows."""

from __future__ import annotations

_HEADER = '''import multiprocessing
import os


def square(x):
    return x * x

'''

_FUNCTION = '''
def step_{n}(values, scale={n}):
    total = 0
    for index, value in enumerate(values):
        if value % 3 == 0:
            total += value * scale
        elif value % 5 == 0:
            total -= index
        else:
            total += len(str(value))
    return {{"step": {n}, "total": total, "pid": os.getpid()}}

'''

_FOOTER = '''
with multiprocessing.Pool(2) as pool:
    print(pool.map(square, range(10)))
'''


def module(lines: int) -> str:
    body, n = [_HEADER], 0
    while sum(part.count("\n") for part in body) < lines - 4:
        body.append(_FUNCTION.format(n=n))
        n += 1
    return "".join(body) + _FOOTER

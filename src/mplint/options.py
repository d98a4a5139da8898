"""Settings that change what rules look for, handed to every rule by the engine.

The configuration (`[tool.mplint]`) and the command line fill it in; library callers may build
one themselves. It is a frozen dataclass so that it pickles into mplint's own worker processes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RuleOptions:
    #: more callables that block on I/O for MPL004 (`io-bound-process`), as qualified-name
    #: prefixes ending with "." (`"mycompany.http."`) or exact names (`"mycompany.rpc.call"`)
    io_bound_calls: tuple[str, ...] = ()
    #: the project runs on a free-threaded build: threads run Python code in parallel (MPL024)
    free_threaded: bool = False


DEFAULT_OPTIONS = RuleOptions()

"""MPL020: an object held in a manager dict, list or Namespace proxy changed in place: the change is lost."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from mplint import apis
from mplint.facts import HeldChange, ModuleFacts
from mplint.rules.base import Report, Rule


class ProxyNestedMutation(Rule):
    """Finds in-place changes of an object held inside a manager `dict` or `list` proxy
    (`manager.dict()`, `manager.list()`): a mutating method called on an item (`d[k].append(x)`,
    `d[k].update(...)`, `d.setdefault(k, []).append(x)`), an item or attribute assigned on it
    (`d[k][j] = v`, `d[k][j] += 1`, `items[i].attr = v`, `del d[k][j]`), and the same on an
    attribute of a `Namespace` proxy (`ns.items.append(x)`). The proxy is followed through names,
    `self` attributes, and the arguments of helpers and workers. Storing the result back through
    the proxy (`d[k] = d[k] + [x]`, `d[k] += [x]`, `ns.items = ns.items + [x]`) is not reported,
    nor are proxies whose items are proxies themselves (`d[k] = manager.list()`, then
    `d[k].append(x)`), nor plain dicts and lists."""

    code = "MPL020"
    name = "proxy-nested-mutation"
    summary = "An object held in a manager dict/list/Namespace proxy changed in place: the proxy hands out a copy and the change is lost"
    why = (
        "A manager's `dict`, `list` and `Namespace` live in the manager's server process; the "
        "proxy forwards each operation there. Reading an item (`d[k]`, `d.get(k)`, "
        "`d.setdefault(k, [])`, `ns.items`) pickles the item and hands the caller a copy, so "
        "`d[k].append(x)` appends to that copy, which is thrown away at the end of the statement: "
        "the dict in the manager never changes. Nothing fails, the code works with a plain dict "
        "in a test, and the results are missing in production. The multiprocessing docs warn "
        "about exactly this for nested objects."
    )
    fix = (
        "Read the item, change it, and store it back through the proxy: `item = d[k]`, "
        "`item.append(x)`, `d[k] = item` (for a list item `d[k] += [x]` does the same in one "
        "statement). When several processes update the same item, hold a `manager.Lock()` around "
        "the read and the store. Or make the inner objects proxies too (`d[k] = "
        "manager.list()`), whose changes go to the manager."
    )
    bad_example = '''\
import multiprocessing


def tally(words, counts):
    for word in words:
        counts[word[0]].append(word)


if __name__ == "__main__":
    with multiprocessing.Manager() as manager:
        counts = manager.dict({letter: [] for letter in "abc"})
        workers = [
            multiprocessing.Process(target=tally, args=(chunk, counts))
            for chunk in (["apple", "bee"], ["cat", "art"])
        ]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        print(dict(counts))
'''
    good_example = '''\
import multiprocessing


def tally(words, counts, lock):
    for word in words:
        with lock:
            bucket = counts[word[0]]
            bucket.append(word)
            counts[word[0]] = bucket


if __name__ == "__main__":
    with multiprocessing.Manager() as manager:
        counts = manager.dict({letter: [] for letter in "abc"})
        lock = manager.Lock()
        workers = [
            multiprocessing.Process(target=tally, args=(chunk, counts, lock))
            for chunk in (["apple", "bee"], ["cat", "art"])
        ]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        print(dict(counts))
'''
    references = (
        (
            "multiprocessing: Proxy objects (changes to mutable values nested in a proxy)",
            "https://docs.python.org/3/library/multiprocessing.html#proxy-objects",
        ),
        (
            "multiprocessing.managers.SyncManager.Namespace",
            "https://docs.python.org/3/library/multiprocessing.html#multiprocessing.managers.Namespace",
        ),
    )

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        proxies = facts.proxies
        for change in proxies.held_changes():
            if not proxies.holds_proxies(change.proxy):
                yield Report(change.node, _message(facts, change))


def _message(facts: ModuleFacts, change: HeldChange) -> str:
    held = facts.code(change.held)
    text = facts.code(change.node).strip()
    shown = f"`{text}`" if len(text) <= 60 and "\n" not in text else "this statement"
    proxy = change.proxy
    what = "an attribute of a `Namespace` proxy" if proxy.type == apis.NAMESPACE_PROXY else f"an item of a manager `{proxy.type}` proxy"
    if proxy.type == apis.NAMESPACE_PROXY and type(change.held) is cst.Attribute:
        owner, attr = facts.code(change.held.value), change.held.attr.value
        store = f"`{owner}.{attr} = value`"
    elif type(change.held) is cst.Subscript:
        store = f"`{held} = value`"
    elif type(change.held) is cst.Call and change.held.args and type(change.held.func) is cst.Attribute:
        owner, key = facts.code(change.held.func.value), facts.code(change.held.args[0].value)
        store = f"`{owner}[{key}] = value`"
    else:
        store = "an assignment through the proxy"
    return (
        f"{shown} changes `{held}`, {what}, in place: the proxy hands out a copy of the "
        f"object, so the change is made to the copy and lost, and the manager's `{proxy.type}` "
        f"never sees it; read it into a variable, change that, and store it back with {store} "
        f"(under a `manager.Lock()` if several processes update it)"
    )

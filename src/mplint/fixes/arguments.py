"""Fixes of how a callable and its arguments are handed to a child: a value made a one-element
tuple (MPL011), a worker passed instead of called (MPL010)."""

from __future__ import annotations

from typing import Sequence

import libcst as cst

from mplint.fixes import Rewrite
from mplint.fixes.rewrite import replace

_NO_SPACE = cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace(""))
_COMMA = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def one_element_tuple(value: cst.BaseExpression) -> cst.Tuple:
    """`("alice")` -> `("alice",)`, keeping the parentheses (and any comment inside them)."""
    lpar = getattr(value, "lpar", ())
    rpar = getattr(value, "rpar", ())
    bare = value.with_changes(lpar=(), rpar=()) if lpar else value
    element = cst.Element(bare, comma=cst.Comma())
    if lpar and len(lpar) == len(rpar):
        return cst.Tuple([element], lpar=lpar[:1], rpar=rpar[-1:])
    return cst.Tuple([element])


def make_tuple(value: cst.BaseExpression, code: str) -> Rewrite:
    return replace(f"Make it a one-element tuple: `{code}`", {value: one_element_tuple(value)})


def _packed(args: Sequence[cst.Arg]) -> cst.Tuple:
    """The arguments of a call as the tuple of a dispatch's `args=`: `(a, b)`, `(a,)`."""
    elements = []
    for index, arg in enumerate(args):
        last = index == len(args) - 1
        comma = (cst.Comma() if len(args) == 1 else cst.MaybeSentinel.DEFAULT) if last else arg.comma
        elements.append(cst.Element(arg.value, comma=comma))
    return cst.Tuple(elements)


def _plain(args: Sequence[cst.Arg]) -> bool:
    return all(arg.keyword is None and not arg.star for arg in args)


def _keywords(call: cst.Call) -> set[str]:
    return {arg.keyword.value for arg in call.args if arg.keyword is not None}


def pass_the_function(kind: str, site: cst.Call, called: cst.Call, title: str) -> Rewrite | None:
    """`target=work(a, b)` -> `target=work, args=(a, b)` (and the same for an initializer,
    `pool.apply(work(a))`, `executor.submit(work(a))`); `work()` -> `work` wherever it is handed
    over. None where the arguments have no place to go (keywords, `*args`, `args=` given)."""
    args = list(called.args)
    if not args:
        return replace(title, {called: called.func}, safe=False)
    method = site.func.attr.value if isinstance(site.func, cst.Attribute) else ""
    position = next((i for i, arg in enumerate(site.args) if arg.value is called), None)
    if position is None:
        return None
    handed = site.args[position]
    new_args = list(site.args)
    if kind in ("target", "initializer"):
        packed_keyword = "args" if kind == "target" else "initargs"
        if handed.keyword is None or packed_keyword in _keywords(site) or not _plain(args):
            return None
        extra = cst.Arg(_packed(args), keyword=cst.Name(packed_keyword), equal=handed.equal or _NO_SPACE,
                        comma=handed.comma)
        new_args[position : position + 1] = [handed.with_changes(value=called.func, comma=_COMMA), extra]
    elif kind == "pool" and method in ("apply", "apply_async"):
        if position != 0 or len(site.args) != 1 or handed.keyword is not None or not _plain(args):
            return None
        new_args = [handed.with_changes(value=called.func, comma=_COMMA), cst.Arg(_packed(args))]
    elif kind == "executor" and method == "submit":
        if position != 0 or len(site.args) != 1 or handed.keyword is not None:
            return None
        last = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        new_args = [handed.with_changes(value=called.func, comma=_COMMA), *args[:-1], last]
    else:
        return None
    return replace(title, {site: site.with_changes(args=new_args)}, safe=False)

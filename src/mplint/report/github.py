"""GitHub Actions workflow commands: one `::error` (or `::warning`) annotation a finding, shown on the
pull request's diff at the finding's place. Files that could not be checked are annotated too."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from mplint.report import level, printable

if TYPE_CHECKING:
    from mplint.runner import Run


def _data(text: str) -> str:
    # the escaping the Actions runner undoes in a command's message
    return printable(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    # property values also end at ',' and the message starts after '::'
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, properties: dict[str, object], message: str) -> str:
    """`::name key=value,...::message`, escaped so the runner reads back exactly these values."""
    props = ",".join(f"{key}={_property(str(value))}" for key, value in properties.items())
    return f"::{name} {props}::{_data(message)}"


def write(run: Run, out: TextIO) -> None:
    for error in run.errors:
        where: dict[str, object] = {"file": error.path}
        if error.line is not None:
            where["line"] = error.line
            if error.column is not None:
                where["col"] = error.column
        where["title"] = "mplint could not check this file"
        out.write(command("error", where, error.message) + "\n")
    for f in run.findings:
        properties = {
            "file": f.path,
            "line": f.line,
            "col": f.column,
            "endLine": f.end_line,
            "endColumn": f.end_column,
            "title": f"{f.code} {f.name}",
        }
        out.write(command(level(f.code), properties, f.message) + "\n")

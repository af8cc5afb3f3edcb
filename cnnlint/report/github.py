"""GitHub Actions workflow commands: `::error file=…,line=…,col=…,title=…::message` annotations."""

from __future__ import annotations

LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def _data(text):
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text):
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render(diagnostics, summary):
    out = []
    for d in diagnostics:
        props = (f"file={_prop(d.path)},line={d.line},col={d.column},endLine={d.end_line},"
                 f"endColumn={d.end_column},title={_prop(f'{d.code} {d.rule}')}")
        message = d.message + "".join(f"\n  {r.path}:{r.line}: {r.message}" for r in d.related)
        out.append(f"::{LEVEL[d.severity]} {props}::{_data(message)}\n")
    return "".join(out)

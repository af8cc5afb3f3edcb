"""Output formats: one module per format, each turning diagnostics into text."""

from __future__ import annotations

FORMATS = ("full", "concise", "json")


def render(fmt, diagnostics, summary):
    if fmt == "json":
        from .json_format import render as r
    elif fmt == "concise":
        from .text import render_concise as r
    else:
        from .text import render_full as r
    return r(diagnostics, summary)

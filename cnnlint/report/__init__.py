"""Output formats: one module per format, each turning diagnostics into text."""

from __future__ import annotations

import importlib

FORMATS = {
    "full": ("text", "render_full"),
    "concise": ("text", "render_concise"),
    "json": ("json_format", "render"),
    "json-lines": ("json_format", "render_lines"),
    "sarif": ("sarif", "render"),
    "github": ("github", "render"),
    "lsp": ("lsp_format", "render"),
}


def render(fmt, diagnostics, summary):
    module, function = FORMATS[fmt]
    return getattr(importlib.import_module(f"{__name__}.{module}"), function)(diagnostics, summary)

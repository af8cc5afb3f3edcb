"""JSON output: an array of diagnostics; json-lines: one diagnostic object per line."""

from __future__ import annotations

import json


def render(diagnostics, summary):
    return json.dumps([d.to_json() for d in diagnostics], indent=2) + "\n"


def render_lines(diagnostics, summary):
    return "".join(json.dumps(d.to_json()) + "\n" for d in diagnostics)

"""JSON output: an array of diagnostics with path, positions, code, rule, severity, message and related."""

from __future__ import annotations

import json


def render(diagnostics, summary):
    return json.dumps([d.to_json() for d in diagnostics], indent=2) + "\n"

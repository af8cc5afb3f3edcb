"""LSP output: `{file URI: [Diagnostic, ...]}` with 0-based positions in UTF-16 code units, as editors expect."""

from __future__ import annotations

import json
from pathlib import Path

SEVERITY = {"error": 1, "warning": 2, "info": 3}


def uri(path) -> str:
    return Path(path).resolve().as_uri()


def utf16_column(line_text, column):
    """A 1-based code-point column as a 0-based UTF-16 offset."""
    if not line_text:
        return column - 1
    prefix = line_text[:column - 1]
    return len(prefix.encode("utf-16-le")) // 2


def lsp_range(line, column, end_line, end_column, line_text=None, end_text=None):
    return {"start": {"line": line - 1, "character": utf16_column(line_text, column)},
            "end": {"line": end_line - 1, "character": utf16_column(end_text if end_text is not None else
                                                                    (line_text if end_line == line else None),
                                                                    end_column)}}


def diagnostic(d) -> dict:
    return {
        "range": lsp_range(d.line, d.column, d.end_line, d.end_column, d.source_line),
        "severity": SEVERITY[d.severity],
        "code": d.code,
        "source": "cnnlint",
        "message": d.message,
        "relatedInformation": [
            {"location": {"uri": uri(r.path), "range": lsp_range(r.line, r.column, r.line, r.column)},
             "message": r.message} for r in d.related],
        "data": {"rule": d.rule, **({"fix": d.fix["description"], "applicability": d.fix["applicability"]}
                                    if d.fix else {})},
    }


def render(diagnostics, summary):
    out: dict = {}
    for d in diagnostics:
        out.setdefault(uri(d.path), []).append(diagnostic(d))
    return json.dumps(out, indent=2) + "\n"

"""Text output: `path:line:col: CODE message`, the source line with a caret, the shape chain as notes."""

from __future__ import annotations


def _header(d):
    return f"{d.path}:{d.line}:{d.column}: {d.code} {d.message}"


def render_full(diagnostics, summary):
    out = []
    for d in diagnostics:
        out.append(_header(d) + f" [{d.rule}]")
        if d.source_line is not None:
            text = d.source_line.rstrip("\n")
            gutter = f"{d.line:>4} | "
            out.append(gutter + text)
            width = max(1, (d.end_column - d.column) if d.end_line == d.line else len(text) - d.column + 1)
            out.append(" " * (len(gutter) - 2) + "| " + " " * (d.column - 1) + "^" * width)
        for r in d.related:
            out.append(f"     = note: {r.path}:{r.line}:{r.column}: {r.message}")
        out.append("")
    out.append(summary)
    return "\n".join(out) + "\n"


def render_concise(diagnostics, summary):
    return "".join(_header(d) + "\n" for d in diagnostics) + summary + "\n"

"""Text output: `path:line:col: CODE message`, the source line with a caret, the shape chain as notes. A finding
`--fix` repairs is marked `[*]` after its code, as ruff marks it, and the summary ends with how many `--fix`
repairs (and how many more `--unsafe-fixes` would)."""

from __future__ import annotations


def _header(d):
    mark = " [*]" if d.fix is not None and d.fix.get("applicability") == "safe" else ""
    return f"{d.path}:{d.line}:{d.column}: {d.code}{mark} {d.message}"


def fixable_line(diagnostics):
    """'3 fixable with `--fix` (1 more with `--unsafe-fixes`).', or None when no finding has a fix."""
    safe = sum(1 for d in diagnostics if d.fix is not None and d.fix.get("applicability") == "safe")
    unsafe = sum(1 for d in diagnostics if d.fix is not None) - safe
    if not safe and not unsafe:
        return None
    return f"{safe} fixable with `--fix`" + (f" ({unsafe} more with `--unsafe-fixes`)" if unsafe else "") + "."


def _ending(diagnostics, summary):
    fixable = fixable_line(diagnostics)
    return summary + "\n" + (fixable + "\n" if fixable else "")


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
    return "\n".join(out) + ("\n" if out else "") + _ending(diagnostics, summary)


def render_concise(diagnostics, summary):
    return "".join(_header(d) + "\n" for d in diagnostics) + _ending(diagnostics, summary)

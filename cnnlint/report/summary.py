"""Views of `cnnlint shapes`: a torchinfo-style table, JSON, and a Graphviz picture of the dataflow."""

from __future__ import annotations

import json

from ..rulekit import describe_op, shape_text


def _shape(shape):
    return "?" if shape is None else "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def _count(n):
    return "?" if n is None else f"{n:,}"


def _macs(n):
    if n is None:
        return "?"
    if isinstance(n, int):
        return "--" if n == 0 else f"{n:,}"
    return _grouped(str(n))


def _grouped(text):
    """A symbolic size with its numbers in thousands: 2943690*N -> 2,943,690*N."""
    import re
    return re.sub(r"\d{4,}", lambda m: f"{int(m.group()):,}", text)


def _readable(n):
    """torchinfo's units for a total: (M), (G), (T)."""
    for factor, unit in ((1e12, "T"), (1e9, "G"), (1e6, "M")):
        if n >= factor or unit == "M":
            return f"{n / factor:.2f} {unit}"
    return ""


def _kernel(k):
    return "--" if k is None else "[" + ", ".join(map(str, k)) + "]"


# --columns: name -> (header, cell, right-aligned)
COLUMNS = {
    "output-shape": ("Output shape", lambda r: _shape(r.output_shape), False),
    "params": ("Param #", lambda r: "" if not r.layer else _count(r.params), True),
    "mult-adds": ("Mult-adds", lambda r: "" if not r.layer else _macs(r.mult_adds), True),
    "kernel": ("Kernel", lambda r: "" if not r.layer else _kernel(r.kernel), False),
    "connected-to": ("Connected to", lambda r: ", ".join(r.connected_to), False),
}
DEFAULT_COLUMNS = ("output-shape", "params")


def _header(s):
    inputs = ", ".join(_shape(i) for i in s.inputs)
    source = "--input" if s.source == "input" else s.source
    called = f" ({', '.join(s.aliases)})" if s.aliases else ""
    return f"{s.name}{called}  input {inputs}  [{source}]"


def _finding_line(d):
    return f"{d.severity} {d.code} (line {d.line}): {d.message}"


def table(summaries, columns=None, show_paths=False):
    """torchinfo's table: one row per layer call. A row where a check fails is marked (x: an error, !: a
    warning) and followed by the finding; the rows after it show what the layers give once it is fixed.
    columns: names of COLUMNS; default: output shape and parameters, and "Connected to" when the dataflow is not
    a chain."""
    blocks = []
    path = None
    for s in summaries:
        chosen = list(columns) if columns else list(DEFAULT_COLUMNS) + (["connected-to"] if s.merges else [])
        marks = any(r.findings for r in s.rows)
        rows = [("Layer (name)", "Type") + tuple(COLUMNS[c][0] for c in chosen)]
        rows += [((r.name or "(model)") if r.layer else "(op)", r.type) + tuple(COLUMNS[c][1](r) for c in chosen)
                 for r in s.rows]
        right = [False, False] + [COLUMNS[c][2] for c in chosen]
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        gutter = "   " if marks else ""
        rule = "=" * (len(gutter) + sum(widths) + 2 * (len(widths) - 1))

        def line(cells, mark=" "):
            text = "  ".join(f"{c:>{w}}" if r else f"{c:<{w}}" for c, w, r in zip(cells, widths, right))
            return ((mark + "  ") if marks else "") + text.rstrip()

        lines = []
        if show_paths and s.path != path:
            path = s.path
            lines.append(f"{path}:")
        lines += [_header(s), rule, line(rows[0]), "-" * len(rule)]
        for r, cells in zip(s.rows, rows[1:]):
            mark = "x" if r.failed else "!" if r.findings else " "
            lines.append(line(cells, mark))
            for d in r.findings:
                lines.append(f"   ^ {_finding_line(d)}")
        lines.append(rule)
        lines.append(f"Total params: {_count(s.total_params)}")
        lines.append(f"Trainable params: {_count(s.total_params)}  (freezing is not tracked)")
        if isinstance(s.total_mult_adds, int):
            lines.append(f"Total mult-adds: {s.total_mult_adds:,} ({_readable(s.total_mult_adds)})")
        else:
            lines.append(f"Total mult-adds: {'?' if s.total_mult_adds is None else _grouped(s.total_mult_adds)}")
        for c in s.constraints:
            lines.append(f"Constraint: {c}")
        for d in s.findings:
            lines.append(_finding_line(d))
        failing = [r for r in s.rows if r.failed]
        if failing:
            first = failing[0]
            where = f"`{first.name}` ({first.type})" if first.layer else f"{first.type} (line {first.line})"
            more = f", and {len(failing) - 1} more row{'s' * (len(failing) > 2)}" if len(failing) > 1 else ""
            after = ": the rows after it show what the layers give once it is fixed" \
                if first is not s.rows[-1] else ""
            lines.append(f"Fails at {where}{more}{after}.")
        for inputs, source in s.also_run:
            lines.append(f"Also run on {', '.join(_shape(i) for i in inputs)} [{source}]")
        if not s.complete:
            lines.append("(analysis stopped early: the model is larger than the step budget)")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n" if blocks else "No model found that cnnlint can run.\n"


def as_json(summaries):
    def finding(d):
        data = d.to_json()
        return data

    data = [{"path": s.path, "model": s.name, "aliases": s.aliases,
             "input": [list(i) if i is not None else None for i in s.inputs], "source": s.source,
             "layers": [{"name": r.name, "type": r.type, "kind": "layer" if r.layer else "operation", "line": r.line,
                         "output_shape": list(r.output_shape) if r.output_shape is not None else None,
                         "params": r.params, "mult_adds": r.mult_adds,
                         "kernel": list(r.kernel) if r.kernel is not None else None,
                         "connected_to": r.connected_to, "findings": [finding(d) for d in r.findings]}
                        for r in s.rows],
             "total_params": s.total_params, "total_mult_adds": s.total_mult_adds, "constraints": s.constraints,
             "findings": [finding(d) for d in s.findings], "failed": s.failed,
             "also_run": [{"input": [list(i) if i is not None else None for i in inputs], "source": source}
                          for inputs, source in s.also_run]} for s in summaries]
    return json.dumps(data, indent=2) + "\n"


def _quote(text):
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot(summaries):
    out = ["digraph cnnlint {", '  rankdir=TB; node [shape=box, fontname="Helvetica"]; '
           'edge [fontname="Helvetica", fontsize=10];']
    for k, s in enumerate(summaries):
        if s.graph is None:
            continue
        graph, first, last = s.graph
        out.append(f"  subgraph cluster_{k} {{ label={_quote(s.name)};")
        nodes = [n for n in range(first, last) if n in graph]
        for n in nodes:
            data = graph.nodes[n]
            label = "input" if data["op"] == "input" else describe_op(data)
            out.append(f"    n{n} [label={_quote(label)}{', shape=oval' if data['op'] == 'input' else ''}];")
        for n in nodes:
            for m in graph.successors(n):
                if first <= m < last:
                    out.append(f"    n{n} -> n{m} [label={_quote(shape_text(graph.nodes[n]['output']))}];")
        out.append("  }")
    out.append("}")
    return "\n".join(out) + "\n"

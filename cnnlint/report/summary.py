"""Views of `cnnlint shapes`: a torchinfo-style table, JSON, and a Graphviz picture of the dataflow."""

from __future__ import annotations

import json

from ..rulekit import describe_op, shape_text


def _shape(shape):
    return "?" if shape is None else "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def _count(n):
    return "?" if n is None else f"{n:,}"


def table(summaries):
    blocks = []
    for s in summaries:
        inputs = ", ".join(_shape(i) for i in s.inputs)
        rows = [("Layer (name)", "Type", "Output shape", "Param #")]
        rows += [(r.name or "(model)", r.type, _shape(r.output_shape), _count(r.params)) for r in s.rows]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        rule = "=" * (sum(widths) + 6)
        lines = [f"{s.name}  input {inputs}  [{s.source}]", rule]
        for k, row in enumerate(rows):
            lines.append(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:<{widths[2]}}  {row[3]:>{widths[3]}}")
            if k == 0:
                lines.append("-" * len(rule))
        lines.append(rule)
        lines.append(f"Total params: {_count(s.total_params)}")
        lines.append(f"Trainable params: {_count(s.total_params)}  (freezing is not tracked)")
        for c in s.constraints:
            lines.append(f"Constraint: {c}")
        if not s.complete:
            lines.append("(analysis stopped early: the model is larger than the step budget)")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n" if blocks else "No model found that cnnlint can run.\n"


def as_json(summaries):
    data = [{"model": s.name, "input": [list(i) if i is not None else None for i in s.inputs], "source": s.source,
             "layers": [{"name": r.name, "type": r.type, "line": r.line,
                         "output_shape": list(r.output_shape) if r.output_shape is not None else None,
                         "params": r.params} for r in s.rows],
             "total_params": s.total_params, "constraints": s.constraints} for s in summaries]
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

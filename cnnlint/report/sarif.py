"""SARIF 2.1.0, as GitHub code scanning reads it: rules with help text, results with locations, and the chain of
shapes as relatedLocations."""

from __future__ import annotations

import json
from pathlib import Path

from .. import __version__

LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def _artifact(path):
    p = Path(path)
    try:
        return {"uri": p.resolve().relative_to(Path.cwd().resolve()).as_posix(), "uriBaseId": "%SRCROOT%"}
    except ValueError:
        return {"uri": p.resolve().as_uri()}


def _region(line, column, end_line=None, end_column=None):
    region = {"startLine": line, "startColumn": column}
    if end_line is not None:
        region.update(endLine=end_line, endColumn=end_column)
    return region


def _rules():
    from ..lint import INPUT_PROBLEMS, NOTICES
    from ..rules import all_rules
    out = []
    for r in all_rules():
        example = r.fires[0].strip() if r.fires else ""
        out.append({
            "id": r.code,
            "name": "".join(part.capitalize() for part in r.name.split("-")),
            "shortDescription": {"text": r.summary},
            "fullDescription": {"text": r.why},
            "help": {"text": f"{r.why}\n\nFix: {r.fix}",
                     "markdown": f"{r.why}\n\n**Fix:** {r.fix}\n\n```python\n{example}\n```"},
            "defaultConfiguration": {"level": LEVEL[r.severity]},
            "properties": {"tags": ["shape"], "precision": "very-high"},
        })
    for code, name in {**INPUT_PROBLEMS, **NOTICES}.items():
        out.append({"id": code, "name": "".join(p.capitalize() for p in name.split("-")),
                    "shortDescription": {"text": name.replace("-", " ")},
                    "defaultConfiguration": {"level": "note" if code in NOTICES else "error"}})
    return out


def render(diagnostics, summary):
    rules = _rules()
    index = {r["id"]: i for i, r in enumerate(rules)}
    results = []
    for d in diagnostics:
        results.append({
            "ruleId": d.code,
            "ruleIndex": index[d.code],
            "level": LEVEL[d.severity],
            "message": {"text": d.message},
            "locations": [{"physicalLocation": {"artifactLocation": _artifact(d.path),
                                                "region": _region(d.line, d.column, d.end_line, d.end_column)}}],
            "relatedLocations": [{"id": i, "physicalLocation": {"artifactLocation": _artifact(r.path),
                                                                "region": _region(r.line, r.column)},
                                  "message": {"text": r.message}} for i, r in enumerate(d.related)],
        })
    log = {
        "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "cnnlint", "version": __version__, "semanticVersion": __version__,
                                "rules": rules}},
            "columnKind": "unicodeCodePoints",
            "originalUriBaseIds": {"%SRCROOT%": {"uri": Path.cwd().resolve().as_uri() + "/"}},
            "results": results,
        }],
    }
    return json.dumps(log, indent=2) + "\n"

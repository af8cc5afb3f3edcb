"""The importable API: the pipeline itself, for editors, tests and scripts."""

from __future__ import annotations

from dataclasses import dataclass, field

from .lint import FileResult, Selection, lint_text


def lint_source(text: str, path: str = "<string>", select=(), ignore=()):
    """Diagnostics for one source text."""
    return lint_text(text, path, Selection(tuple(select), tuple(ignore))).diagnostics


def lint_paths(paths, select=(), ignore=(), jobs=1):
    """FileResults for every Python file under `paths`, in a stable order."""
    from .runner import run_paths
    results, _missing = run_paths(paths, Selection(tuple(select), tuple(ignore)), jobs)
    return results


@dataclass
class LayerCallInfo:
    name: str
    type: str
    output_shape: tuple | None
    line: int | None


@dataclass
class ModelAnalysis:
    name: str
    input_shapes: list
    source: str
    calls: list = field(default_factory=list)


@dataclass
class FileAnalysisResult:
    diagnostics: list
    models: list


def _plain(shape):
    if shape is None:
        return None
    out = []
    for d in shape:
        if d is None:
            return None
        out.append(d if isinstance(d, int) else str(d))
    return tuple(out)


def analyze_source(text: str, path: str = "<string>") -> FileAnalysisResult:
    """Diagnostics plus every model run with its per-layer output shapes (what the torch oracle compares)."""
    from .positions import Positions
    result = lint_text(text, path, keep_analysis=True)
    if result.analysis is None:
        return FileAnalysisResult(result.diagnostics, [])
    positions = result.positions or Positions(result.module)
    models = []
    for run in result.analysis.model_runs:
        calls = []
        for c in run.calls:
            start, _ = positions.of(c.node) if c.node is not None else (None, None)
            calls.append(LayerCallInfo(c.name, c.type, _plain(c.output_shape), start[0] if start else None))
        models.append(ModelAnalysis(run.name, [_plain(s) for s in run.input_shapes], run.source, calls))
    return FileAnalysisResult(result.diagnostics, models)


__all__ = ["lint_source", "lint_paths", "analyze_source", "FileResult"]

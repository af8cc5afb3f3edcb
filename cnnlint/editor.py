"""What an editor shows besides diagnostics: the inferred shape of each tensor name, by position.

Built from an analysis kept by `lint_text(..., keep_analysis=True)`; positions are resolved once per buffer
version, on the first hover or inlay-hint request, never on the diagnostics path.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .positions import Positions
from .shapes import dims as D


@dataclass
class NameShapes:
    name: str
    line: int                 # 1-based
    column: int               # 1-based, code points
    end_column: int
    assigned: bool            # the name is the target of an assignment here
    shapes: list = field(default_factory=list)    # distinct shape texts, in the order the runs met them


class ShapeIndex:
    def __init__(self, result):
        self.by_line: dict = {}
        analysis, module = result.analysis, result.module
        if analysis is None or module is None:
            return
        positions = result.positions or Positions(module)
        entries: dict = {}
        for run in analysis.runs:
            for node, tensor, assigned in run.names or ():
                key = id(node)
                entry = entries.get(key)
                if entry is None:
                    start, end = positions.of(node)
                    if start is None:
                        continue
                    entry = entries[key] = NameShapes(node.value, start[0], start[1], end[1], assigned)
                    self.by_line.setdefault(start[0], []).append(entry)
                text = D.show_shape(tensor.shape)
                if text not in entry.shapes:
                    entry.shapes.append(text)

    def at(self, line, column):
        """The name under a 1-based (line, column), or None."""
        for entry in self.by_line.get(line, ()):
            if entry.column <= column <= entry.end_column:
                return entry
        return None

    def line_hints(self):
        """(line, text) for each line that assigns a tensor: the shape of its last assigned name."""
        for line in sorted(self.by_line):
            assigned = [e for e in self.by_line[line] if e.assigned]
            if assigned:
                last = max(assigned, key=lambda e: e.column)
                yield line, f"{last.name}: {' | '.join(last.shapes[:3])}"


def describe(entry: NameShapes) -> str:
    shapes = entry.shapes
    if len(shapes) == 1:
        return f"{entry.name}: {shapes[0]}"
    return f"{entry.name}: " + " | ".join(shapes[:4]) + (" | ..." if len(shapes) > 4 else "") + \
        "  (one shape per call)"

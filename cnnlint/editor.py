"""What an editor shows besides diagnostics: the inferred shape of each tensor name, by position.

Built from an analysis kept by `lint_text(..., keep_analysis=True)`; positions are resolved once per buffer
version, on the first hover or inlay-hint request, never on the diagnostics path.
"""

from __future__ import annotations

import difflib
import re
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


_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def _utf16(text):
    return len(text.encode("utf-16-le")) // 2


def minimal_edits(old: str, new: str):
    """The edits that turn `old` into `new`, each as small as it can be: [((line, character), (line, character),
    new text)] with 0-based lines and UTF-16 characters, as LSP counts them. A fix that sets one argument is one
    edit of that argument, not a replacement of the document."""
    a, b = _LINES.findall(old), _LINES.findall(new)
    edits = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        before, after = "".join(a[i1:i2]), "".join(b[j1:j2])
        prefix = 0
        while prefix < min(len(before), len(after)) and before[prefix] == after[prefix]:
            prefix += 1
        suffix = 0
        while suffix < min(len(before), len(after)) - prefix and before[-1 - suffix] == after[-1 - suffix]:
            suffix += 1
        # whole tokens: `120` -> `100` is one edit of the number, not of its middle digit
        while prefix and _word(before[prefix - 1]):
            prefix -= 1
        while suffix and _word(before[len(before) - suffix]):
            suffix -= 1
        edits.append((_position(a, i1, before[:prefix]), _position(a, i1, before[:len(before) - suffix]),
                      after[prefix:len(after) - suffix]))
    return edits


def _word(ch):
    return ch.isalnum() or ch == "_"


def _position(lines, first, text):
    """The (line, UTF-16 character) reached after `text`, which starts at the beginning of line `first`."""
    parts = _LINES.findall(text)
    if not parts:
        return first, 0
    last = parts[-1]
    if last.endswith(("\n", "\r")):
        return first + len(parts), 0
    return first + len(parts) - 1, _utf16(last)

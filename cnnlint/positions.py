"""Source positions, computed once per file and only for files that have something to report.

LibCST's PositionProvider costs more than the parse itself, so the analysis never asks for it; the report
stage does, for the few files with findings.
"""

from __future__ import annotations

from libcst.metadata import MetadataWrapper, PositionProvider


class Positions:
    def __init__(self, module):
        self.module = module
        self._map = None

    def of(self, node):
        """((line, column), (end_line, end_column)), 1-based, or (None, None) for a node outside the module."""
        if self._map is None:
            self._map = MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(PositionProvider)
        rng = self._map.get(node)
        if rng is None:
            return None, None
        return (rng.start.line, rng.start.column + 1), (rng.end.line, rng.end.column + 1)

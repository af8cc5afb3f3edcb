"""Incremental parsing for the editor: an edit re-parses only the top-level statements it touched.

The buffer is split where a new top-level statement starts (a line at column 0 that is not a continuation, a
decorated definition kept whole, comments and blank lines going with the statement after them). Each chunk is
parsed on its own and cached by its text, with its positions; the analysis sees one Module made of all chunks'
statements, and a node's position is its chunk's position shifted by the chunk's first line. Whenever the split
cannot be trusted (a chunk does not parse on its own, an open bracket or string spans a boundary) the buffer is
parsed whole, exactly as the command line does.
"""

from __future__ import annotations

from collections import OrderedDict

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from .parse import SourceError, check_nesting, parse

_CONTINUATION = ("else", "elif", "except", "finally", "case")


def split(text: str):
    """[(first line, chunk text)] at top-level statement starts.

    A line scan, not a tokenizer (which costs more than the parse it saves): a line at column 0 that starts a
    name or a decorator, outside a triple-quoted string, starts a chunk. A wrong guess (inside brackets, a
    string we misread) leaves a chunk that does not parse on its own, and IncrementalParser then parses the
    whole buffer, so the split can only cost time, never change a result."""
    lines = text.splitlines(keepends=True)
    chunks = []
    begin = 1
    in_string = None
    for number, line in enumerate(lines, 1):
        if in_string is None and number > 1 and line[:1] and (line[0].isalpha() or line[0] in "_@"):
            word = line.split(None, 1)[0].rstrip(":")
            if word not in _CONTINUATION and not _previous_code_line(lines, number).startswith("@"):
                start = _comment_block_start(lines, number)
                if start > begin:
                    chunks.append((begin, "".join(lines[begin - 1:start - 1])))
                    begin = start
        in_string = _strings_after(line, in_string)
    chunks.append((begin, "".join(lines[begin - 1:])))
    return chunks


def _strings_after(line, in_string):
    """Whether a triple-quoted string is open after this line (roughly: quotes in comments are not told apart)."""
    i = 0
    while True:
        if in_string is None:
            hits = [(line.find(q, i), q) for q in ('"""', "\'\'\'")]
            hits = [(at, q) for at, q in hits if at >= 0]
            if not hits:
                return None
            at, in_string = min(hits)
            i = at + 3
        else:
            at = line.find(in_string, i)
            if at < 0:
                return in_string
            in_string, i = None, at + 3


def _previous_code_line(lines, number):
    for i in range(number - 2, -1, -1):
        stripped = lines[i].strip()
        if stripped and not stripped.startswith("#"):
            return lines[i]
    return ""


def _comment_block_start(lines, number):
    """Comments and blank lines right above a statement belong to it (they are its leading lines)."""
    start = number
    while start > 1 and (not lines[start - 2].strip() or lines[start - 2].lstrip().startswith("#")) and \
            not lines[start - 2].startswith((" ", "\t")):
        start -= 1
    return start


class ChunkPositions:
    """Positions for nodes of a module assembled from chunks: each chunk's own, shifted by its first line."""

    def __init__(self, parts):
        self.parts = parts       # [(chunk module, line offset, cache entry)]

    def of(self, node):
        for module, offset, entry in self.parts:
            mapping = entry.get("positions")
            if mapping is None:
                mapping = entry["positions"] = MetadataWrapper(module, unsafe_skip_copy=True).resolve(
                    PositionProvider)
            rng = mapping.get(node)
            if rng is not None:
                return ((rng.start.line + offset, rng.start.column + 1),
                        (rng.end.line + offset, rng.end.column + 1))
        return None, None


class IncrementalParser:
    """One per open document: chunk text -> parsed chunk, least recently used first out."""

    def __init__(self, capacity=2000):
        self.cache: OrderedDict = OrderedDict()
        self.capacity = capacity

    def parse(self, text: str):
        """(module, positions) where positions has .of(node); raises SourceError like parse.parse."""
        chunks = split(text)
        if len(chunks) < 2:
            return parse(text), None
        parts = []
        for first_line, chunk in chunks:
            entry = self.cache.get(chunk)
            if entry is None:
                try:
                    check_nesting(chunk)
                    module = cst.parse_module(chunk)
                except (cst.ParserSyntaxError, SourceError, RecursionError):
                    return parse(text), None      # the split is not trustworthy here: whole-buffer parse
                entry = {"module": module}
                self.cache[chunk] = entry
            else:
                self.cache.move_to_end(chunk)
            parts.append((entry["module"], first_line - 1, entry))
        while len(self.cache) > self.capacity:
            self.cache.popitem(last=False)
        body = [stmt for module, _, _ in parts for stmt in module.body]
        return cst.Module(body=body), ChunkPositions(parts)

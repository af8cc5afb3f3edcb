"""Bytes -> text -> LibCST module. Problems become diagnostics, never tracebacks."""

from __future__ import annotations

import io
import tokenize

import libcst as cst


class SourceError(Exception):
    def __init__(self, code, message, line=1, column=1):
        super().__init__(message)
        self.code, self.message, self.line, self.column = code, message, line, column


def decode(data: bytes) -> str:
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as exc:
        raise SourceError("CNN003", f"cannot decode the file: {exc}") from None
    return text[1:] if text.startswith("\ufeff") else text


_BRACKETS = {ord("("): 1, ord("["): 1, ord("{"): 1, ord(")"): -1, ord("]"): -1, ord("}"): -1}
_NOT_BRACKETS = bytes(b for b in range(256) if b not in _BRACKETS)
MAX_NESTING = 200    # CPython's own limit ("too many nested parentheses")


def check_nesting(text: str):
    """LibCST's native parser overflows its stack (a segfault, not an exception) on a few thousand nested
    brackets, which CPython rejects past 200 anyway. A C-speed scan counts brackets, strings included; only when
    it passes the limit does CPython's compiler decide, so brackets inside strings never cause a false error."""
    brackets = text.encode("utf-8", "surrogatepass").translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    if len(brackets) <= MAX_NESTING:
        return
    for delta in map(_BRACKETS.__getitem__, brackets):
        depth += delta
        if depth > deepest:
            deepest = depth
    if deepest <= MAX_NESTING:
        return
    error = python_syntax_error(text)
    if error is not None:
        raise error


def python_syntax_error(text: str):
    """Python's own verdict on a source, as a SourceError (its message, at the line and column it names: `'('
    was never closed` at the bracket), or None when Python accepts it. Only compiled to an AST: nothing runs."""
    try:
        compile(text, "<cnnlint>", "exec", dont_inherit=True, flags=0x400)   # PyCF_ONLY_AST
    except SyntaxError as exc:
        return SourceError("CNN001", f"syntax error: {exc.msg}", exc.lineno or 1, max(exc.offset or 1, 1))
    except (RecursionError, MemoryError):
        return SourceError("CNN001", "syntax error: the file is nested too deeply to parse")
    except ValueError as exc:      # "source code string cannot contain null bytes"
        return SourceError("CNN001", f"syntax error: {exc}")
    return None


def parse(text: str) -> cst.Module:
    check_nesting(text)
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        # LibCST words it as its grammar sees it ("expected one of !=, %, ...", often a line late); Python's
        # compiler names the real problem where it is. LibCST's message only when Python accepts the file.
        error = python_syntax_error(text)
        if error is None:
            message = str(exc.message if hasattr(exc, "message") else exc).strip().splitlines()[0]
            error = SourceError("CNN001", f"syntax error: {message}", exc.raw_line, exc.raw_column + 1)
        raise error from None
    except (RecursionError, MemoryError):
        raise SourceError("CNN001", "syntax error: the file is nested too deeply to parse") from None

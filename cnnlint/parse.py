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


def parse(text: str) -> cst.Module:
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        message = str(exc.message if hasattr(exc, "message") else exc).strip().splitlines()[0]
        raise SourceError("CNN001", f"syntax error: {message}", exc.raw_line, exc.raw_column + 1) from None
    except (RecursionError, MemoryError):
        raise SourceError("CNN001", "syntax error: the file is nested too deeply to parse") from None

"""Applying fixes: one LibCST pass that swaps the flagged nodes, so formatting and comments stay as written.

A file that does not parse is never written; fixes that touch the same node are not combined (the first wins,
the next `--fix` run picks up the rest); the result must parse again or nothing is changed.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import libcst as cst

from .lint import Selection, follow, run_rules, suppressed


@dataclass
class FixResult:
    text: str                                       # the new text (the old one when nothing applied)
    applied: list = field(default_factory=list)     # (line, code, description)
    unsafe: int = 0                                 # findings left whose fix only --unsafe-fixes applies


class _Replacer(cst.CSTTransformer):
    def __init__(self, mapping):
        super().__init__()
        self.mapping = mapping

    def on_leave(self, original_node, updated_node):
        new = self.mapping.get(id(original_node))
        if new is None:
            return updated_node
        # a function of the updated node: an edit of a node inside which other fixes may have edited too
        return new(updated_node) if callable(new) else new


MAX_PASSES = 5


def fix_text(text, path, selection=Selection(), unsafe=False, only=None) -> FixResult:
    """Apply fixes until none is left (a fixed error can reveal one that was its cascade), at most MAX_PASSES.
    only=(line, code) applies one finding's fix, once (the editor's code action)."""
    total = FixResult(text)
    for _ in range(1 if only is not None else MAX_PASSES):
        step = _fix_once(total.text, path, selection, unsafe, only)
        total = FixResult(step.text, total.applied + step.applied, step.unsafe)
        if not step.applied:
            break
    return total


def _fix_once(text, path, selection, unsafe, only) -> FixResult:
    from .analysis import analyze_module
    from .parse import SourceError, parse
    from .positions import Positions
    try:
        module = parse(text)
    except SourceError:
        return FixResult(text)
    analysis = analyze_module(module, text, str(path), selection.inputs, loader=follow(path, selection))
    if analysis.skipped:
        return FixResult(text)
    fixable = [f for f in run_rules(analysis, selection) if f.fix is not None]
    if not fixable:
        return FixResult(text)
    positions = Positions(module)
    lines = text.splitlines()
    mapping, applied, left = {}, [], 0
    for f in fixable:
        (line, _), _ = positions.of(f.node)
        if line is None or (only is not None and (line, f.code) != tuple(only)):
            continue
        if 0 < line <= len(lines) and suppressed(lines[line - 1], f.code):
            continue
        if not (f.fix.safe or unsafe):
            left += 1
            continue
        olds = [id(old) for old, _ in f.fix.replacements]
        if any(o in mapping for o in olds):
            continue
        for old, new in f.fix.replacements:
            mapping[id(old)] = new
        applied.append((line, f.code, f.fix.description))
    if not mapping:
        return FixResult(text, unsafe=left)
    new_text = module.visit(_Replacer(mapping)).code
    try:
        parse(new_text)
    except SourceError:
        return FixResult(text, unsafe=left)
    return FixResult(new_text, sorted(applied), left)


def unified_diff(path, old, new) -> str:
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        fromfile=f"a/{path}", tofile=f"b/{path}"))


def more_with_unsafe(count) -> str:
    """' (2 more with `--unsafe-fixes`)' after a count of fixes, when fixes that change behaviour were left."""
    return f" ({count} more with `--unsafe-fixes`)" if count else ""


def fix_paths(paths, settings_for, unsafe=False, write=True):
    """Fix every file under `paths`: (diffs, number of findings fixed, number of findings left whose fix is
    unsafe). Writes files only when `write`."""
    from pathlib import Path

    from .files import discover, mentions_framework
    from .parse import SourceError, decode
    diffs, fixed, left = [], 0, 0
    for path, error in discover(paths):
        if error:
            continue
        selection = settings_for(path)
        if selection is None:
            continue
        try:
            data = Path(path).read_bytes()
            if not mentions_framework(data):
                continue
            text = decode(data)
        except (OSError, SourceError):
            continue
        result = fix_text(text, path, selection, unsafe)
        left += result.unsafe
        if result.text != text:
            fixed += len(result.applied)
            diffs.append(unified_diff(path, text, result.text))
            if write:
                Path(path).write_bytes(result.text.encode(_encoding(data)))
    return diffs, fixed, left


def _encoding(data):
    import io
    import tokenize
    return tokenize.detect_encoding(io.BytesIO(data).readline)[0]

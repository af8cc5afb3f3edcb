"""Lint many files: cached results first (in this process), the rest in parallel, results in a stable order."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from .files import discover
from .diagnostics import Diagnostic
from .lint import FileResult, Selection, lint_file, problem, IO_ERROR
from .modules.finder import unchanged


def _work(args):
    path, data, selection = args
    return lint_file(path, selection, data)


def run_paths(paths, selection=Selection(), jobs=None, cache=None, settings_for=None, progress=None):
    """(results, missing): a FileResult per file found, and messages for paths that do not exist.

    settings_for(path) -> Selection or None (excluded), when a configuration decides per file."""
    files, missing = [], []
    for path, error in discover(paths):
        (missing if error else files).append(error or path)
    chosen = []
    for path in files:
        file_selection = settings_for(path) if settings_for is not None else selection
        if file_selection is not None:
            chosen.append((path, file_selection))
    files = [p for p, _ in chosen]
    selections = [s for _, s in chosen]
    results: list = [None] * len(files)
    todo = []
    for i, path in enumerate(files):
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            results[i] = FileResult(str(path), [problem(path, IO_ERROR, f"cannot read the file: {exc.strerror or exc}")])
            continue
        key = cache.key(data, selections[i].key()) if cache is not None else None
        hit = cache.get(key, path, lambda deps, missing, p=path, s=selections[i]: unchanged(p, s.python, deps, missing)) \
            if cache is not None else None
        if hit is not None:
            results[i] = FileResult(str(path), hit[1], skipped=hit[0], elsewhere=hit[2])
        else:
            todo.append((i, path, data, key))
    jobs = jobs or os.cpu_count() or 1
    total = len(todo)
    if jobs <= 1 or len(todo) < 4:
        fresh = []
        for i, path, data, _ in todo:
            fresh.append(lint_file(path, selections[i], data))
            if progress:
                progress(len(fresh), total)
    else:
        with ProcessPoolExecutor(max_workers=min(jobs, len(todo))) as pool:
            fresh = []
            for result in pool.map(_work, [(path, data, selections[i]) for i, path, data, _ in todo],
                                   chunksize=max(1, len(todo) // (jobs * 8))):
                fresh.append(result)
                if progress:
                    progress(len(fresh), total)
    for (i, _, _, key), result in zip(todo, fresh):
        results[i] = result
        if cache is not None:
            cache.put(key, result)
    place_elsewhere(results)
    return results, missing


def place_elsewhere(results):
    """A finding in the code of another module that is being linted too goes to that module, at its own line,
    instead of the call that led there."""
    linted = {str(Path(r.path).resolve()): r for r in results}
    for result in results:
        for there, here in result.elsewhere:
            target = linted.get(str(Path(there.path).resolve()))
            if target is None or target is result:
                continue
            if here is not None and here in result.diagnostics:
                result.diagnostics.remove(here)
            moved = Diagnostic(**{**there.__dict__, "path": target.path})
            if not any((d.line, d.column, d.code) == (moved.line, moved.column, moved.code)
                       for d in target.diagnostics):
                target.diagnostics.append(moved)
                target.diagnostics.sort(key=lambda d: (d.line, d.column, d.code))

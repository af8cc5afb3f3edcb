"""Lint many files: cached results first (in this process), the rest in parallel, results in a stable order."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from .files import discover
from .lint import FileResult, Selection, lint_file, problem, IO_ERROR


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
        hit = cache.get(key, path) if cache is not None else None
        if hit is not None:
            results[i] = FileResult(str(path), hit[1], skipped=hit[0])
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
    return results, missing

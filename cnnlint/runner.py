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


def run_paths(paths, selection=Selection(), jobs=None, cache=None):
    """(results, missing): a FileResult per file found, and messages for paths that do not exist."""
    files, missing = [], []
    for path, error in discover(paths):
        (missing if error else files).append(error or path)
    results: list = [None] * len(files)
    todo = []
    for i, path in enumerate(files):
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            results[i] = FileResult(str(path), [problem(path, IO_ERROR, f"cannot read the file: {exc.strerror or exc}")])
            continue
        key = cache.key(data) if cache is not None else None
        hit = cache.get(key, path) if cache is not None else None
        if hit is not None:
            results[i] = FileResult(str(path), hit[1], skipped=hit[0])
        else:
            todo.append((i, path, data, key))
    jobs = jobs or os.cpu_count() or 1
    if jobs <= 1 or len(todo) < 4:
        fresh = [lint_file(path, selection, data) for _, path, data, _ in todo]
    else:
        with ProcessPoolExecutor(max_workers=min(jobs, len(todo))) as pool:
            fresh = list(pool.map(_work, [(path, data, selection) for _, path, data, _ in todo],
                                  chunksize=max(1, len(todo) // (jobs * 8))))
    for (i, _, _, key), result in zip(todo, fresh):
        results[i] = result
        if cache is not None:
            cache.put(key, result)
    return results, missing

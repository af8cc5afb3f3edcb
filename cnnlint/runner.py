"""Lint many files, in parallel when asked, and keep every file's result in a stable order."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor

from .files import discover
from .lint import Selection, lint_file


def _work(args):
    path, selection = args
    return lint_file(path, selection)


def run_paths(paths, selection=Selection(), jobs=None):
    """(results, missing): FileResult per file found, and messages for paths that do not exist."""
    files, missing = [], []
    for path, error in discover(paths):
        (missing if error else files).append(error or path)
    jobs = jobs or os.cpu_count() or 1
    if jobs <= 1 or len(files) < 4:
        return [lint_file(p, selection) for p in files], missing
    with ProcessPoolExecutor(max_workers=min(jobs, len(files))) as pool:
        results = list(pool.map(_work, [(p, selection) for p in files], chunksize=max(1, len(files) // (jobs * 8))))
    return results, missing

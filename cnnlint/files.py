"""Find the Python files to lint; skip what no linter should read."""

from __future__ import annotations

import os
from pathlib import Path

SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__", ".venv", "venv", "env", ".env", ".tox", ".nox", "build", "dist",
             "node_modules", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".cnnlint_cache", ".eggs", "site-packages"}

FRAMEWORK_MARKERS = (b"torch", b"keras", b"tensorflow")


def is_virtualenv(path: Path) -> bool:
    return (path / "pyvenv.cfg").exists()


def discover(paths):
    """Yield (path, None) for each Python file under `paths`, or (path, message) for a path that does not exist."""
    seen = set()
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            yield path, f"{raw}: no such file or directory"
            continue
        if path.is_file():
            if path not in seen:
                seen.add(path)
                yield path, None
            continue
        for root, dirs, files in os.walk(path):
            root_path = Path(root)
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info")
                             and not is_virtualenv(root_path / d))
            for name in sorted(files):
                if name.endswith((".py", ".pyi")):
                    file = root_path / name
                    if file not in seen:
                        seen.add(file)
                        yield file, None


def mentions_framework(data: bytes) -> bool:
    """A byte scan that lets files importing nothing skip parsing entirely: a file that names no framework may
    still build models from a module that does (`from .net import Net`), which the analysis decides."""
    return any(marker in data for marker in FRAMEWORK_MARKERS) or b"import" in data

"""Where a dotted module name lives on disk, never importing it: mypy's module finder in small.

The search path is, in order: the roots of the linted project (for each linted file, the directory above its top
package — found by walking up `__init__.py` files — and the file's own directory, as `python file.py` would put
it first; the directory holding the nearest pyproject.toml / setup.py / .git and its `src/`), then the
site-packages of the environment the code runs in (`--python`, else the active virtual environment, else the
`python3` on PATH), read from that interpreter's `sys.path` without its standard library.

Only `.py` sources are modules here: a package that ships only `.pyi` stubs or a C extension is not found, and
what it defines stays unknown. A directory without `__init__.py` is a namespace package, as in Python.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional

PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", ".git")


@dataclass(frozen=True)
class ModuleSpec:
    name: str                       # dotted name
    path: Optional[Path]            # the source file; None for a namespace package
    is_package: bool
    locations: tuple = ()           # a package's directories (its __path__)


def project_roots(path) -> list:
    """The directories the imports of a linted file resolve from, most specific first."""
    path = Path(path).resolve()
    here = path.parent
    top = here
    while (top / "__init__.py").exists() and top.parent != top:
        top = top.parent
    roots = [top] if top != here else [here]     # `python file.py` puts a script's own directory first
    for parent in [here, *here.parents]:
        if any((parent / marker).exists() for marker in PROJECT_MARKERS):
            roots += [parent, parent / "src"]
            break
    out = []
    for root in roots:
        if root.is_dir() and root not in out:
            out.append(root)
    return out


def module_name(path, roots) -> Optional[tuple]:
    """(dotted name, is_package) of a file under one of `roots`: `pkg/models/net.py` -> ("pkg.models.net", False)."""
    path = Path(path).resolve()
    for root in roots:
        try:
            rel = path.relative_to(root)
        except ValueError:
            continue
        parts = list(rel.with_suffix("").parts)
        package = parts[-1] == "__init__"
        if package:
            parts = parts[:-1]
        if parts and all(p.isidentifier() for p in parts):
            return ".".join(parts), package
    return None


def target_python(configured: Optional[str] = None) -> Optional[str]:
    """The interpreter whose installed packages the linted code imports."""
    if configured:
        return configured
    venv = os.environ.get("VIRTUAL_ENV")
    if venv:
        for name in ("bin/python", "Scripts/python.exe"):
            if (Path(venv) / name).exists():
                return str(Path(venv) / name)
    return shutil.which("python3") or shutil.which("python")


_QUERY = ("import json, sys, sysconfig; p = sysconfig.get_paths(); "
          "print(json.dumps({'path': sys.path, 'stdlib': [p['stdlib'], p['platstdlib']]}))")


@lru_cache(maxsize=8)
def environment_paths(python: Optional[str]) -> tuple:
    """The directories of installed packages of `python` (its sys.path without the standard library and without
    the working directory); () when it cannot be asked. The interpreter runs only this query, in an empty
    directory: nothing of the linted project is imported."""
    if not python:
        return ()
    try:
        out = subprocess.run([python, "-c", _QUERY], capture_output=True, text=True, timeout=20,
                             cwd=os.path.abspath(os.sep), env={k: v for k, v in os.environ.items()
                                                              if k != "PYTHONPATH"})
        data = json.loads(out.stdout)
    except (OSError, ValueError, subprocess.SubprocessError):
        return ()
    stdlib = [Path(p).resolve() for p in data.get("stdlib", []) if p]
    paths = []
    for entry in data.get("path", []):
        if not entry:
            continue
        p = Path(entry).resolve()
        if not p.is_dir() or p in paths:
            continue
        in_stdlib = any(p == s or s in p.parents for s in stdlib)
        if in_stdlib and "site-packages" not in p.parts and "dist-packages" not in p.parts:
            continue
        paths.append(p)
    return tuple(paths)


class Finder:
    """Dotted name -> ModuleSpec over one search path, remembered (a miss too)."""

    def __init__(self, search):
        self.search = [Path(p) for p in search]
        self._found: dict = {}

    def find(self, name: str) -> Optional[ModuleSpec]:
        if name in self._found:
            return self._found[name]
        spec = self._find(name)
        self._found[name] = spec
        return spec

    def _find(self, name):
        parts = name.split(".")
        if not all(p.isidentifier() for p in parts):
            return None
        if len(parts) == 1:
            return _find_in(name, parts[0], self.search)
        parent = self.find(".".join(parts[:-1]))
        if parent is None or not parent.is_package:
            return None
        return _find_in(name, parts[-1], [Path(d) for d in parent.locations])


def _find_in(name, last, directories):
    """Python's rule over a list of directories: the first regular package or module wins; directories without
    __init__.py met before it are the portions of a namespace package, used when nothing else is found."""
    portions = []
    for directory in directories:
        package = directory / last
        if (package / "__init__.py").is_file():
            return ModuleSpec(name, package / "__init__.py", True, (str(package),))
        module = directory / f"{last}.py"
        if module.is_file():
            return ModuleSpec(name, module, False)
        if package.is_dir():
            portions.append(str(package))
    if portions:
        return ModuleSpec(name, None, True, tuple(portions))
    return None

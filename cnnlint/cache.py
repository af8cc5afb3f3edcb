"""A result cache in `.cnnlint_cache/`, keyed by file content, cnnlint version and the effective selection; an
entry also lists the imported modules its lint read (with their digests) and the module names it looked for in
vain, and is used only while those are unchanged.

An unchanged re-run reads every file and a small JSON per file, and never parses. Entries are written to a
temporary file and renamed into place, so two runs sharing the cache never see a half-written entry.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from . import __version__
from .diagnostics import Diagnostic, Related

CACHE_DIR = ".cnnlint_cache"


def code_fingerprint() -> str:
    """Names, sizes and times of cnnlint's own files: an edited checkout must not reuse old results."""
    package = Path(__file__).resolve().parent
    rules = package / "rules"
    try:
        import cnnlint.rules as shipped_rules
        rules = Path(shipped_rules.__file__).resolve().parent
    except ImportError:
        pass
    parts = []
    for folder in sorted({package, rules}):
        for f in sorted(folder.rglob("*.py")):
            st = f.stat()
            parts.append(f"{f.name}:{st.st_size}:{st.st_mtime_ns}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


class Cache:
    def __init__(self, root=None, salt=""):
        self.root = Path(root or CACHE_DIR) / __version__
        self.salt = f"{salt};code={code_fingerprint()}"
        self._ready = False

    def key(self, data: bytes, settings: str = "") -> str:
        h = hashlib.sha256()
        h.update(f"{__version__}\0{self.salt}\0{settings}\0".encode())
        h.update(data)
        return h.hexdigest()

    def _entry(self, key):
        return self.root / key[:2] / f"{key}.json"

    def get(self, key, path, fresh=None):
        """(skipped, diagnostics, elsewhere) or None; diagnostics are re-attached to `path`. `fresh(deps, missing)`
        says whether the modules the cached lint read ({path: digest}) and looked for in vain are still as they
        were."""
        try:
            raw = json.loads(self._entry(key).read_text())
        except (OSError, ValueError):
            return None
        if fresh is not None and not fresh(raw.get("deps", {}), raw.get("missing", [])):
            return None
        try:
            diagnostics = [_load(d, str(path)) for d in raw["diagnostics"]]
            elsewhere = [(_load(there, there["path"]), diagnostics[here] if here >= 0 else None)
                         for there, here in raw.get("elsewhere", [])]
            return raw["skipped"], diagnostics, elsewhere
        except (KeyError, TypeError, IndexError):
            return None

    def put(self, key, result):
        """Store a FileResult. Input problems (unreadable, internal errors) are not cached: they may be transient."""
        from .lint import INPUT_PROBLEMS
        if any(d.code in INPUT_PROBLEMS and d.code != "CNN001" for d in result.diagnostics):
            return
        entries = [_dump(d, "") for d in result.diagnostics]
        index = {id(d): i for i, d in enumerate(result.diagnostics)}
        elsewhere = [[_dump(there, there.path), index.get(id(here), -1)] for there, here in result.elsewhere]
        payload = json.dumps({"skipped": result.skipped, "diagnostics": entries, "deps": result.deps,
                              "missing": list(result.missing), "elsewhere": elsewhere})
        try:
            self._prepare()
            target = self._entry(key)
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            with os.fdopen(fd, "w") as f:
                f.write(payload)
            os.replace(tmp, target)
        except OSError:
            pass   # a read-only or full disk costs the cache, never the run

    def _prepare(self):
        if self._ready:
            return
        top = self.root.parent
        top.mkdir(parents=True, exist_ok=True)
        ignore = top / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# created by cnnlint\n*\n")
        self._ready = True


def _dump(d, path):
    """A diagnostic as JSON; its path (and its notes' paths equal to it) written as `path`."""
    return {**d.__dict__, "path": path, "related": [
        {**r.__dict__, "path": "" if r.path == d.path else r.path} for r in d.related]}


def _load(d, path):
    d = dict(d)
    d["related"] = [Related(**{**r, "path": path if r["path"] == "" else r["path"]}) for r in d["related"]]
    return Diagnostic(**{**d, "path": path})

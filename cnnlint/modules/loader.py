"""The modules a linted file imports, read the way Python would import them, without importing anything.

A module is found on the search path (cnnlint.modules.finder), parsed once per process, and evaluated lazily: a
top-level statement runs the first time a name it binds is read (a class, a function, a constant, an import of
another module), so following `from timm.layers import ConvNormAct` costs the statements ConvNormAct needs, not
the sixty modules `timm.layers` re-exports. What cannot be found or read — a missing module, a C extension, a
package with only `.pyi` stubs, a syntax error, an import cycle still running — stays unknown.

The API the transfer tables model (torch, Keras' layers, numpy, ...) is never read from source: those names stay
the canonical names the tables know. The model code a framework ships (keras.applications) is read like any other.

Every module a lint reads is recorded with the hash of its content (`deps`), so that a cached result is reused only
while none of them changed, and every module name looked for in vain (`missing`), so that creating it re-checks.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

import libcst as cst

from .. import values as V
from ..extract.context import ModuleContext
from ..extract.domain import BudgetExceeded, Raised
from ..extract.imports import bindings, canonical, import_source, resolve_imports, uses_framework
from ..graph import Run
from ..parse import SourceError, decode, parse
from ..shapes import functions as FN
from ..shapes.keras_layers import KERAS_LAYERS, MERGE_FUNCTIONS
from ..shapes.torch_layers import CONTAINERS, LAYERS
from .finder import Finder, finder_for, module_name, project_roots, search_path

MODULE_STEP_BUDGET = 300_000       # evaluator steps the top-level statements of one imported module may take
MAX_MODULE_BYTES = 2_000_000

# packages whose API the tables model: never read from source
MODELLED = ("torch", "tensorflow", "keras", "tf_keras", "numpy", "jax", "jaxtyping", "beartype", "typeguard",
            "typing", "typing_extensions", "torchshapeflow", "functools", "math", "copy", "collections",
            "argparse", "json", "yaml", "types", "tqdm", "os", "pathlib", "logging", "pprint", "warnings",
            "omegaconf", "easydict", "addict", "munch", "ml_collections")
# modules of followed packages whose API cnnlint.extract.scripts models (datasets, transforms)
MODELLED_MODULES = ("torchvision.datasets", "torchvision.transforms")
# ... but for the model code they ship, which is written with that API like any user's
SHIPPED_MODELS = ("keras.applications.",)
# what the evaluator's framework part builds besides the layer tables
KERAS_ENTRY_POINTS = {"keras.Input", "keras.Model", "keras.Sequential"}
# names in shipped model code that the tables model themselves
MODELLED_NAMES = {"keras.applications.imagenet_utils.obtain_input_shape",
                  "keras.applications.imagenet_utils.correct_pad"}


@lru_cache(maxsize=65536)
def modelled(name: str) -> bool:
    """Whether the tables (or the evaluator's framework part) know a canonical name."""
    return (name in LAYERS or name in CONTAINERS or name in KERAS_LAYERS or name in MERGE_FUNCTIONS
            or name in KERAS_ENTRY_POINTS or FN.lookup(name) is not None)


@lru_cache(maxsize=65536)
def followed(raw: str) -> bool:
    """Whether an imported name (`a.b` for a module, `a.b:name` for a name of one) is read from source."""
    raw = raw.replace(":", ".")
    if raw.split(".", 1)[0] not in MODELLED:
        return not raw.startswith(MODELLED_MODULES)
    name = canonical(raw)
    return name.startswith(SHIPPED_MODELS) and name not in MODELLED_NAMES


# -- parsing, once per process ----------------------------------------------------------------------------------------
_PARSED: dict = {}      # path -> ((mtime_ns, size), digest, text, module) ; module None when it cannot be parsed


def digest(data: bytes) -> str:
    """As cnnlint.modules.finder.current_digest computes it."""
    return hashlib.sha256(data).hexdigest()[:20]


def parsed(path: str, overlay: str = None):
    """(digest, text, module or None) of a source file, parsed at most once per process while it is unchanged;
    `overlay` is the text of an unsaved editor buffer for it."""
    if overlay is not None:
        key = ("overlay", digest(overlay.encode("utf-8", "surrogatepass")))
        hit = _PARSED.get(path)
        if hit is not None and hit[0] == key:
            return hit[1:]
        try:
            module = parse(overlay)
        except (SourceError, RecursionError, MemoryError):
            module = None
        _PARSED[path] = (key, key[1], overlay, module)
        return _PARSED[path][1:]
    try:
        st = os.stat(path)
    except OSError:
        return None, "", None
    key = (st.st_mtime_ns, st.st_size)
    hit = _PARSED.get(path)
    if hit is not None and hit[0] == key:
        return hit[1:]
    module, text, sha = None, "", None
    try:
        data = Path(path).read_bytes()
        sha = digest(data)
        if len(data) <= MAX_MODULE_BYTES:
            text = decode(data)
            module = parse(text)
    except (OSError, SourceError, RecursionError, MemoryError):
        module = None
    _PARSED[path] = (key, sha, text, module)
    return sha, text, module


_TEXTS: dict = {}     # path -> ((mtime_ns, size), text or None)


def source_text(path: str):
    """The text of a source file, read once per process while it is unchanged (None when unreadable)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    key = (st.st_mtime_ns, st.st_size)
    hit = _PARSED.get(path) or _TEXTS.get(path)
    if hit is not None and hit[0] == key:
        return hit[2] if len(hit) == 4 else hit[1]
    try:
        data = Path(path).read_bytes()
        text = decode(data) if len(data) <= MAX_MODULE_BYTES else None
    except (OSError, SourceError):
        text = None
    if len(_TEXTS) > 20_000:
        _TEXTS.clear()
    _TEXTS[path] = (key, text)
    return text


def remember_parse(path: str, data: bytes, text: str, module) -> None:
    """A linted file's own parse, kept for when another linted file imports it."""
    try:
        st = os.stat(path)
    except OSError:
        return
    _PARSED[str(Path(path).resolve())] = ((st.st_mtime_ns, st.st_size), digest(data), text, module)


# -- the top-level statements that bind each name --------------------------------------------------------------------
def binding_index(module) -> dict:
    """name -> the top-level statements that bind or change it, in order; "*" -> the star imports."""
    index: dict = {}

    def add(name, stmt):
        stmts = index.setdefault(name, [])
        if not stmts or stmts[-1] is not stmt:
            stmts.append(stmt)

    def root(expr):
        while isinstance(expr, (cst.Attribute, cst.Subscript)):
            expr = expr.value
        return expr.value if isinstance(expr, cst.Name) else None

    def targets(expr, stmt):
        if isinstance(expr, (cst.Tuple, cst.List)):
            for element in expr.elements:
                targets(element.value, stmt)
        elif isinstance(expr, cst.StarredElement):
            targets(expr.value, stmt)
        else:
            name = root(expr)
            if name is not None:
                add(name, stmt)

    def walk(stmts, top):
        for stmt in stmts:
            owner = top or stmt
            if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                add(stmt.name.value, owner)
                for decorator in stmt.decorators:
                    expr = decorator.decorator.func if isinstance(decorator.decorator, cst.Call) else \
                        decorator.decorator
                    if isinstance(expr, cst.Attribute) and root(expr) is not None:
                        add(root(expr), owner)       # @REGISTRY.register("name"): the definition changes it
            elif isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Assign):
                        for target in small.targets:
                            targets(target.target, owner)
                    elif isinstance(small, (cst.AnnAssign, cst.AugAssign)) and (
                            not isinstance(small, cst.AnnAssign) or small.value is not None):
                        targets(small.target, owner)
                    elif isinstance(small, cst.ImportFrom) and isinstance(small.names, cst.ImportStar):
                        add("*", owner)
                    elif isinstance(small, (cst.Import, cst.ImportFrom)):
                        for local, _ in bindings(small):
                            add(local, owner)
                    elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
                        name = root(small.value.func) if isinstance(small.value.func, cst.Attribute) else None
                        if name is not None:
                            add(name, owner)         # REGISTRY.update(...), __all__.append(...)
            elif isinstance(stmt, cst.If):
                if _is_main_guard(stmt.test):
                    continue
                walk(stmt.body.body, owner)
                orelse = stmt.orelse
                while orelse is not None:
                    if isinstance(orelse, cst.If):
                        walk(orelse.body.body, owner)
                        orelse = orelse.orelse
                    else:
                        walk(orelse.body.body, owner)
                        orelse = None
            elif isinstance(stmt, (cst.Try, getattr(cst, "TryStar", cst.Try))):
                blocks = [stmt.body] + [h.body for h in stmt.handlers] + [b.body for b in (stmt.orelse, stmt.finalbody)
                                                                          if b is not None]
                for block in blocks:
                    walk(block.body, owner)
            elif isinstance(stmt, (cst.With, cst.For, cst.While)):
                if isinstance(stmt, cst.For):
                    targets(stmt.target, owner)
                walk(stmt.body.body, owner)

    walk(module.body, None)
    return index


_INDEXES: dict = {}


def _index(module):
    """binding_index of a parsed module, computed once per process."""
    found = _INDEXES.get(id(module))
    if found is None or found[0] is not module:
        if len(_INDEXES) > 4096:
            _INDEXES.clear()
        found = _INDEXES[id(module)] = (module, binding_index(module))
    return found[1]


def _is_main_guard(test) -> bool:
    return isinstance(test, cst.Comparison) and isinstance(test.left, cst.Name) and test.left.value == "__name__"


class Loader:
    """The modules of one search path. Files are found once and parsed once per process; what their statements
    evaluate to is rebuilt for each lint (start()), because the code being linted may change the values of the
    modules it imports (a registry its decorators fill): one lint never sees another's."""

    def __init__(self, finder: Finder, overlays=None):
        self.finder = finder
        self.overlays = overlays or {}         # path -> unsaved editor text
        self.start()

    # -- what one lint read ----------------------------------------------------------------------------------------
    def start(self):
        self.contexts: dict = {}               # module name -> ModuleContext
        self.by_path: dict = {}                # path -> ModuleContext
        self.runs: dict = {}                   # module name -> the Run its top-level statements execute in
        self.resolved: dict = {}               # absolute name -> (value or None, paths read, names missing)
        self.deps: dict = {}                   # path -> digest of every module read
        self.missing: set = set()              # module names looked for and not found
        self._capture: list = []
        self._resolving: set = set()

    def touch(self, ctx):
        """Record that this lint read a module the loader loaded (the linted file itself is the cache key)."""
        if self.by_path.get(ctx.path) is not ctx:
            return
        if ctx.path not in self.deps:
            self.deps[ctx.path] = ctx.digest
        for paths, _ in self._capture:
            paths.add(ctx.path)

    def _miss(self, name):
        self.missing.add(name)
        for _, names in self._capture:
            names.add(name)

    # -- names --------------------------------------------------------------------------------------------------------
    def resolve(self, raw: str):
        """The value an absolute imported name has in its module's source: a PyModule for a module (`a.b`), a
        class, a function, a constant for a name of a module (`a.b:name`, `a.b:name.attr`); None when it is not
        read from source, cannot be found, or is being resolved already (an import cycle)."""
        hit = self.resolved.get(raw)
        if hit is not None:
            value, paths, names = hit
            for path in paths:
                self.touch(self.by_path[path])
            for name in names:
                self._miss(name)
            return value
        if not followed(raw) or raw in self._resolving:
            return None
        self._resolving.add(raw)
        capture = (set(), set())
        self._capture.append(capture)
        try:
            value = self._resolve(raw)
        finally:
            self._capture.pop()
            self._resolving.discard(raw)
        self.resolved[raw] = (value, frozenset(p for p in capture[0] if p), frozenset(capture[1]))
        for paths, names in self._capture:
            paths |= capture[0]
            names |= capture[1]
        return value

    def installed(self, name: str) -> bool:
        """Whether the module is found on the search path (`importlib.util.find_spec`); a miss is remembered as an
        import's is, so that installing it re-checks the file."""
        found = self.finder.find(name) is not None
        if not found:
            self._miss(name)
        return found

    def framework_through_imports(self, names: dict) -> bool:
        """Whether a module the file imports from source (its own, not what that one imports in turn) uses a
        deep-learning framework: `from .byobnet import ByobNet` makes a file of configurations a file of models."""
        for raw in {v.partition(":")[0].lstrip("*") for v in names.values()}:
            if not followed(raw):
                continue
            spec = self.finder.find(raw)
            if spec is None or spec.path is None:
                continue
            _, _, module = parsed(str(spec.path), self.overlays.get(str(spec.path)))
            package = spec.name if spec.is_package else spec.name.rpartition(".")[0]
            if module is not None and uses_framework(resolve_imports(module, package)):
                return True
        return False

    def _resolve(self, raw):
        """A module as the import system finds it; a name of a module as that module's source binds it (a name a
        package re-exports wins over its submodule of the same name, as after `from .c import c`)."""
        module, colon, names = raw.partition(":")
        spec = self.finder.find(module)
        if spec is None:
            self._miss(module)
            return None
        value = self.module(spec)
        for name in names.split(".") if colon else ():
            if not isinstance(value, V.PyModule):
                return None
            found = self.attribute(value.ctx, name)
            if found is None:
                if not name.startswith("__"):
                    self._miss(f"{value.name}.{name}")
                return None
            value = found
        return value

    def module(self, spec) -> V.PyModule:
        ctx = self.contexts.get(spec.name)
        if ctx is None:
            path = str(spec.path) if spec.path is not None else ""
            sha, text, module = parsed(path, self.overlays.get(path)) if path else ("", "", None)
            package = spec.name if spec.is_package else spec.name.rpartition(".")[0]
            ctx = ModuleContext.create(module or cst.Module(body=[]), text, path, spec.name, package, loader=self)
            ctx.digest = sha or ""
            ctx.pending = {name: list(stmts) for name, stmts in _index(ctx.module).items()}
            ctx.globals["__name__"] = spec.name
            ctx.pymodule = V.PyModule(spec.name, ctx)
            self.contexts[spec.name] = ctx
            if path:
                self.by_path[path] = ctx
        self.touch(ctx)
        return ctx.pymodule

    def attribute(self, ctx, name: str):
        """What `module.name` is, reading the module's source; None when it is not known."""
        self.touch(ctx)
        if ctx.name and not followed(f"{ctx.name}.{name}"):
            return V.External(canonical(f"{ctx.name}.{name}"), f"{ctx.name}:{name}")
        if ctx.pending and name in ctx.pending:
            self.bind(ctx, name)
        value = ctx.globals.get(name)
        if value is None and name in ctx.raw_imports:
            value = V.External(ctx.imports[name], ctx.raw_imports[name])
        if name in ctx.globals and not isinstance(value, V.External):
            return value
        if isinstance(value, V.External) and value.raw is not None:
            found = self.resolve(value.raw)
            if found is not None:
                return found
        if value is None and ctx.name and not name.startswith("__") and ctx.module.body and (
                spec := self.finder.find(f"{ctx.name}.{name}")) is not None:
            return self.module(spec)     # a package's submodule: an attribute once imported, before star imports
        if value is None:
            value = self.star_lookup(ctx, name)
        if (value is None or isinstance(value, V.External)) and ctx.name and not name.startswith("__"):
            # `from pkg import sub` inside pkg itself, or a submodule the package never names: the module
            spec = self.finder.find(f"{ctx.name}.{name}")
            if spec is not None:
                return self.module(spec)
        return value

    def star_lookup(self, ctx, name: str):
        """A name a module has from `from m import *`: the last star-imported module that defines it (a later
        star import rebinds the names of an earlier one). A framework's module defines the names its tables
        know."""
        if ctx.pending and "*" in ctx.pending:
            self.bind(ctx, "*")
        if name.startswith("_"):
            return None
        for source in reversed(ctx.stars):
            if source.startswith("."):
                continue
            if not followed(source):
                full = canonical(f"{source}.{name}")
                if modelled(full):
                    return V.External(full, f"{source}:{name}")
                continue
            if not self.mentions(source, name):
                continue              # its text never names it: not parsed for nothing
            found = self.resolve(source)
            if isinstance(found, V.PyModule) and name in found.ctx.source:
                value = self.attribute(found.ctx, name)
                if value is not None:
                    return value
        return None

    def mentions(self, module: str, name: str) -> bool:
        """Whether the source of a module (read, not parsed) may define `name`; True when it cannot be read here
        (the loader then decides as before)."""
        ctx = self.contexts.get(module)
        if ctx is not None:
            return name in ctx.source
        spec = self.finder.find(module)
        if spec is None or spec.path is None:
            return True
        path = str(spec.path)
        text = self.overlays.get(path)
        if text is None:
            text = source_text(path)
        return text is None or name in text

    def bind(self, ctx, name: str):
        """Run the top-level statements of an imported module that bind `name`, once each, in order."""
        stmts = ctx.pending.pop(name, None)
        if not stmts:
            return
        run = self.runs.get(ctx.name)
        if run is None:
            run = self.runs[ctx.name] = Run(ctx, budget=MODULE_STEP_BUDGET)
        ctx.running.add(name)
        try:
            for stmt in stmts:
                if id(stmt) in ctx.done:
                    continue
                ctx.done.add(id(stmt))
                run.interp.exec_stmt(stmt, ctx.global_frame)
        except (BudgetExceeded, RecursionError, Raised):
            pass
        finally:
            ctx.running.discard(name)


# -- one loader per search path, per process ----------------------------------------------------------------------
_LOADERS: dict = {}


def loader_for(path, python=None, overlays=None) -> Loader:
    """The loader for the imports of the linted file at `path`: its project's roots, then the installed packages
    of the target interpreter. Editors pass their unsaved buffers as `overlays` and get a loader of their own."""
    search = search_path(path, python)
    if overlays:
        return Loader(finder_for(search), overlays)
    loader = _LOADERS.get(search)
    if loader is None:
        loader = _LOADERS[search] = Loader(finder_for(search))
    return loader


def context_name(path):
    """(dotted name, package) of a linted file, from its project's roots; (None, None) when it lies in none."""
    found = module_name(path, project_roots(path))
    if found is None:
        return None, None
    name, is_package = found
    return name, (name if is_package else name.rpartition(".")[0])

"""Resolve the names a module imports to canonical dotted names, from its own import statements.

`import torch.nn as nn` binds ``nn`` to ``torch.nn``; `from torch.nn import Conv2d` binds ``Conv2d`` to
``torch.nn.Conv2d``. A dict built from the statements costs nothing next to LibCST's QualifiedNameProvider.
"""

from __future__ import annotations

import libcst as cst

# spellings of the same API, mapped onto one canonical prefix
ALIASES = (
    ("tensorflow.python.keras.", "keras."),
    ("tensorflow.keras.", "keras."),
    ("tf_keras.", "keras."),
    ("keras.src.", "keras."),      # Keras' own sources (keras.applications) import from keras.src
    ("torch.nn.modules.", None),      # torch.nn.modules.conv.Conv2d -> torch.nn.Conv2d
    # quantization-ready models' stubs and FloatFunctional, wherever torch has exported them
    ("torch.ao.nn.quantized.", None), ("torch.nn.quantized.", None), ("torch.ao.quantization.", None),
    ("torch.quantization.", None),
)


def canonical(name: str) -> str:
    for prefix, replacement in ALIASES:
        if name.startswith(prefix):
            if replacement is None:
                rest = name[len(prefix):].split(".")
                return "torch.nn." + rest[-1] if len(rest) > 1 else "torch.nn." + rest[0]
            return KERAS_SPELLINGS.get(replacement + name[len(prefix):], replacement + name[len(prefix):])
        if name + "." == prefix and replacement:
            return replacement[:-1]
    if name in ("tensorflow.keras", "tf_keras"):
        return "keras"
    return KERAS_SPELLINGS.get(name, name)


# one name for the Keras entry points that have several
KERAS_SPELLINGS = {"keras.models.Sequential": "keras.Sequential", "keras.layers.Input": "keras.Input",
                   "keras.models.Model": "keras.Model", "keras.models.Functional": "keras.Model",
                   "keras.Layer": "keras.layers.Layer",
                   # the modules that define them, as Keras' own sources import them
                   "keras.layers.layer.Layer": "keras.layers.Layer", "keras.models.model.Model": "keras.Model",
                   "keras.models.functional.Functional": "keras.Model",
                   "keras.models.sequential.Sequential": "keras.Sequential"}


def dotted(node) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted(node.value)
        return None if base is None else f"{base}.{node.attr.value}"
    return None


def qualify(name: str | None, imports: dict) -> str | None:
    """A dotted name as written (`jt.Float`) -> its canonical name from the file's imports (`jaxtyping.Float`)."""
    if name is None:
        return None
    head, _, rest = name.partition(".")
    full = imports.get(head)
    if full is None:
        return name
    return f"{full}.{rest}" if rest else full


def _imports_in(statements):
    """Import statements at module level, including inside try/if blocks."""
    for stmt in statements:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, (cst.Import, cst.ImportFrom)):
                    yield small
        elif isinstance(stmt, cst.Try):
            yield from _imports_in(stmt.body.body)
            for handler in stmt.handlers:
                yield from _imports_in(handler.body.body)
        elif isinstance(stmt, cst.If):
            yield from _imports_in(stmt.body.body)
            if stmt.orelse is not None:
                yield from _imports_in(stmt.orelse.body.body)


def absolute(module: str, level: int, package) -> str | None:
    """The absolute name of `from {'.' * level}{module} import ...` written in `package` (None: not known)."""
    if not level:
        return module
    if package is None:
        return None
    parts = package.split(".") if package else []
    if level - 1 > len(parts):
        return None
    base = ".".join(parts[:len(parts) - (level - 1)])
    return ".".join(p for p in (base, module) if p) or None


def import_source(imp, package) -> str | None:
    """The absolute name of the module an ImportFrom reads (relative ones from `package`), as written."""
    written = dotted(imp.module) if imp.module else ""
    if imp.relative:
        found = absolute(written or "", len(imp.relative), package)
        return found if found is not None else "." * len(imp.relative) + (written or "")
    return written


def bindings(imp, package=None, raw=False):
    """(local name, imported name) pairs of one import statement: canonical names (`keras.src.layers.Dense` ->
    `keras.layers.Dense`), or, with raw=True, the absolute names as written, `module:name` for a name imported from
    a module (`from .blocks import ConvBlock` in pkg -> `pkg.blocks:ConvBlock`). A star import binds nothing here."""
    spell = (lambda n: n) if raw else canonical
    if isinstance(imp, cst.Import):
        for alias in imp.names:
            full = dotted(alias.name)
            if full is None:
                continue
            if alias.asname is not None:
                yield alias.asname.name.value, spell(full)
            else:
                top = full.split(".")[0]
                yield top, top
        return
    if isinstance(imp.names, cst.ImportStar):
        return
    base = import_source(imp, package)
    for alias in imp.names:
        local = alias.asname.name.value if alias.asname else alias.name.value
        yield local, f"{base}:{alias.name.value}" if raw else canonical(f"{base}.{alias.name.value}")


def resolve_imports(module: cst.Module, package=None, raw=False) -> dict:
    """Local name -> canonical dotted name (or the absolute name as written, raw=True) for everything the module
    imports at its top level. Relative imports are made absolute when the module's package is known."""
    names = {}
    for imp in _imports_in(module.body):
        names.update(bindings(imp, package, raw))
        if isinstance(imp, cst.ImportFrom) and isinstance(imp.names, cst.ImportStar):
            source = import_source(imp, package)
            names["*" + source] = source if raw else canonical(source)    # not a name: where `*` reads from
    return names


FRAMEWORKS = ("torch", "keras", "tensorflow", "tf_keras")


def uses_framework(names: dict) -> bool:
    return any(v.split(".")[0] in FRAMEWORKS for v in names.values())

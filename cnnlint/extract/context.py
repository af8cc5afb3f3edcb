"""One module as the interpreter sees it: its source, its imports, its global names.

The linted file's module is evaluated eagerly, top to bottom, as Python runs a script. A module it imports (found
and parsed by cnnlint.modules) is evaluated lazily: a top-level statement runs the first time a name it binds is
read, so that a library of a hundred classes costs the two the model uses. The interpreter runs every function in
the context of the module that defines it (its globals, its imports); `loader` is how it asks for other modules
(None when imports are not followed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import libcst as cst

from .annotations import AnnotationReader, collect_aliases
from .domain import Frame
from .imports import resolve_imports

FILE_STEP_BUDGET = 3_000_000


@dataclass(eq=False)
class ModuleContext:
    module: cst.Module
    source: str
    path: str
    imports: dict                          # local name -> canonical dotted name (cnnlint.extract.imports)
    globals: dict = field(default_factory=dict)
    global_frame: Frame = None
    steps_left: int = FILE_STEP_BUDGET     # shared by all runs of the file: a huge file stays bounded
    record_names: bool = False             # remember the tensor each name held (the editor asks for it)
    annotations: AnnotationReader = None   # shape annotations of the file (jaxtyping, Pyrefly, TorchShapeFlow)
    name: Optional[str] = None             # dotted module name, when the file lies in a known root
    package: Optional[str] = None          # the package relative imports start from ("" for a top-level module)
    raw_imports: dict = field(default_factory=dict)   # local name -> absolute imported name, as written
    stars: list = field(default_factory=list)         # absolute names of modules `from m import *` read
    loader: Any = None                     # cnnlint.modules.loader.Loader, or None
    # lazy evaluation (imported modules): name -> top-level statements binding it, not yet run
    pending: Optional[dict] = None
    running: set = field(default_factory=set)         # names whose statements are running (import cycles)
    done: set = field(default_factory=set)            # ids of the top-level statements already run
    digest: str = ""                                  # of the source, for the result cache's dependencies
    pymodule: Any = None                              # the value a module-typed name holds
    memo: dict = field(default_factory=dict)          # results of its pure functions' calls, this lint
    keras_data_format: Optional[str] = None           # set by keras.config.set_image_data_format(...)

    @classmethod
    def create(cls, module, source, path, name=None, package=None, loader=None, record_names=False):
        imports = resolve_imports(module, package)
        ctx = cls(module, source, path, imports, record_names=record_names,
                  annotations=AnnotationReader(imports, collect_aliases(module)), name=name, package=package,
                  raw_imports=resolve_imports(module, package, raw=True), loader=loader)
        ctx.global_frame = Frame(ctx.globals, in_module=True)
        return ctx

    @property
    def lazy(self):
        return self.pending is not None

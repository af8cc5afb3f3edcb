"""The abstract values the evaluator computes: Python constants stand for themselves; these stand for the rest.

A symbolic integer (a tensor size read with ``x.size(0)``) is a :class:`cnnlint.shapes.dims.Expr`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Optional

# creation order of the objects the evaluator makes: a constructor that changes nothing made before it is pure
CLOCK = itertools.count()


class _Sentinel:
    """One value of its class (pickled and copied as itself), named by its repr, deciding no branch."""

    _name = ""

    def __new__(cls):
        if "_instance" not in cls.__dict__:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self):
        return self._name

    def __bool__(self):  # never let a value nobody knows decide a branch by accident
        raise TypeError(f"{self._name} has no truth value")


class _Unknown(_Sentinel):
    """What the evaluator could not decide. It satisfies every check and silences what depends on it."""

    _name = "UNKNOWN"


UNKNOWN = _Unknown()


class _Number(_Sentinel):
    """A Python number whose value is not known (`k_h / q_h` of symbolic sizes, `head_dim ** -0.5`, a max of
    such): never a tensor, so a tensor combined with it keeps its shape."""

    _name = "NUMBER"


NUMBER = _Number()


@dataclass(eq=False)
class Tensor:
    shape: Optional[tuple]          # tuple of dims, or None when even the rank is unknown
    node: Optional[int] = None      # the graph node that produced it
    dtype: Optional[str] = None     # "long" for index tensors, "float", or None when unknown
    param: bool = False             # made by nn.Parameter: counted among a model's parameters
    values: Optional[tuple] = None  # the elements of a small 1-D (or 0-D: one) tensor computed from constants

    @property
    def rank(self):
        return None if self.shape is None else len(self.shape)


@dataclass(eq=False)
class Layer:
    """An instance of a framework layer (nn.Conv2d, nn.Sequential, ...), its constructor arguments evaluated."""

    kind: str                        # canonical name: "torch.nn.Conv2d"
    args: dict                       # parameter name -> evaluated value (UNKNOWN when not evaluable)
    call: Any = field(default=None, repr=False)    # the constructor's CST node: where the user fixes it
    children: dict = field(default_factory=dict, repr=False)   # containers: name -> module
    path: Optional[str] = None       # name as named_modules() gives it, set once the model is built
    written: dict = field(default_factory=dict, repr=False)   # size parameter -> where its value was written
    epoch: int = field(default_factory=lambda: next(CLOCK), repr=False)

    @property
    def type_name(self):
        return self.kind.rsplit(".", 1)[-1]

    def arg(self, name, default=None):
        return self.args.get(name, default)


@dataclass(eq=False)
class Instance:
    """An instance of a user class defined in the linted file (usually an nn.Module subclass)."""

    cls: "ClassValue" = field(repr=False)
    attrs: dict = field(default_factory=dict, repr=False)
    modules: dict = field(default_factory=dict, repr=False)    # registered submodules, in registration order
    call: Any = field(default=None, repr=False)
    path: Optional[str] = None
    # a subclass of a torch layer class (`class Conv2dSame(nn.Conv2d)`): the layer its base constructor made
    base: Optional[Layer] = field(default=None, repr=False)
    epoch: int = field(default_factory=lambda: next(CLOCK), repr=False)
    # what its class's own __getattribute__ returned for each name, while its attributes are unchanged
    looked_up: Optional[dict] = field(default=None, repr=False)
    # its attributes may have been set where we did not see it (passed to code we do not read, a method not run)
    open: bool = field(default=False, repr=False)
    items: Any = field(default=None, repr=False)     # a subclass of dict / OrderedDict: the dict it is

    @property
    def type_name(self):
        return self.cls.name


@dataclass(eq=False)
class ClassValue:
    name: str
    node: Any = field(repr=False)                 # libcst.ClassDef
    bases: list = field(repr=False)               # evaluated base values (ClassValue or External)
    attrs: dict = field(repr=False)               # class-level assignments
    methods: dict = field(repr=False)             # name -> libcst.FunctionDef
    module: Any = field(default=None, repr=False)  # the ModuleContext it was defined in
    fields: Optional[list] = field(default=None, repr=False)   # a dataclass / NamedTuple: its own field names
    setters: dict = field(default_factory=dict, repr=False)    # property name -> its `@name.setter` FunctionDef
    hooks: dict = field(default_factory=dict, repr=False)      # cache of hook(): name -> (FunctionDef, owner)

    def record_fields(self):
        """The fields of a dataclass (or NamedTuple) and of the dataclasses it derives from, in __init__ order;
        None for another class."""
        out = []
        for cls in reversed(self.mro()):
            for name in cls.fields or ():
                if name not in out:
                    out.append(name)
        return out if self.fields is not None else None

    def mro(self):
        out = [self]
        for base in self.bases:
            if isinstance(base, ClassValue):
                out.extend(c for c in base.mro() if c not in out)
        return out

    def lookup(self, name):
        for cls in self.mro():
            if name in cls.methods:
                return cls.methods[name], cls
            if name in cls.attrs:
                return cls.attrs[name], cls
        return None, None

    def hook(self, name):
        """(FunctionDef, owner) of a method the class or a base of the code defines (`__getattribute__`), else
        None; computed once per class."""
        if name not in self.hooks:
            self.hooks[name] = next(((c.methods[name], c) for c in self.mro() if name in c.methods), None)
        return self.hooks[name]

    def setter(self, name):
        """The setter of a property `name` the class (or a base) defines, when assigning it runs one."""
        for cls in self.mro():
            if name in cls.setters:
                return cls.setters[name], cls
            if name in cls.methods or name in cls.attrs:
                return None, None
        return None, None

    def is_torch_module(self) -> bool:
        """A subclass (through classes of this file) of something in torch.nn: nn.Module, nn.Sequential, ..."""
        return any(b.name.startswith("torch.nn.") for b in self.external_bases())

    def keras_kind(self):
        """"model" for a subclass of keras.Model, "layer" for one of keras.layers.Layer, else None."""
        names = {b.name for b in self.external_bases()}
        if names & KERAS_MODEL_BASES:
            return "model"
        if names & KERAS_LAYER_BASES:
            return "layer"
        return None

    def container_kind(self):
        """torch.nn.Sequential / ModuleList / ModuleDict when the class derives from one, else None."""
        for b in self.external_bases():
            if b.name in ("torch.nn.Sequential", "torch.nn.ModuleList", "torch.nn.ModuleDict"):
                return b.name
        return None

    def is_module_class(self) -> bool:
        """A class whose instances are layers or models: torch.nn.Module or Keras Model/Layer subclasses."""
        return self.is_torch_module() or self.keras_kind() is not None

    def call_method(self) -> str:
        """The method a call of an instance runs: Keras' call(), torch's forward()."""
        return "call" if self.keras_kind() is not None else "forward"

    def is_enum(self) -> bool:
        return any(b.name in ENUM_BASES for b in self.external_bases())

    def external_bases(self):
        out = []
        for cls in self.mro():
            out.extend(b for b in cls.bases if isinstance(b, External))
        return out


ENUM_BASES = {"enum.Enum", "enum.IntEnum", "enum.StrEnum", "enum.Flag", "enum.IntFlag"}


@dataclass(eq=False)
class EnumMember:
    """A member of an Enum class of the code (`Format.NHWC`): compared by identity, or by value when the class
    mixes in str or int (`class Format(str, Enum)`: `fmt == "NHWC"`)."""

    cls: ClassValue
    name: str
    value: Any
    mixed: bool = False


KERAS_MODEL_BASES = {"keras.Model", "keras.Sequential"}
KERAS_LAYER_BASES = {"keras.layers.Layer", "keras.Layer"}


@dataclass(eq=False)
class External:
    """A name from outside the file, canonicalised: ``torch.nn.Conv2d``, ``torch.nn.functional``. `raw` is the
    absolute name as imported (``keras.src.applications.resnet``, ``mypkg.models.blocks.ConvBlock``), by which the
    module loader finds its source; None for a name that was never imported."""

    name: str
    raw: Optional[str] = None

    # the same name is the same object (`nn.BatchNorm2d in (nn.BatchNorm2d, nn.SyncBatchNorm)`), however often read
    def __eq__(self, other):
        return isinstance(other, External) and other.name == self.name

    def __hash__(self):
        return hash(("External", self.name))

    def attr(self, name):
        if self.raw is None:
            return External(f"{self.name}.{name}")
        # a module's attribute is a name of it; a name's attribute, an attribute of that name
        return External(f"{self.name}.{name}", f"{self.raw}.{name}" if ":" in self.raw else f"{self.raw}:{name}")


@dataclass(eq=False)
class PyModule:
    """A module whose source the loader found: its names are read from that source when they are needed."""

    name: str
    ctx: Any = field(repr=False)      # cnnlint.extract.context.ModuleContext


@dataclass(eq=False)
class Function:
    node: Any = field(repr=False)                  # libcst.FunctionDef
    owner: Optional[ClassValue] = None
    bound: Any = field(default=None, repr=False)   # the instance for a bound method
    closure: Optional[dict] = field(default=None, repr=False)   # enclosing locals for nested functions
    defaults: Optional[dict] = field(default=None, repr=False)  # a nested function's defaults, as at its def
    module: Any = field(default=None, repr=False)  # the ModuleContext it was defined in (a method: its class's)

    @property
    def ns(self):
        return self.module if self.module is not None or self.owner is None else self.owner.module


@dataclass(eq=False)
class ForeignSite:
    """A place in another module's code, seen from the linted file: `node` of `module` (a ModuleContext), reached
    through the linted file's call `anchor` (None when no call of the linted file led there). It stands where a CST
    node of the linted file would: the report decides where the user sees it."""

    node: Any = field(repr=False)
    module: Any = field(repr=False)
    anchor: Any = field(default=None, repr=False)


@dataclass(eq=False)
class FieldSpec:
    """dataclasses.field(default=..., default_factory=...) in a dataclass body."""

    default: Any = None
    factory: Any = None
    has_default: bool = False


@dataclass(eq=False)
class Partial:
    """functools.partial(func, *args, **keywords): calling it calls func with these arguments first."""

    func: Any
    args: tuple = ()
    keywords: dict = field(default_factory=dict)


@dataclass(eq=False)
class TensorMethod:
    tensor: Tensor
    name: str


@dataclass(eq=False)
class Super:
    instance: Any
    after: ClassValue


@dataclass(eq=False)
class Either:
    """One of several modules, the code not deciding which: `DropPath(p) if p > 0. else nn.Identity()`. Called, each
    runs on the input and the outputs are joined; its path is the name both would have."""

    alternatives: list
    path: Optional[str] = None

    @staticmethod
    def of(a, b):
        alternatives = []
        for value in (a, b):
            for alt in (value.alternatives if isinstance(value, Either) else [value]):
                if not any(alt is seen for seen in alternatives):
                    alternatives.append(alt)
        return alternatives[0] if len(alternatives) == 1 else Either(alternatives)


def is_module(value) -> bool:
    return isinstance(value, (Layer, Instance, Either))


def is_keras(module) -> bool:
    """A Keras layer or model, or an instance of a Keras Model/Layer subclass of the file."""
    if isinstance(module, Layer):
        return module.kind.startswith("keras.")
    return isinstance(module, Instance) and module.cls.keras_kind() is not None

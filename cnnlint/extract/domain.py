"""The evaluator's own values and frames: lists and dicts that know when they stopped being exact, Python
builtins as values, truthiness and the join of two paths. Shared by the interpreter and its mixins."""

from __future__ import annotations

import builtins
from collections import ChainMap

from .. import values as V
from ..shapes import dims as D
from ..shapes import functions as FN
from ..shapes.torch_layers import CONTAINERS, LAYERS, WRAPPERS
from ..values import UNKNOWN, Tensor
from .imports import canonical

MAX_UNROLL = 1024          # iterations of one loop, unrolled; longer loops are joined instead

MAX_DEPTH = 40             # nested user-function calls

class BudgetExceeded(Exception):
    """The analysis of one model took more steps than it may; what it found so far still stands."""


class Raised(Exception):
    """A built-in exception the code certainly raises inside a `try` that has handlers (`kind`: its class name, as
    `TypeError`): the handler that matches runs, as in Python. Outside a `try`, a raise only ends its path."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


def handles(handler_type, kind: str) -> bool | None:
    """Whether `except <handler_type>` catches a built-in exception `kind`; handler_type is the handler's class
    names (None: a bare except). None when a name is not a built-in exception (it cannot be one's superclass,
    but it may be an alias)."""
    if handler_type is None:
        return True
    raised = getattr(builtins, kind, None)
    found = False
    for name in handler_type:
        cls = getattr(builtins, name, None)
        if not (isinstance(cls, type) and issubclass(cls, BaseException)):
            return None
        found = found or (isinstance(raised, type) and issubclass(raised, cls))
    return found


class ProbeHit(BudgetExceeded):
    """A probe run (see Run.probe) has its answer: the first layer its input reaches (None: no layer can be
    named). It ends the run as running out of steps would."""

    def __init__(self, layer):
        super().__init__()
        self.layer = layer

class PList(list):
    """A list built by the linted code. Changed under a condition we cannot decide, it becomes unknown."""

    __slots__ = ("born", "poisoned", "epoch")

    def __init__(self, items=(), born=0):
        super().__init__(items)
        self.born = born
        self.poisoned = False
        self.epoch = next(V.CLOCK)

class PDict(dict):
    """A dict built by the linted code. A key set under an undecidable condition is *maybe* there: its value is
    unknown and asking whether it is there is undecidable too; anything less precise poisons the dict."""

    __slots__ = ("born", "poisoned", "maybe", "factory", "epoch")

    def __init__(self, items=(), born=0, factory=None):
        super().__init__(items)
        self.born = born
        self.poisoned = False
        self.maybe = set()
        self.epoch = next(V.CLOCK)
        self.factory = factory      # a collections.defaultdict's: what a missing key reads as


class RegexMatch:
    """What re.match found: m.group(i) and m.groups() read it; it is true."""

    __slots__ = ("whole", "parts")

    def __init__(self, whole, parts):
        self.whole, self.parts = whole, parts


class PSet(set):
    """A set built by the linted code (a literal, set(), .add()), as PList is a list."""

    __slots__ = ("born", "poisoned", "epoch")

    def __init__(self, items=(), born=0):
        super().__init__(items)
        self.born = born
        self.poisoned = False
        self.epoch = next(V.CLOCK)

    def ordered(self):
        """Its items in an order that does not depend on string hashing (Python's own varies per process)."""
        return sorted(self, key=lambda v: (type(v).__name__, repr(v)))

class BuiltinMethod:
    __slots__ = ("obj", "name")

    def __init__(self, obj, name):
        self.obj = obj
        self.name = name

class Builtin:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

BUILTINS = {name: Builtin(name) for name in (
    "range len int float bool str list tuple dict set frozenset min max sum abs round enumerate zip reversed sorted isinstance "
    "getattr setattr hasattr super print any all divmod pow chr ord iter next map filter type id callable issubclass dir "
    "NotImplementedError ValueError TypeError RuntimeError AssertionError KeyError Exception open vars").split()}

UNKNOWN_REST = "**?"      # keyword marking a call whose other keyword arguments are not known
MAYBE_KEYS = "**maybe"    # keyword carrying the names a call may or may not pass (a **dict's maybe-keys)
UNKNOWN_EXTRA = "**+"     # keyword marking a call that may pass keywords the callee's **kwargs collects (none it names)

class Frame:
    __slots__ = ("locals", "returns", "halt", "self_obj", "closure", "uncertain", "func", "in_module", "passed",
                 "maybe_break", "assumed")

    def __init__(self, local_vars=None, self_obj=None, closure=None, func=None, in_module=False, passed=None):
        self.locals = local_vars if local_vars is not None else {}
        # parameter -> Passed: where the call wrote the value it received (for where a size was written)
        self.passed = passed
        self.maybe_break = False  # a break under an undecided condition: the loop may end after this item
        self.returns = []
        self.halt = None          # None | "return" | "break" | "continue"
        self.assumed = ()         # (atom, int) pairs an undecided `if H == 64:` holds on this path
        self.self_obj = self_obj
        self.closure = closure
        self.uncertain = 0        # depth of undecidable conditions around the current statement
        self.func = func
        self.in_module = in_module

    def branch(self, local_vars, deeper=1):
        """A frame for one path of this one (a branch, a loop body, a comprehension): same function, same call."""
        f = Frame(local_vars, self.self_obj, self.closure, self.func, self.in_module, self.passed)
        f.uncertain = self.uncertain + deeper
        f.assumed = self.assumed
        return f

    def scope(self):
        """The names a function defined here sees besides its own: these locals, then the enclosing ones (a
        nested helper reads the outer function's parameters), looked up when used; None at module level."""
        if self.in_module:
            return None
        return self.locals if self.closure is None else ChainMap(self.locals, self.closure)

class Assumed:
    """A value returned on a path where sizes are known to equal constants (`if H == grid: return pos_embed`):
    joined with the other paths' values, a size that equals theirs under those equalities takes their form."""

    __slots__ = ("value", "assumed")

    def __init__(self, value, assumed):
        self.value = value
        self.assumed = assumed


def join_returns(values):
    """The value a function returns, over the values its paths return (some Assumed)."""
    plain = [v.value if isinstance(v, Assumed) else v for v in values]
    result = plain[0]
    for other in plain[1:]:
        result = join(result, other)
    if len(plain) < 2 or all(v is p for v, p in zip(values, plain)) or not isinstance(result, Tensor) or result.shape is None or None not in result.shape:
        return result
    # a size not known because one path returned a constant the condition made equal to the other paths' size
    shapes = [v.shape for v in plain if isinstance(v, Tensor)]
    if len(shapes) != len(plain) or any(s is None or len(s) != len(result.shape) for s in shapes):
        return result
    dims = list(result.shape)
    for axis, d in enumerate(dims):
        if d is not None:
            continue
        free = {s[axis] for v, s in zip(values, shapes) if not isinstance(v, Assumed)}
        if len(free) != 1:
            continue
        (general,) = free
        if general is not None and all(_equal_given(general, s[axis], v.assumed)
                                       for v, s in zip(values, shapes) if isinstance(v, Assumed)):
            dims[axis] = general
    return Tensor(tuple(dims), node=result.node, dtype=result.dtype)


def _equal_given(general, size, facts) -> bool:
    """Whether `general` is `size` given the facts of a path: atoms' values, and products of sizes equal to a
    number (general - size a whole multiple of product - number)."""
    diff = D.sub(D.assign_atoms(general, {k: v for k, v in facts if not isinstance(k, D.Expr)}), size)
    if diff == 0:
        return True
    for product, value in facts:
        if isinstance(product, D.Expr) and isinstance(diff, D.Expr):
            (mono, _), = product.terms.items()
            factor = diff.terms.get(mono, 0)
            if factor and D.sub(diff, D.mul(factor, D.sub(product, value))) == 0:
                return True
    return False


class Ratio:
    """`size / k` of a symbolic size that k may not divide: only math.ceil / math.floor / int read it (SAME padding
    computes ceil(H / stride)); anything else sees a value it does not know."""

    __slots__ = ("num", "den")

    def __init__(self, num, den):
        self.num = num
        self.den = den

    def __bool__(self):
        raise TypeError("a Ratio has no truth value")


class Tail:
    """A tuple or list whose last items are there on some paths only: `names = ("a", "b")` then, under an undecided
    condition, `names += ("c",)`. Only a for loop reads it (the last items run under the condition); anything else
    sees a value it does not know."""

    __slots__ = ("items", "certain")

    def __init__(self, items, certain):
        self.items = list(items)
        self.certain = certain

    def __bool__(self):
        raise TypeError("a Tail has no truth value")


def set_item(v):
    """A value a set (or a dict's key) may hold as the code would: a constant, a tuple of them, or a definition
    (a class, a function, a module, a name from a library), which Python compares by identity as we do."""
    if isinstance(v, (str, int, float, bool, type(None), V.ClassValue, V.External, V.PyModule, V.EnumMember)):
        return True
    if isinstance(v, V.Function):
        return v.bound is None
    return isinstance(v, tuple) and all(set_item(x) for x in v)


def truth(v):
    """Python truthiness, or None when it cannot be decided."""
    if v is UNKNOWN or isinstance(v, (Tensor, D.Expr)):
        return None
    if isinstance(v, (PList, PDict, PSet)) and v.poisoned:
        return None
    if isinstance(v, V.Layer):
        return bool(v.children) if v.kind in CONTAINERS else True
    if isinstance(v, (V.Instance, V.ClassValue, V.Function, V.External, V.TensorMethod, Builtin, BuiltinMethod,
                      V.Partial, V.PyModule, RegexMatch)):
        return True
    if isinstance(v, V.Either):
        return UNKNOWN if any(a is None for a in v.alternatives) else True
    if isinstance(v, V.EnumMember):
        return truth(v.value) if v.mixed else True
    try:
        return bool(v)
    except Exception:
        return None

def join(a, b):
    """The least precise value both a and b are: what a variable holds after an undecidable branch."""
    if a is b:
        return a
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        if a.shape is None or b.shape is None or len(a.shape) != len(b.shape):
            shape = None
        else:
            shape = tuple(x if x == y else None for x, y in zip(a.shape, b.shape))
        return Tensor(shape, node=a.node if a.node == b.node else None, dtype=a.dtype if a.dtype == b.dtype else None)
    if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b) and type(a) is type(b):
        return type(a)(join(x, y) for x, y in zip(a, b)) if type(a) is not tuple else tuple(
            join(x, y) for x, y in zip(a, b))
    tail = _tail(a, b)
    if tail is None:
        tail = _tail(b, a)
    if tail is not None:
        return tail
    if type(a) is type(b) and isinstance(a, (int, float, str, bool, D.Expr)) and a == b:
        return a
    if all(v is V.NUMBER or type(v) is float for v in (a, b)):
        return V.NUMBER      # a float on one path, another (or one not known) on the other: a number
    if a is None and b is None:
        return None
    if isinstance(a, V.External) and isinstance(b, V.External) and a.name == b.name:
        return a           # the same name read on both paths (nn.ReLU and nn.ReLU)
    for wrapper, inner in ((a, b), (b, a)):
        if isinstance(wrapper, V.Layer) and wrapper.kind in WRAPPERS and wrapper.children.get("module") is inner:
            return inner   # `model = nn.DataParallel(model)` on some machines: called, both run the model
    if (V.is_module(a) or a is None) and (V.is_module(b) or b is None) and len(getattr(a, "alternatives", ())) < 4:
        return V.Either.of(a, b)      # (a module or None: `self.attn = Attn(...) if cond else None`)
    return UNKNOWN

def _tail(short, long):
    """`long` extends `short` by items present on one path only: the Tail they join to, else None."""
    if isinstance(short, Tail) or not isinstance(short, (tuple, list)) or not isinstance(long, (tuple, list, Tail)):
        return None
    if getattr(short, "poisoned", False) or getattr(long, "poisoned", False):
        return None
    items = long.items if isinstance(long, Tail) else list(long)
    certain = min(len(short), long.certain) if isinstance(long, Tail) else len(short)
    if len(items) <= len(short) or any(x is not y and not (type(x) is type(y) and isinstance(x, (str, int, float))
                                                           and x == y) for x, y in zip(short, items)):
        return None
    return Tail(items, certain)


def _is_dimlike(v):
    return isinstance(v, D.Expr) or (isinstance(v, int) and not isinstance(v, bool))


_PRINTABLE = (str, int, float, bool, type(None))


def printable(v):
    """Whether Python's own formatting (f-string, str % args, str.format) of this value is the text the linted
    code would produce: plain constants, or tuples/lists/dicts of them. Never a tensor, a symbolic size or an
    unknown, which Python would print as our own objects."""
    if isinstance(v, _PRINTABLE):
        return True
    if isinstance(v, (PList, PDict)) and v.poisoned:
        return False
    if isinstance(v, (tuple, list)):
        return all(printable(x) for x in v)
    if isinstance(v, dict):
        return all(printable(k) and printable(x) for k, x in v.items())
    return False


class TorchNames:
    """dir(torch.nn.functional): holds the names cnnlint knows torch to have (`'silu' in dir(F)` is True);
    whether it holds another name is not known."""

    __slots__ = ("module",)

    def __init__(self, module):
        self.module = module

    def has(self, name):
        return True if isinstance(name, str) and known_torch_name(f"{self.module}.{name}") else UNKNOWN


def known_torch_name(name):
    full = canonical(name)
    return full.startswith("torch.") and (full in LAYERS or full in CONTAINERS or FN.lookup(full) is not None)

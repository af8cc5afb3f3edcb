"""Shapes the user wrote down (jaxtyping, Pyrefly, TorchShapeFlow annotations) as data, and their meaning in one call.

A :class:`ShapeSpec` is a list of axes: a fixed size, a named size, any single axis, any number of axes (``...`` or
``*name``), or a small expression over named sizes (``c*2``). Within one call of a function every name stands for
one size: the first tensor that shows an axis named ``b`` binds it, every later ``b`` must equal it. :func:`bind`
matches a spec against a tensor's shape under those bindings and says what must hold (the *requirements*); the
rules decide, with the solver, whether it can.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

from . import dims as D

FIXED, NAMED, ANY, VARIADIC, EXPR = "fixed", "named", "any", "variadic", "expr"

# the graph ops an annotated tensor passes through (cnnlint.extract.annotated_calls), judged by CNN113 / CNN114
ARGUMENT, RETURN, ASSIGN = "annotation.argument", "annotation.return", "annotation.assign"


@dataclass(frozen=True)
class Axis:
    kind: str                    # FIXED | NAMED | ANY | VARIADIC | EXPR
    value: object = None         # int (FIXED), name (NAMED; VARIADIC, None for `...`), expression tree (EXPR)
    broadcastable: bool = False  # jaxtyping's `#name`: a size of 1 is accepted as well
    text: str = ""               # the axis as written


@dataclass(frozen=True)
class ShapeSpec:
    axes: tuple
    text: str                    # the annotation as written, for messages
    dtype: Optional[str] = None  # "float" | "long" | None

    @property
    def variadic(self) -> Optional[int]:
        return next((i for i, a in enumerate(self.axes) if a.kind == VARIADIC), None)


@dataclass
class Requirement:
    axis: int                    # index in the tensor's shape
    got: object                  # the size the tensor has
    expected: object             # the size the annotation says
    broadcastable: bool
    written: str                 # the annotation's axis as written


@dataclass
class Binding:
    shape: Optional[tuple]                        # the tensor's shape with what the annotation adds
    requirements: list = field(default_factory=list)
    rank: Optional[tuple] = None                  # (rank it has, rank wanted as text) when no size can fix it


# -- expressions over named sizes: ("+", a, b), ("name", "c") or an int ---------------------------------------------
_OPS = {"+": D.add, "-": D.sub, "*": D.mul, "//": D.floordiv}


def evaluate(tree, env) -> D.Dim:
    """The size an expression stands for under the bindings, or None when a name is unbound."""
    if isinstance(tree, int):
        return tree
    if tree[0] == "name":
        return env.get(tree[1])
    if tree[0] == "neg":
        return D.neg(evaluate(tree[1], env))
    left, right = evaluate(tree[1], env), evaluate(tree[2], env)
    if left is None or right is None:
        return None
    return _OPS[tree[0]](left, right)


# -- matching -----------------------------------------------------------------------------------------------------------
def bind(spec: ShapeSpec, shape, env: dict, fresh: Callable[[str], D.Expr]) -> Binding:
    """Match `spec` against a tensor's `shape` (None when even its rank is unknown) under `env`, which maps names to
    sizes and ``*name`` to tuples of sizes and is extended with the names this tensor binds. `fresh(name)` makes a
    new symbol for a named size the tensor does not know."""
    axes = spec.axes
    v = spec.variadic
    if shape is None:
        if v is not None:
            bound = env.get("*" + axes[v].value) if axes[v].value else None
            if bound is None:
                return Binding(None)
            shape = (None,) * v + tuple(bound) + (None,) * (len(axes) - v - 1)
        else:
            shape = (None,) * len(axes)
        out = _match(axes, shape, env, fresh, v, len(axes) if v is None else len(shape) - len(axes) + 1)
        out.requirements = []          # nothing was known to contradict
        return out
    r = len(shape)
    if v is None and r != len(axes):
        return Binding(shape, rank=(r, str(len(axes))))
    if v is not None and r < len(axes) - 1:
        return Binding(shape, rank=(r, f"at least {len(axes) - 1}"))
    return _match(axes, shape, env, fresh, v, len(axes) if v is None else r - len(axes) + 1)


def _match(axes, shape, env, fresh, v, width):
    """`width`: how many of the tensor's axes the variadic axis covers."""
    positions = []                                   # (axis, index in shape)
    for i, axis in enumerate(axes):
        if v is None or i < v:
            positions.append((axis, i))
        elif i > v:
            positions.append((axis, i - 1 + width))
    dims = list(shape)
    reqs: list = []
    if v is not None and not _match_variadic(axes[v], v, dims[v:v + width], env, reqs, dims):
        bound = len(env["*" + axes[v].value])
        return Binding(tuple(shape), rank=(len(shape), str(len(shape) - width + bound)))
    later = []
    for axis, index in positions:
        if axis.kind == EXPR:
            later.append((axis, index))          # after the names this same tensor binds
        else:
            _match_axis(axis, index, dims, env, fresh, reqs)
    for axis, index in later:
        _expect(axis, index, evaluate(axis.value, env), dims, reqs)
    return Binding(tuple(dims), reqs)


def _match_axis(axis, index, dims, env, fresh, reqs):
    got = dims[index]
    if axis.kind == FIXED:
        _expect(axis, index, axis.value, dims, reqs)
    elif axis.kind == NAMED:
        if axis.value in env:
            _expect(axis, index, env[axis.value], dims, reqs)
        elif axis.broadcastable:
            if isinstance(got, int) and got != 1:    # a size 1 does not bind a broadcastable name
                env[axis.value] = got
        elif got is None:
            env[axis.value] = dims[index] = fresh(axis.value)
        else:
            env[axis.value] = got


def _expect(axis, index, expected, dims, reqs):
    got = dims[index]
    if expected is None:
        return
    if got is None:
        if not axis.broadcastable:
            dims[index] = expected
        return
    if got != expected:
        reqs.append(Requirement(index, got, expected, axis.broadcastable, axis.text))


def _match_variadic(axis, start, got, env, reqs, dims) -> bool:
    """False when `*name` was bound to another number of axes (a rank the tensor cannot have)."""
    if axis.value is None:
        return True
    key = "*" + axis.value
    if key not in env:
        env[key] = tuple(got)
        return True
    if axis.broadcastable:
        return True                  # broadcasting of whole shapes: not judged
    bound = env[key]
    if len(bound) != len(got):
        return False
    for k, (g, e) in enumerate(zip(got, bound)):
        if g is None and e is not None:
            dims[start + k] = e
        elif e is not None and g != e:
            reqs.append(Requirement(start + k, g, e, False, axis.text))
    return True


def instantiate(spec: ShapeSpec, env: dict, fresh) -> Optional[tuple]:
    """A shape for a tensor nothing is known about but its annotation (a model's input); None when its rank is not
    fixed. Broadcastable and anonymous axes stay unknown: any size is consistent with them."""
    return bind(spec, None, env, fresh).shape

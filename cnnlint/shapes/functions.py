"""Transfer functions of torch.*, torch.nn.functional.* and Tensor methods: one table keyed by canonical name.

A Tensor method is keyed ``Tensor.view``; ``torch.flatten`` and ``Tensor.flatten`` share one entry whose first
name is the op name the graph records. Each entry binds its arguments by a Python-style signature, then computes
the output assuming the op accepts them; the rules judge.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from typing import Callable

from ..values import NUMBER, UNKNOWN, Tensor
from . import dims as D
from . import tensor_values as TV
from .common import (adaptive_spatial, as_dim, as_int, conv_spatial, halve_axis, norm_axis, ntuple, pad_shape,
                     pixel_shuffle_shape, pool_spatial, shape_of, tensor, unknown_tensor)


@dataclass
class FunctionSpec:
    op: str                 # canonical op name recorded in the graph (first registered name)
    params: list            # [(name, default or REQUIRED, kind)] kind: "" | "*" (variadic) | "**"
    transfer: Callable      # (bound: dict) -> value
    axes: tuple = ()        # the axis arguments: ((param, kind), ...), kind as in AXIS_KINDS


REQUIRED = object()
FUNCTIONS: dict = {}


def _parse_signature(sig: str):
    params = []
    for part in (p.strip() for p in sig.split(",") if p.strip()):
        kind = ""
        if part.startswith("**"):
            kind, part = "**", part[2:]
        elif part.startswith("*"):
            kind, part = "*", part[1:]
        if "=" in part:
            name, default = part.split("=", 1)
            params.append((name.strip(), ast.literal_eval(default.strip()), kind))
        else:
            params.append((part, REQUIRED, kind))
    return params


# What an axis argument may hold, for CNN111: "one" an axis of the input, "new" an axis of the output one rank
# larger (stack, unsqueeze), "many" an axis or a tuple of distinct axes, "perm" a permutation of all the axes.
AXIS_KINDS = ("one", "new", "many", "perm")


def parse_axes(axes: str) -> tuple:
    """"dim:many start_dim" -> (("dim", "many"), ("start_dim", "one"))."""
    out = []
    for part in axes.split():
        name, _, kind = part.partition(":")
        assert (kind or "one") in AXIS_KINDS, part
        out.append((name, kind or "one"))
    return tuple(out)


def fn(names: str, sig: str, axes: str = ""):
    def register(transfer):
        names_l = names.split()
        spec = FunctionSpec(_expand(names_l[0]), _parse_signature(sig), transfer, parse_axes(axes))
        for name in names_l:
            FUNCTIONS[_expand(name)] = spec
        return transfer
    return register


def _expand(name: str) -> str:
    if name.startswith("F."):
        return "torch.nn.functional." + name[2:]
    return name


def bind(spec: FunctionSpec, args: list, kwargs: dict):
    """Map positional and keyword arguments onto the signature; None when they do not fit."""
    bound = {}
    args = list(args)
    for name, default, kind in spec.params:
        if kind == "*":
            rest = args
            args = []
            # view(x, (2, 3)) and view(2, 3) both mean a size
            if len(rest) == 1 and isinstance(rest[0], (list, tuple)) and not isinstance(rest[0], Tensor):
                rest = list(rest[0])
            bound[name] = rest if rest or name not in kwargs else kwargs.pop(name)
            if isinstance(bound[name], (list, tuple)):
                bound[name] = list(bound[name])
            continue
        if kind == "**":
            bound[name] = dict(kwargs)
            kwargs = {}
            continue
        if args:
            bound[name] = args.pop(0)
        elif name in kwargs:
            bound[name] = kwargs.pop(name)
        elif default is not REQUIRED:
            bound[name] = default
        else:
            return None
    if args:
        return None
    bound.update(kwargs)   # unknown keywords are kept, never an error here
    return bound


def lookup(name: str):
    return FUNCTIONS.get(name)


def _like(x, dtype=None):
    if isinstance(x, Tensor):
        return Tensor(x.shape, dtype=dtype or x.dtype)
    return unknown_tensor(dtype)


# -- elementwise --------------------------------------------------------------------------------------------
UNARY = """F.relu F.relu6 F.gelu F.silu F.elu F.selu F.celu F.leaky_relu F.hardswish F.hardsigmoid F.hardtanh F.mish
F.softplus F.softsign F.tanhshrink F.logsigmoid F.sigmoid F.tanh F.dropout F.dropout1d
F.alpha_dropout F.prelu F.rrelu F.threshold F.local_response_norm F.batch_norm F.instance_norm F.layer_norm
F.group_norm F.rms_norm torch.relu torch.sigmoid torch.tanh torch.exp torch.log torch.sqrt torch.rsqrt torch.abs
torch.neg torch.sin torch.cos torch.clamp torch.clip torch.sign torch.round torch.floor torch.ceil torch.erf torch.log1p
torch.expm1 torch.reciprocal torch.square torch.nan_to_num torch.clone torch.detach torch.dropout torch.zeros_like
torch.ones_like torch.rand_like torch.randn_like torch.empty_like torch.full_like torch.sigmoid_ torch.relu_
Tensor.relu Tensor.relu_ Tensor.sigmoid Tensor.sigmoid_ Tensor.tanh Tensor.tanh_ Tensor.exp Tensor.exp_ Tensor.log
Tensor.sqrt Tensor.rsqrt Tensor.abs Tensor.neg Tensor.clamp Tensor.clamp_ Tensor.clip Tensor.sign Tensor.round
Tensor.clamp_min Tensor.clamp_max Tensor.clamp_min_ Tensor.clamp_max_ torch.clamp_min torch.clamp_max
Tensor.floor Tensor.ceil Tensor.contiguous Tensor.clone Tensor.detach Tensor.detach_
Tensor.cpu Tensor.cuda Tensor.requires_grad_
Tensor.zero_ Tensor.fill_ Tensor.normal_ Tensor.uniform_ Tensor.square Tensor.reciprocal
Tensor.masked_fill Tensor.masked_fill_ Tensor.sin Tensor.cos Tensor.erf Tensor.log1p Tensor.expm1 Tensor.nan_to_num
Tensor.softmax_ Tensor.pin_memory Tensor.cpu_ Tensor.mul_scalar torch.masked_fill Tensor.bernoulli
Tensor.bernoulli_ Tensor.sigmoid_ Tensor.gelu torch.nn.functional.gelu_ F.hardswish_ F.relu_ F.leaky_relu_ F.elu_
Tensor.numpy torch.nn.init.normal_ torch.nn.init.zeros_ torch.nn.init.ones_ Tensor.tril torch.tril Tensor.triu
torch.triu torch.log2 torch.log10 torch.exp2 torch.tan torch.atan torch.asin torch.acos torch.sinh torch.cosh
torch.trunc torch.frac torch.sgn torch.logit torch.sinc torch.deg2rad torch.rad2deg Tensor.log2 Tensor.log10
Tensor.exp2 Tensor.tan Tensor.atan Tensor.trunc Tensor.frac Tensor.sgn Tensor.abs_ Tensor.neg_ Tensor.log_
Tensor.sqrt_ Tensor.exp2_ Tensor.sinh Tensor.cosh Tensor.logit"""


@fn(UNARY, "input, *rest, **kwargs")
def _unary(a):
    return _like(a["input"])


@fn("Tensor.long Tensor.int Tensor.bool Tensor.byte", "input, *rest, **kwargs")
def _to_long(a):
    return _like(a["input"], dtype="long")


@fn("Tensor.float Tensor.double Tensor.half Tensor.bfloat16", "input, *rest, **kwargs")
def _to_float(a):
    return _like(a["input"], dtype="float")


@fn("Tensor.to Tensor.type Tensor.type_as", "input, *rest, **kwargs")
def _to_other(a):
    """A dtype or a device: which one is not read, so the dtype becomes unknown."""
    return Tensor(shape_of(a["input"]))


# same shape and dtype as the input, but with arguments worth binding by name (CNN111 reads the axes)
for _names, _sig, _axes in (
        ("F.dropout2d F.dropout3d", "input, p=0.5, training=True, inplace=False", ""),
        ("F.normalize", "input, p=2.0, dim=1, eps=1e-12, out=None", "dim"),
        ("torch.cumsum Tensor.cumsum torch.cumprod Tensor.cumprod", "input, dim, dtype=None", "dim"),
        ("torch.flip Tensor.flip", "input, *dims", "dims:many"),
        ("torch.roll Tensor.roll", "input, shifts, dims=None", "dims:many")):
    fn(_names, _sig, _axes)(_unary)


@fn("torch.argsort Tensor.argsort", "input, dim=-1, descending=False, stable=False", axes="dim")
def _argsort(a):
    return _like(a["input"], dtype="long")


@fn("torch.softmax F.softmax F.log_softmax F.softmin torch.log_softmax Tensor.softmax Tensor.log_softmax",
    "input, dim=None, _stacklevel=3, dtype=None", axes="dim")
def _softmax(a):
    return _like(a["input"])


@fn("F.glu", "input, dim=-1", axes="dim")
def _glu(a):
    return tensor(halve_axis(shape_of(a["input"]), a["dim"]))


def broadcast(s1, s2):
    """The broadcast of two shapes, assuming they broadcast; a dim that cannot be decided is unknown."""
    if s1 is None or s2 is None:
        return None
    out = []
    for i in range(1, max(len(s1), len(s2)) + 1):
        a = s1[-i] if i <= len(s1) else 1
        b = s2[-i] if i <= len(s2) else 1
        if a == 1:
            out.append(b)
        elif b == 1 or a == b:
            out.append(a)
        else:
            out.append(None if a is None or b is None else a)
    return tuple(reversed(out))


# what a probe for a model's input (cnnlint.analysis) passes through on its way to the first layer: ops that accept
# a tensor of any shape and return one of its shape (a scale to [0, 1], a dropout, an activation, a cast); F.pad
# changes only trailing axes (its own rule)
PROBE_TRANSPARENT = {_expand(n) for n in UNARY.split() if not n.startswith((
    "F.batch_norm", "F.instance_norm", "F.layer_norm", "F.group_norm", "F.rms_norm", "F.local_response_norm",
    "F.prelu", "Tensor.masked_fill"))} | {"Tensor.float", "Tensor.double", "Tensor.half", "Tensor.bfloat16",
                                         "Tensor.to", "Tensor.type"}
PROBE_TRANSPARENT_WITH_NUMBER = {"operator.add", "operator.sub", "operator.mul", "operator.truediv", "torch.add",
                                 "torch.sub", "torch.mul", "torch.div", "Tensor.add", "Tensor.sub", "Tensor.mul",
                                 "Tensor.div"}


def probe_passes(op, bound) -> int | None:
    """How many trailing axes an op (by the name the code called it) changes when its input is the probe (0:
    none), or None when the probe cannot pass (the op depends on the input's shape or changes it otherwise)."""
    op = _expand(op)
    if op in PROBE_TRANSPARENT:
        return 0
    if op in PROBE_TRANSPARENT_WITH_NUMBER and isinstance(bound, dict):
        other = [v for k, v in bound.items() if k in ("input", "other")]
        if len(other) == 2 and sum(isinstance(v, (int, float)) and not isinstance(v, bool) or v is NUMBER
                                   for v in other) == 1:
            return 0
        return None
    if op == "torch.nn.functional.pad" and isinstance(bound, dict):
        pad = bound.get("pad")
        if isinstance(pad, (list, tuple)) and pad and len(pad) % 2 == 0 and bound.get("mode") in (
                None, "constant", "reflect", "replicate", "circular"):
            return len(pad) // 2
    return None


def _operand_shape(v):
    if isinstance(v, Tensor):
        return v.shape
    if isinstance(v, (int, float, bool, D.Expr)) or v is NUMBER:
        return ()
    return None


BINARY = """operator.add operator.sub operator.mul operator.floordiv operator.mod operator.pow
torch.add torch.sub torch.mul torch.maximum torch.minimum torch.fmod torch.remainder
torch.eq torch.ne torch.lt torch.le torch.gt torch.ge torch.logical_and torch.logical_or torch.atan2
Tensor.add Tensor.sub Tensor.mul Tensor.add_ Tensor.sub_ Tensor.mul_ Tensor.maximum
Tensor.minimum Tensor.eq Tensor.ne Tensor.lt Tensor.le Tensor.gt Tensor.ge torch.pow Tensor.pow Tensor.pow_"""


@fn(BINARY, "input, other, *rest, **kwargs")
def _binary(a):
    x, y = a["input"], a["other"]
    if not isinstance(x, Tensor) and not isinstance(y, Tensor):
        return UNKNOWN
    shape = broadcast(_operand_shape(x), _operand_shape(y))
    return Tensor(shape, dtype=_promoted_dtype(x, y))


@fn("operator.truediv torch.div torch.true_divide Tensor.div Tensor.div_", "input, other, *rest, **kwargs")
def _divide(a):
    out = _binary(a)
    if isinstance(out, Tensor) and a.get("rounding_mode") is None:
        out.dtype = "float"       # true division of integers gives floats
    elif isinstance(out, Tensor):
        out.dtype = None
    return out


def _operand_dtype(v):
    if isinstance(v, Tensor):
        return v.dtype
    if isinstance(v, bool):
        return None
    return {int: "long", float: "float"}.get(type(v))


def _promoted_dtype(x, y):
    """torch's type promotion, as far as "long" and "float" go; None when either is unknown."""
    kinds = {_operand_dtype(x), _operand_dtype(y)}
    if None in kinds:
        return None
    return "float" if "float" in kinds else "long"


@fn("torch.where", "condition, input=None, other=None")
def _where(a):
    shape = _operand_shape(a["condition"])
    for v in (a["input"], a["other"]):
        if v is not None:
            shape = broadcast(shape, _operand_shape(v))
    return Tensor(shape)


# -- linear algebra -----------------------------------------------------------------------------------------
def matmul_shape(s1, s2):
    if s1 is None or s2 is None or not s1 or not s2:
        return None
    if len(s1) == 1 and len(s2) == 1:
        return ()
    if len(s2) == 1:
        return s1[:-1]
    if len(s1) == 1:
        return s2[:-2] + s2[-1:]
    batch = broadcast(s1[:-2], s2[:-2])
    if batch is None:
        return None
    return batch + (s1[-2], s2[-1])


@fn("operator.matmul torch.matmul torch.mm torch.bmm Tensor.matmul Tensor.mm Tensor.bmm", "input, other")
def _matmul(a):
    return Tensor(matmul_shape(shape_of(a["input"]), shape_of(a["other"])))


@fn("F.linear", "input, weight, bias=None")
def _f_linear(a):
    shape, w = shape_of(a["input"]), shape_of(a["weight"])
    if not shape or w is None or len(w) != 2:
        return unknown_tensor()
    return tensor(shape[:-1] + (w[0],))


# -- joining and splitting ----------------------------------------------------------------------------------
@fn("torch.cat torch.concat torch.concatenate", "tensors, dim=0", axes="dim")
def _cat(a):
    parts = a["tensors"]
    if not isinstance(parts, (list, tuple)) or not parts:
        return unknown_tensor()
    shapes = [shape_of(p) for p in parts]
    known = [s for s in shapes if s is not None and s != (0,)]
    if len(known) != len(shapes) or not known:
        return unknown_tensor()
    rank = len(known[0])
    axis = norm_axis(a["dim"], rank)
    if axis is None or any(len(s) != rank for s in known):
        return unknown_tensor()
    out = list(known[0])
    out[axis] = _sum_dims(s[axis] for s in known)
    for i in range(rank):
        if i != axis and out[i] is None:   # assuming they agree, any known size is the size
            out[i] = next((s[i] for s in known if s[i] is not None), None)
    return tensor(out)


def _sum_dims(ds):
    total = 0
    for d in ds:
        total = D.add(total, d)
    return total


@fn("torch.stack", "tensors, dim=0", axes="dim:new")
def _stack(a):
    parts = a["tensors"]
    if not isinstance(parts, (list, tuple)) or not parts:
        return unknown_tensor()
    shape = shape_of(parts[0])
    if shape is None:
        return unknown_tensor()
    axis = norm_axis(a["dim"], len(shape) + 1)
    if axis is None:
        return unknown_tensor()
    return tensor(shape[:axis] + (len(parts),) + shape[axis:])


@fn("torch.chunk Tensor.chunk", "input, chunks, dim=0", axes="dim")
def _chunk(a):
    shape, chunks = shape_of(a["input"]), as_int(a["chunks"])
    if shape is None or chunks is None:
        return UNKNOWN
    axis = norm_axis(a["dim"], len(shape))
    if axis is None:
        return UNKNOWN
    size = shape[axis]
    if isinstance(size, int):
        step = -(-size // chunks)
        sizes = [min(step, size - i) for i in range(0, size, step)] if step else []
    else:
        part = D.exact_div(size, chunks)
        if part is None:
            return UNKNOWN
        sizes = [part] * chunks
    return tuple(tensor(shape[:axis] + (s,) + shape[axis + 1:]) for s in sizes)


@fn("torch.split Tensor.split", "input, split_size_or_sections, dim=0", axes="dim")
def _split(a):
    shape, sections = shape_of(a["input"]), a["split_size_or_sections"]
    if shape is None:
        return UNKNOWN
    axis = norm_axis(a["dim"], len(shape))
    if axis is None:
        return UNKNOWN
    if isinstance(sections, (list, tuple)):
        return tuple(tensor(shape[:axis] + (as_dim(s),) + shape[axis + 1:]) for s in sections)
    size, step = shape[axis], as_int(sections)
    if not isinstance(size, int) or not step:
        return UNKNOWN
    return tuple(tensor(shape[:axis] + (min(step, size - i),) + shape[axis + 1:]) for i in range(0, size, step))


@fn("torch.tensor_split Tensor.tensor_split", "input, indices_or_sections=None, dim=0, indices=None, sections=None",
    axes="dim")
def _tensor_split(a):
    """Parts cut at the given indices (the last runs to the end: as a slice from the last index), or n sections,
    the first size % n one longer."""
    shape = shape_of(a["input"])
    given = [a[k] for k in ("indices_or_sections", "indices", "sections") if a[k] is not None]
    if shape is None or len(given) != 1:
        return UNKNOWN
    axis = norm_axis(a["dim"], len(shape))
    if axis is None:
        return UNKNOWN
    size, cut = shape[axis], given[0]
    if isinstance(cut, (list, tuple)):
        bounds = [as_int(i) for i in cut]
        if any(b is None or b < 0 for b in bounds) or bounds != sorted(bounds):
            return UNKNOWN
        if isinstance(size, int):
            edges = [0] + [min(b, size) for b in bounds] + [size]
            lengths = [hi - lo for lo, hi in zip(edges, edges[1:])]
        else:
            edges = [0] + bounds
            lengths = [hi - lo for lo, hi in zip(edges, edges[1:])] + [D.sub(size, bounds[-1] if bounds else 0)]
    else:
        n = as_int(cut)
        if not n or n < 1:
            return UNKNOWN
        if isinstance(size, int):
            lengths = [size // n + (1 if i < size % n else 0) for i in range(n)]
        else:
            part = D.exact_div(size, n)
            if part is None:
                return UNKNOWN
            lengths = [part] * n
    return tuple(tensor(shape[:axis] + (length,) + shape[axis + 1:]) for length in lengths)


@fn("torch.unbind Tensor.unbind", "input, dim=0", axes="dim")
def _unbind(a):
    shape = shape_of(a["input"])
    if shape is None:
        return UNKNOWN
    axis = norm_axis(a["dim"], len(shape))
    if axis is None or not isinstance(shape[axis], int) or shape[axis] > 64:
        return UNKNOWN
    return tuple(tensor(shape[:axis] + shape[axis + 1:]) for _ in range(shape[axis]))


@fn("torch.narrow Tensor.narrow", "input, dim, start, length", axes="dim")
def _narrow(a):
    return _replace_axis(a, lambda shape, axis: shape[:axis] + (as_dim(a["length"]),) + shape[axis + 1:])


@fn("torch.select Tensor.select", "input, dim, index", axes="dim")
def _select(a):
    return _replace_axis(a, lambda shape, axis: shape[:axis] + shape[axis + 1:])


@fn("torch.index_select Tensor.index_select", "input, dim, index", axes="dim")
def _index_select(a):
    index = shape_of(a["index"])
    length = index[0] if index is not None and len(index) == 1 else None
    return _replace_axis(a, lambda shape, axis: shape[:axis] + (length,) + shape[axis + 1:])


@fn("torch.gather Tensor.gather", "input, dim, index, **kwargs", axes="dim")
def _gather(a):
    return Tensor(shape_of(a["index"]), dtype=getattr(a["input"], "dtype", None))


def _replace_axis(a, make):
    """The output of an op that changes the axis `dim` of its input, by make(shape, axis); unknown when it is."""
    shape = shape_of(a["input"])
    axis = norm_axis(a["dim"], None if shape is None else len(shape))
    if axis is None:
        return unknown_tensor(getattr(a["input"], "dtype", None))
    return tensor(make(shape, axis), dtype=getattr(a["input"], "dtype", None))


# -- reshaping ----------------------------------------------------------------------------------------------
def flatten_shape(x, start, end):
    shape = shape_of(x)
    if shape is None:
        return unknown_tensor()
    if len(shape) == 0:
        return tensor((1,))
    s, e = norm_axis(start, len(shape)), norm_axis(end, len(shape))
    if s is None or e is None or s > e:
        return unknown_tensor()
    return tensor(shape[:s] + (D.product(shape[s:e + 1]),) + shape[e + 1:], dtype=getattr(x, "dtype", None))


@fn("torch.flatten Tensor.flatten", "input, start_dim=0, end_dim=-1", axes="start_dim end_dim")
def _flatten(a):
    return flatten_shape(a["input"], a["start_dim"], a["end_dim"])


RESHAPES = ("Tensor.view", "torch.reshape")      # the ops view/reshape calls are recorded as

# ops that move, copy or gather elements and keep their dtype (an index built with arange, stacked, flattened and
# permuted is still an index); a sum of integers is an integer
KEEP_DTYPE = frozenset("""torch.cat torch.concat torch.concatenate torch.stack Tensor.permute torch.permute
Tensor.transpose torch.transpose Tensor.swapaxes torch.swapaxes Tensor.swapdims torch.flatten Tensor.flatten
Tensor.view torch.reshape Tensor.reshape Tensor.view_as Tensor.reshape_as Tensor.squeeze torch.squeeze
Tensor.unsqueeze torch.unsqueeze Tensor.expand Tensor.expand_as Tensor.repeat Tensor.tile torch.tile torch.flip
Tensor.flip torch.roll Tensor.roll torch.narrow Tensor.narrow torch.select Tensor.select torch.movedim
Tensor.movedim torch.unflatten Tensor.unflatten torch.sum Tensor.sum""".split())


def kept_dtype(name, bound):
    """The dtype of what op `name` makes when it keeps its input's (the dtype all the tensors it moves have, and
    none given), else None."""
    if name not in KEEP_DTYPE or bound.get("dtype") is not None:
        return None
    first = bound.get("input", bound.get("tensors"))
    parts = list(first) if isinstance(first, (list, tuple)) else [first]
    kinds = {p.dtype if isinstance(p, Tensor) else None for p in parts}
    return kinds.pop() if len(kinds) == 1 else None


def reshape_shape(shape, target, divide=D.exact_div):
    """The shape view/reshape produces: -1 inferred when the element count divides (`divide`: a whole quotient
    or None); None where unknown."""
    target = sizes(target)
    if target is None:
        return None
    dims = [as_dim(t) for t in target]
    if dims.count(-1) > 1:
        return None
    if -1 in dims:
        known = D.product(d for d in dims if d != -1)
        inferred = divide(D.product(shape), known) if shape is not None and known not in (None, 0) else None
        if inferred is None and shape is not None and known not in (None, 0):
            inferred = D.floordiv(D.product(shape), known) if isinstance(known, int) else None
        dims[dims.index(-1)] = inferred
    return tuple(dims)


@fn("Tensor.view Tensor.reshape", "input, *shape")
def _view(a):
    return Tensor(reshape_shape(shape_of(a["input"]), a["shape"]), dtype=getattr(a["input"], "dtype", None))


@fn("torch.reshape", "input, shape")
def _reshape_fn(a):
    return Tensor(reshape_shape(shape_of(a["input"]), a["shape"]))


@fn("Tensor.view_as Tensor.reshape_as Tensor.expand_as", "input, other")
def _view_as(a):
    return Tensor(shape_of(a["other"]), dtype=getattr(a["input"], "dtype", None))


def _size_args(sizes):
    """`*sizes` as torch reads them: x.expand(2, 3) or x.expand((2, 3)) / x.expand(y.shape); None when the one
    argument is not known to be a size or a sequence of them."""
    if not isinstance(sizes, (list, tuple)):
        return None
    if len(sizes) == 1 and isinstance(sizes[0], (list, tuple)):
        return sizes[0]
    if len(sizes) == 1 and as_dim(sizes[0]) is None:
        return None
    return sizes


@fn("Tensor.expand", "input, *sizes")
def _expand_tensor(a):
    shape, sizes = shape_of(a["input"]), _size_args(a["sizes"])
    if not isinstance(sizes, (list, tuple)):
        return unknown_tensor()
    out = []
    offset = len(sizes) - (len(shape) if shape is not None else 0)
    for i, s in enumerate(sizes):
        s = as_dim(s)
        if s == -1:
            s = shape[i - offset] if shape is not None and i >= offset else None
        out.append(s)
    return tensor(out)


@fn("Tensor.repeat", "input, *sizes")
def _repeat(a):
    shape, sizes = shape_of(a["input"]), _size_args(a["sizes"])
    if shape is None or not isinstance(sizes, (list, tuple)) or len(sizes) < len(shape):
        return unknown_tensor()
    padded = (1,) * (len(sizes) - len(shape)) + shape
    return tensor(D.mul(d, as_dim(s)) for d, s in zip(padded, sizes))


@fn("Tensor.tile torch.tile", "input, *dims")
def _tile(a):
    """Like repeat, but fewer repetitions than axes repeat the last axes (the others once)."""
    shape, reps = shape_of(a["input"]), _size_args(a["dims"])
    if shape is None or not isinstance(reps, (list, tuple)):
        return unknown_tensor()
    rank = max(len(shape), len(reps))
    padded = (1,) * (rank - len(shape)) + tuple(shape)
    reps = (1,) * (rank - len(reps)) + tuple(reps)
    return tensor(D.mul(d, as_dim(s)) for d, s in zip(padded, reps))


@fn("Tensor.permute torch.permute", "input, *dims", axes="dims:perm")
def _permute(a):
    shape, order = shape_of(a["input"]), a["dims"]
    if shape is None or not isinstance(order, (list, tuple)) or len(order) != len(shape):
        return unknown_tensor()
    axes = [norm_axis(o, len(shape)) for o in order]
    if None in axes or len(set(axes)) != len(axes):
        return unknown_tensor()
    return tensor(shape[i] for i in axes)


@fn("Tensor.transpose torch.transpose Tensor.swapaxes torch.swapaxes Tensor.swapdims", "input, dim0, dim1",
    axes="dim0 dim1")
def _transpose(a):
    shape = shape_of(a["input"])
    if shape is None:
        return unknown_tensor()
    i, j = norm_axis(a["dim0"], len(shape)), norm_axis(a["dim1"], len(shape))
    if i is None or j is None:
        return unknown_tensor()
    out = list(shape)
    out[i], out[j] = out[j], out[i]
    return tensor(out)


@fn("Tensor.t torch.t", "input")
def _t(a):
    shape = shape_of(a["input"])
    if shape is None or len(shape) > 2:
        return unknown_tensor()
    return tensor(tuple(reversed(shape)))


@fn("Tensor.squeeze torch.squeeze", "input, dim=None", axes="dim:many")
def _squeeze(a):
    shape = shape_of(a["input"])
    if shape is None:
        return unknown_tensor()
    dim = a["dim"]
    if dim is None:
        if any(not isinstance(d, int) for d in shape):
            return unknown_tensor()
        return tensor(d for d in shape if d != 1)
    dims = dim if isinstance(dim, (list, tuple)) else [dim]
    axes = [norm_axis(d, len(shape)) for d in dims] if shape else []
    if shape and None in axes:
        return unknown_tensor()
    out = []
    for i, d in enumerate(shape):
        if i in axes and d == 1:
            continue
        if i in axes and not isinstance(d, int):
            return unknown_tensor()   # a symbolic size may or may not be 1
        out.append(d)
    return tensor(out)


@fn("Tensor.unsqueeze torch.unsqueeze", "input, dim", axes="dim:new")
def _unsqueeze(a):
    shape = shape_of(a["input"])
    if shape is None:
        return unknown_tensor()
    axis = norm_axis(a["dim"], len(shape) + 1)
    if axis is None:
        return unknown_tensor()
    return tensor(shape[:axis] + (1,) + shape[axis:])


# -- reductions -----------------------------------------------------------------------------------------------
def _reduce(a):
    shape = shape_of(a["input"])
    dim = a.get("dim")
    keepdim = a.get("keepdim", False)
    if shape is None or keepdim not in (True, False):
        return unknown_tensor()
    if dim is None:
        return tensor((1,) * len(shape) if keepdim else ())
    dims = dim if isinstance(dim, (list, tuple)) else [dim]
    if not shape:
        # torch reads a 0-D tensor as having the one axis 0 (or -1): reducing it gives a 0-D tensor again
        return tensor(()) if all(d in (0, -1) for d in dims) else unknown_tensor()
    axes = [norm_axis(d, len(shape)) for d in dims]
    if None in axes:
        return unknown_tensor()
    return tensor(1 if i in axes else d for i, d in enumerate(shape)) if keepdim else tensor(
        d for i, d in enumerate(shape) if i not in axes)


REDUCTIONS = """torch.mean torch.sum torch.std torch.var torch.amax torch.amin torch.logsumexp
torch.all torch.any torch.count_nonzero Tensor.mean Tensor.sum Tensor.std Tensor.var Tensor.amax
Tensor.amin Tensor.logsumexp Tensor.all Tensor.any"""


@fn(REDUCTIONS, "input, dim=None, keepdim=False, **kwargs", axes="dim:many")
def _reduction(a):
    return _reduce(a)


@fn("torch.prod Tensor.prod", "input, dim=None, keepdim=False, **kwargs", axes="dim")
def _prod(a):
    return _reduce(a)


@fn("torch.norm Tensor.norm", "input, p='fro', dim=None, keepdim=False, **kwargs", axes="dim:many")
def _norm(a):
    return _reduce(a)


class ValuesIndices(tuple):
    """torch's (values, indices) result of max/min/sort/topk with a dim."""

    _fields = ("values", "indices")


@fn("torch.max torch.min Tensor.max Tensor.min torch.median Tensor.median torch.mode Tensor.mode",
    "input, dim=None, keepdim=False", axes="dim")
def _max(a):
    if isinstance(a["dim"], Tensor):           # torch.max(a, b): elementwise
        return Tensor(broadcast(shape_of(a["input"]), shape_of(a["dim"])))
    out = _reduce(a)
    if a["dim"] is None:
        return out
    return ValuesIndices((out, Tensor(out.shape, dtype="long")))


@fn("torch.argmax torch.argmin Tensor.argmax Tensor.argmin", "input, dim=None, keepdim=False", axes="dim")
def _argmax(a):
    out = _reduce(a)
    return Tensor(out.shape, dtype="long")


@fn("torch.topk Tensor.topk", "input, k, dim=-1, largest=True, sorted=True", axes="dim")
def _topk(a):
    shape = shape_of(a["input"])
    axis = norm_axis(a["dim"], None if shape is None else len(shape))
    if axis is None:
        return ValuesIndices((unknown_tensor(), unknown_tensor("long")))
    out = shape[:axis] + (as_dim(a["k"]),) + shape[axis + 1:]
    return ValuesIndices((tensor(out), tensor(out, dtype="long")))


@fn("torch.sort Tensor.sort", "input, dim=-1, descending=False", axes="dim")
def _sort(a):
    return ValuesIndices((_like(a["input"]), _like(a["input"], dtype="long")))


# -- creation ---------------------------------------------------------------------------------------------------
def sizes(args):
    """The sizes a `*size` argument lists: zeros(2, 3) and zeros((2, 3)) alike; None when not known, which is also
    the case of a lone argument that is not known to be one size (zeros(shape): it may be a sequence)."""
    if isinstance(args, (list, tuple)) and len(args) == 1 and isinstance(args[0], (list, tuple)):
        args = args[0]
    if not isinstance(args, (list, tuple)) or getattr(args, "poisoned", False):
        return None
    if len(args) == 1 and not isinstance(args[0], (int, D.Expr)):
        return None
    return args


def _size_arg(size):
    found = sizes(size)
    return None if found is None else tuple(as_dim(s) for s in found)


@fn("torch.randn torch.rand torch.zeros torch.ones torch.empty", "*size, **kwargs")
def _create(a):
    return Tensor(_size_arg(a["size"]), dtype=_dtype_kwarg(a["kwargs"], "float"))


INT_DTYPES = {"int", "int8", "int16", "int32", "int64", "uint8", "long", "intc", "intp", "uint16", "uint32",
              "uint64"}
FLOAT_DTYPES = {"float", "float16", "float32", "float64", "double", "half", "single", "bfloat16"}


def dtype_kind(name):
    """"long" / "float" for a torch or numpy dtype by its name (`torch.long`, `np.float32`, `int`), else None (a
    bool is neither: indexing with it masks)."""
    if not isinstance(name, str):
        return None
    name = name.rsplit(".", 1)[-1]
    return "long" if name in INT_DTYPES else "float" if name in FLOAT_DTYPES else None


def _dtype_kwarg(kwargs, default):
    """The dtype a factory makes: its default, or the dtype= given (`torch.long`), unknown when not read."""
    if "dtype" not in kwargs:
        return default
    value = kwargs["dtype"]
    return dtype_kind(value if isinstance(value, str) else getattr(value, "name", None))


@fn("Tensor.new_zeros Tensor.new_ones Tensor.new_empty", "input, *size, **kwargs")
def _new_create(a):
    return Tensor(_size_arg(a["size"]), dtype=getattr(a["input"], "dtype", None))


@fn("torch.full", "size, fill_value, **kwargs")
def _full(a):
    return Tensor(_size_arg(a["size"]))


@fn("torch.randint", "low, high=None, size=None, **kwargs")
def _randint(a):
    size = a["size"] if a["size"] is not None else a["high"]
    return Tensor(_size_arg(size), dtype=_dtype_kwarg(a["kwargs"], "long"))


@fn("torch.arange", "start, end=None, step=1, **kwargs")
def _arange(a):
    start, end, step = a["start"], a["end"], a["step"]
    if end is None:
        start, end = 0, start
    if all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end, step)) and step:
        length = max(0, -(-(end - start) // step))
        dtype = _dtype_kwarg(a["kwargs"], "long")
        values = range(start, end, step) if length <= TV.MAX_VALUES else None
        return Tensor((length,), dtype=dtype, values=None if values is None or dtype is None else TV._cast(
            values, dtype))
    if all(TV._number(v) for v in (start, end, step)) and step:
        length = max(0, math.ceil((end - start) / step))     # float bounds: a float tensor
        dtype = _dtype_kwarg(a["kwargs"], "float")
        values = [start + i * step for i in range(length)] if length <= TV.MAX_VALUES else None
        return Tensor((length,), dtype=dtype, values=None if values is None or dtype is None else TV._cast(
            values, dtype))
    if isinstance(step, int) and step > 0 and all(isinstance(v, (int, D.Expr)) and not isinstance(v, bool)
                                                  for v in (start, end)) and D.never_negative(D.sub(end, start)):
        return Tensor((D.ceildiv(D.sub(end, start), step),), dtype="long")      # arange(1, W + 1): W values
    return Tensor((None,))


@fn("torch.linspace torch.logspace", "start, end, steps, **kwargs")
def _linspace(a):
    steps = as_dim(a["steps"])
    return Tensor((steps if isinstance(steps, D.Expr) or isinstance(steps, int) and steps >= 0 else None,))


@fn("torch.eye", "n, m=None, **kwargs")
def _eye(a):
    n = as_dim(a["n"])
    return Tensor((n, as_dim(a["m"]) if a["m"] is not None else n))


@fn("torch.tensor torch.as_tensor torch.LongTensor torch.FloatTensor", "data, **kwargs")
def _tensor(a):
    def shape(v):
        if isinstance(v, (list, tuple)):
            if not v:
                return (0,)
            inner = {shape(x) for x in v}
            if len(inner) != 1 or None in inner:
                return None
            return (len(v),) + inner.pop()
        if isinstance(v, (int, float, bool)):
            return ()
        return None
    data = a["data"]
    dtype = "long" if isinstance(data, (list, tuple)) and data and all(
        isinstance(x, int) and not isinstance(x, bool) for x in data) and "dtype" not in a["kwargs"] else None
    if "dtype" in a["kwargs"]:
        dtype = _dtype_kwarg(a["kwargs"], None)
    flat = isinstance(data, (list, tuple)) and 0 < len(data) <= TV.MAX_VALUES and all(
        TV._number(x) for x in data)
    if flat and dtype is None and "dtype" not in a["kwargs"] and all(isinstance(x, float) for x in data):
        dtype = "float"
    return Tensor(shape(data), dtype=dtype, values=TV._cast(data, dtype) if flat and dtype else None)


@fn("F.one_hot", "tensor, num_classes=-1")
def _one_hot(a):
    shape = shape_of(a["tensor"])
    classes = as_dim(a["num_classes"])
    if shape is None:
        return unknown_tensor("long")
    return Tensor(shape + (None if classes == -1 else classes,), dtype="long")


# -- functional layers ------------------------------------------------------------------------------------------
def interpolate_shape(x, size, scale_factor):
    shape = shape_of(x)
    if shape is None or len(shape) < 3:
        return unknown_tensor()
    n = len(shape) - 2
    if size is not None:
        return tensor(shape[:2] + ntuple(size, n))
    if scale_factor is None:
        return unknown_tensor()
    scales = scale_factor if isinstance(scale_factor, (list, tuple)) else [scale_factor] * n
    out = []
    for d, s in zip(shape[2:], scales):
        if isinstance(s, bool) or not isinstance(s, (int, float)):
            out.append(None)
        elif isinstance(d, int):
            out.append(int(d * s) if float(s).is_integer() else int(d * float(s)))
        elif float(s).is_integer():
            out.append(D.mul(d, int(s)))
        else:
            out.append(None)
    return tensor(shape[:2] + tuple(out))


@fn("F.interpolate F.upsample", "input, size=None, scale_factor=None, mode='nearest', align_corners=None, "
    "recompute_scale_factor=None, antialias=False")
def _interpolate(a):
    return interpolate_shape(a["input"], a["size"], a["scale_factor"])


@fn("F.pad", "input, pad, mode='constant', value=None")
def _pad(a):
    return tensor(pad_shape(shape_of(a["input"]), a["pad"]))


def _pool_fn(n, with_dilation):
    def transfer(a):
        shape = shape_of(a["input"])
        if shape is None or len(shape) not in (n + 1, n + 2):
            return unknown_tensor()
        dilation = a.get("dilation", 1) if with_dilation else 1
        out = tensor(shape[:-n] + pool_spatial(shape[-n:], n, a["kernel_size"], a["stride"], a.get("padding", 0),
                                               dilation, a["ceil_mode"]))
        if a.get("return_indices") is True:
            return (out, Tensor(out.shape, dtype="long"))
        return out
    return transfer


for _n in (1, 2, 3):
    fn(f"F.max_pool{_n}d torch.max_pool{_n}d",
       "input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False")(
        _pool_fn(_n, True))
    fn(f"F.avg_pool{_n}d torch.avg_pool{_n}d",
       "input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None")(
        _pool_fn(_n, False))
    fn(f"F.lp_pool{_n}d", "input, norm_type, kernel_size, stride=None, ceil_mode=False")(_pool_fn(_n, False))


def _adaptive_fn(n):
    def transfer(a):
        shape = shape_of(a["input"])
        if shape is None or len(shape) not in (n + 1, n + 2):
            return unknown_tensor()
        return tensor(shape[:-n] + adaptive_spatial(shape[-n:], n, a["output_size"]))
    return transfer


for _n in (1, 2, 3):
    fn(f"F.adaptive_avg_pool{_n}d F.adaptive_max_pool{_n}d torch.adaptive_avg_pool{_n}d",
       "input, output_size, return_indices=False")(_adaptive_fn(_n))


def _conv_fn(n):
    def transfer(a):
        shape, w = shape_of(a["input"]), shape_of(a["weight"])
        if shape is None or len(shape) not in (n + 1, n + 2) or w is None or len(w) != n + 2:
            return unknown_tensor()
        spatial = conv_spatial(shape[-n:], n, tuple(w[2:]), a["stride"], a["padding"], a["dilation"])
        return tensor(shape[:-n - 1] + (w[0],) + spatial)
    return transfer


for _n in (1, 2, 3):
    fn(f"F.conv{_n}d torch.conv{_n}d", "input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1")(
        _conv_fn(_n))


@fn("F.embedding", "input, weight, padding_idx=None, **kwargs")
def _f_embedding(a):
    shape, w = shape_of(a["input"]), shape_of(a["weight"])
    if shape is None or w is None or len(w) != 2:
        return unknown_tensor()
    return tensor(shape + (w[1],))


@fn("F.pixel_shuffle torch.pixel_shuffle", "input, upscale_factor")
def _pixel_shuffle(a):
    return tensor(pixel_shuffle_shape(shape_of(a["input"]), a["upscale_factor"]))


@fn("F.mse_loss F.l1_loss F.smooth_l1_loss F.huber_loss F.kl_div F.soft_margin_loss", "input, target, *rest, **kwargs")
def _loss_fn(a):
    if a.get("reduction", "mean") in ("mean", "sum"):
        return tensor(())
    return unknown_tensor()


# the losses whose weight= the rules read (CNN112): bound by name, also when given positionally
fn("F.cross_entropy F.nll_loss", "input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, "
   "reduction='mean', label_smoothing=0.0")(_loss_fn)
fn("F.binary_cross_entropy F.binary_cross_entropy_with_logits", "input, target, weight=None, size_average=None, "
   "reduce=None, reduction='mean', pos_weight=None")(_loss_fn)


@fn("Tensor.size", "input, dim=None", axes="dim")
def _size(a):
    shape = shape_of(a["input"])
    if shape is None:
        return UNKNOWN
    if a["dim"] is None:
        return tuple(UNKNOWN if d is None else d for d in shape)
    axis = norm_axis(a["dim"], len(shape))
    if axis is None or shape[axis] is None:
        return UNKNOWN
    return shape[axis]


@fn("Tensor.dim Tensor.ndimension", "input")
def _dim(a):
    shape = shape_of(a["input"])
    return UNKNOWN if shape is None else len(shape)


@fn("Tensor.numel torch.numel", "input")
def _numel(a):
    shape = shape_of(a["input"])
    n = None if shape is None else D.product(shape)
    return UNKNOWN if n is None else n


@fn("Tensor.item", "input")
def _item(a):
    return UNKNOWN


# -- more ops model code uses ---------------------------------------------------------------------------------
def _broadcast_all(shapes):
    out = ()
    for s in shapes:
        if s is None:
            return None
        out = broadcast(out, s)
    return out


@fn("torch.addcmul torch.addcdiv Tensor.addcmul Tensor.addcdiv Tensor.addcmul_ Tensor.addcdiv_",
    "input, tensor1, tensor2, **kwargs")
def _addcmul(a):
    return Tensor(_broadcast_all([_operand_shape(a[k]) for k in ("input", "tensor1", "tensor2")]),
                  dtype=getattr(a["input"], "dtype", None))


@fn("torch.lerp Tensor.lerp Tensor.lerp_", "input, end, weight")
def _lerp(a):
    return Tensor(_broadcast_all([_operand_shape(a[k]) for k in ("input", "end", "weight")]))


@fn("torch.addmm Tensor.addmm", "input, mat1, mat2, **kwargs")
def _addmm(a):
    m1, m2 = shape_of(a["mat1"]), shape_of(a["mat2"])
    if m1 is None or m2 is None or len(m1) != 2 or len(m2) != 2:
        return unknown_tensor()
    return tensor((m1[0], m2[1]))


@fn("torch.baddbmm Tensor.baddbmm", "input, batch1, batch2, **kwargs")
def _baddbmm(a):
    b1, b2 = shape_of(a["batch1"]), shape_of(a["batch2"])
    if b1 is None or b2 is None or len(b1) != 3 or len(b2) != 3:
        return unknown_tensor()
    return tensor((b1[0], b1[1], b2[2]))


@fn("torch.einsum", "equation, *operands")
def _einsum(a):
    equation, operands = a["equation"], list(a["operands"] or ())
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)) and not isinstance(operands[0], Tensor):
        operands = list(operands[0])
    if not isinstance(equation, str):
        return unknown_tensor()
    lhs, arrow, rhs = equation.replace(" ", "").partition("->")
    terms = lhs.split(",")
    if len(terms) != len(operands):
        return unknown_tensor()
    sizes, counts, ellipsis = {}, {}, ()
    for term, operand in zip(terms, operands):
        shape = shape_of(operand)
        if shape is None or term.count("...") > 1:
            return unknown_tensor()
        before, dots, after = term.partition("...")
        if not (before + after).isalpha():
            if before + after:
                return unknown_tensor()
        extra = len(shape) - len(before) - len(after)
        if extra < 0 or (not dots and extra):
            return unknown_tensor()
        if dots:
            ellipsis = broadcast(ellipsis, shape[len(before):len(before) + extra])
        for letter, size in zip(before + after, shape[:len(before)] + shape[len(before) + extra:]):
            counts[letter] = counts.get(letter, 0) + 1
            if sizes.get(letter, 1) == 1:           # a size 1 broadcasts against the others
                sizes[letter] = size
    if arrow:
        before, dots, after = rhs.partition("...")
        letters = before + after
        if any(l not in sizes for l in letters):
            return unknown_tensor()
        return tensor(tuple(sizes[l] for l in before) + (tuple(ellipsis) if dots else ()) +
                      tuple(sizes[l] for l in after))
    return tensor(tuple(ellipsis) + tuple(sizes[l] for l in sorted(sizes) if counts[l] == 1))


@fn("F.scaled_dot_product_attention", "query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, "
    "scale=None, enable_gqa=False")
def _sdpa(a):
    q, k, v = (shape_of(a[n]) for n in ("query", "key", "value"))
    if q is None or k is None or v is None or min(len(q), len(k), len(v)) < 2:
        return unknown_tensor()
    batch = q[:-2] if a["enable_gqa"] is True else _broadcast_all([q[:-2], k[:-2], v[:-2]])
    return tensor(None if batch is None else tuple(batch) + (q[-2], v[-1]))


@fn("torch.unflatten Tensor.unflatten", "input, dim, sizes", axes="dim")
def _unflatten(a):
    shape = shape_of(a["input"])
    axis = norm_axis(a["dim"], None if shape is None else len(shape))
    if axis is None or not isinstance(a["sizes"], (list, tuple)):
        return unknown_tensor()
    inner = reshape_shape((shape[axis],), a["sizes"])
    return tensor(None if inner is None else shape[:axis] + tuple(inner) + shape[axis + 1:])


@fn("torch.linalg.vector_norm torch.linalg.norm", "input, ord=None, dim=None, keepdim=False, **kwargs",
    axes="dim:many")
def _linalg_norm(a):
    return _reduce(a)


@fn("torch.repeat_interleave Tensor.repeat_interleave", "input, repeats=None, dim=None, **kwargs", axes="dim")
def _repeat_interleave(a):
    shape, repeats = shape_of(a["input"]), a["repeats"]
    if shape is None or not _is_size(repeats):
        return unknown_tensor()
    if a["dim"] is None:
        return tensor((D.mul(D.product(shape), repeats),))
    axis = norm_axis(a["dim"], len(shape))
    if axis is None:
        return unknown_tensor()
    return tensor(shape[:axis] + (D.mul(shape[axis], repeats),) + shape[axis + 1:])


def _is_size(v):
    return isinstance(v, D.Expr) or isinstance(v, int) and not isinstance(v, bool) and v >= 0


@fn("torch.meshgrid", "*tensors, indexing='ij'")
def _meshgrid(a):
    parts = list(a["tensors"] or ())
    if len(parts) == 1 and isinstance(parts[0], (list, tuple)) and not isinstance(parts[0], Tensor):
        parts = list(parts[0])
    shapes = [shape_of(p) for p in parts]
    if not shapes or any(s is None or len(s) > 1 for s in shapes) or a["indexing"] not in ("ij", "xy"):
        return tuple(unknown_tensor() for _ in parts) if parts else UNKNOWN
    out = [s[0] if s else 1 for s in shapes]
    if a["indexing"] == "xy" and len(out) >= 2:
        out[0], out[1] = out[1], out[0]
    return tuple(tensor(tuple(out), dtype=getattr(p, "dtype", None)) for p in parts)


@fn("torch.outer torch.ger Tensor.outer Tensor.ger", "input, vec2")
def _outer(a):
    x, y = shape_of(a["input"]), shape_of(a["vec2"])
    if x is None or y is None or len(x) != 1 or len(y) != 1:
        return unknown_tensor()
    return tensor((x[0], y[0]))


@fn("torch.cdist", "x1, x2, **kwargs")
def _cdist(a):
    x, y = shape_of(a["x1"]), shape_of(a["x2"])
    if x is None or y is None or len(x) < 2 or len(y) < 2:
        return unknown_tensor()
    batch = broadcast(x[:-2], y[:-2])
    return tensor(None if batch is None else tuple(batch) + (x[-2], y[-2]))


@fn("F.unfold", "input, kernel_size, dilation=1, padding=0, stride=1")
def _unfold(a):
    return unfold_shape(shape_of(a["input"]), a["kernel_size"], a["stride"], a["padding"], a["dilation"])


def unfold_shape(shape, kernel_size, stride, padding, dilation):
    """F.unfold / nn.Unfold: (N, C, H, W) -> (N, C*kh*kw, L), L the number of blocks that fit."""
    if shape is None or len(shape) not in (3, 4):
        return unknown_tensor()
    kernel = ntuple(kernel_size, 2)
    spatial = conv_spatial(shape[-2:], 2, kernel_size, stride, padding, dilation)
    if spatial is None or None in kernel or None in spatial:
        return unknown_tensor()
    out = (D.mul(shape[-3], D.product(kernel)), D.product(spatial))
    return tensor(shape[:-3] + out)


@fn("F.fold", "input, output_size, kernel_size, dilation=1, padding=0, stride=1")
def _fold(a):
    return fold_shape(shape_of(a["input"]), a["output_size"], a["kernel_size"], a["stride"], a["padding"],
                      a["dilation"])


def fold_shape(shape, output_size, kernel_size, stride, padding, dilation):
    """F.fold / nn.Fold: (N, C*kh*kw, L) -> (N, C, *output_size), L being the number of blocks that fit."""
    size, kernel = ntuple(output_size, 2), ntuple(kernel_size, 2)
    if shape is None or len(shape) not in (2, 3) or None in size or None in kernel:
        return unknown_tensor()
    channels = D.exact_div(shape[-2], D.product(kernel))
    return tensor(shape[:-2] + (channels,) + tuple(size))


@fn("F.grid_sample", "input, grid, **kwargs")
def _grid_sample(a):
    x, grid = shape_of(a["input"]), shape_of(a["grid"])
    if x is None or grid is None or len(x) not in (4, 5) or len(grid) != len(x):
        return unknown_tensor()
    return tensor(x[:2] + grid[1:-1])

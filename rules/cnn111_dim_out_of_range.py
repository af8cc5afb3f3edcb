"""CNN111 dim-out-of-range: an axis argument (dim, start_dim, dims, ...) that names no axis of the input."""

from cnnlint.rulekit import Rule, shape_text
from cnnlint.shapes.common import as_int
from cnnlint.shapes.functions import lookup
from cnnlint.shapes.keras_layers import KERAS_LAYERS, WEIGHTED_AXIS
from cnnlint.shapes.torch_layers import LAYERS
from cnnlint.values import Tensor

RULE = Rule(
    code="CNN111",
    name="dim-out-of-range",
    severity="error",
    summary="A dim / axis argument out of range for the input's rank, a repeated axis, a permute with the wrong "
            "number of axes, flatten with start_dim after end_dim, or a Keras normalisation over the batch axis",
    why="An op with a dim argument accepts -rank..rank-1 (stack and unsqueeze: -(rank+1)..rank, as they add an "
        "axis; a 0-D tensor counts as 1-D). Outside it torch raises 'Dimension out of range (expected to be in range "
        "of [-2, 1], but got 2)'; a repeated axis raises 'dim 1 appears multiple times in the list of dims', "
        "permute needs each axis once, and flatten 'start_dim cannot come after end_dim'. It usually means the "
        "tensor lost or never had an axis the code assumes (a batch axis, a channel axis after a flatten). Keras "
        "normalisations (BatchNormalization(axis=...)) size their weights by their axis: the batch axis, of unknown "
        "size when the model is built, fails with 'Shapes used to initialize variables must be fully-defined'.",
    fix="Count the axes the tensor has at that point (negative dims count from the end: dim=-1 is the last axis), "
        "or add the missing axis with unsqueeze.",
    fires=("""
import torch
import torch.nn.functional as F
logits = torch.randn(8, 10)
probs = F.softmax(logits, dim=2)
""",),
    silent=("""
import torch
import torch.nn.functional as F
logits = torch.randn(8, 10)
probs = F.softmax(logits, dim=-1)
""",),
)

FLATTEN = (("start_dim", "one"), ("end_dim", "one"))


def check(ctx):
    for nid, data in ctx.nodes(prefix=""):
        layer = data.get("layer")
        if layer is not None:
            spec = LAYERS.get(data["op"]) or KERAS_LAYERS.get(data["op"])
            axes = spec.axes if spec is not None else ()
            values = layer.args
            x = next(iter(data["args"].values()), None) if data["args"] else None
            where = ctx.where_built(layer, data)
            label = ctx.layer_label(layer)
        else:
            spec = lookup(data["op"])
            axes = spec.axes if spec is not None else ()
            values = data["args"]
            x = _ranked_input(values)
            where = data["cst"]
            label = data["called"].replace("torch.nn.functional.", "F.").replace("Tensor.", ".")
        if not axes or not isinstance(x, Tensor) or x.shape is None:
            continue
        problem = _problem(axes, values, x.rank)
        if problem is None and layer is not None and data["op"] in WEIGHTED_AXIS:
            problem = _batch_axis(values.get("axis"), x)
        if problem is None:
            continue
        related = ctx.chain(x) + ([(data["cst"], f"{label} is called here")] if layer is not None else [])
        ctx.report("CNN111", where, f"{label} on {shape_text(x)} ({x.rank}-D): {problem}", related)


def _ranked_input(args):
    """The tensor whose rank the axes refer to: the input, or the first of cat/stack's tensors."""
    x = args.get("input")
    if isinstance(x, Tensor):
        return x
    parts = args.get("tensors")
    if isinstance(parts, (list, tuple)):
        return next((p for p in parts if isinstance(p, Tensor) and p.shape is not None and p.shape != (0,)), None)
    return None


def _problem(axes, values, rank):
    """What is wrong with the axis arguments, in words; None when nothing certainly is."""
    normalised = {}
    for name, kind in axes:
        value = values.get(name)
        if value is None:
            continue
        if kind in ("many", "perm") and isinstance(value, (list, tuple)):
            items = list(value)
        elif kind == "perm":
            continue
        else:
            items = [value]
        ints = [as_int(v) for v in items]
        if None in ints:
            continue
        if kind == "perm" and len(ints) != rank:
            return f"permute needs one entry per axis ({rank}), got {len(ints)}: {tuple(ints)}"
        size = rank + 1 if kind == "new" else max(rank, 1)
        for v in ints:
            if not -size <= v < size:
                return (f"{name}={v} is out of range: expected to be in range of [{-size}, {size - 1}]"
                        + (" (it adds an axis)" if kind == "new" else ""))
        axes_seen = [v % size for v in ints]
        if len(set(axes_seen)) != len(axes_seen):
            return f"{name}={tuple(ints)} names axis {_repeated(axes_seen)} more than once"
        normalised[name] = axes_seen[0] if len(axes_seen) == 1 else None
    if axes == FLATTEN and normalised.get("start_dim") is not None and normalised.get("end_dim") is not None \
            and normalised["start_dim"] > normalised["end_dim"]:
        return (f"start_dim={values['start_dim']} (axis {normalised['start_dim']}) comes after "
                f"end_dim={values['end_dim']} (axis {normalised['end_dim']})")
    return None


def _batch_axis(axis, x):
    """A Keras normalisation whose axis is the batch axis of an input whose batch size is not fixed."""
    items = axis if isinstance(axis, (list, tuple)) else [axis]
    ints = [as_int(v) for v in items]
    if None in ints or not ints or 0 not in [v % x.rank for v in ints] or isinstance(x.shape[0], int):
        return None
    return (f"axis={axis} is the batch axis: Keras sizes the layer's weights by that axis, whose size it does not "
            f"know when it builds them ('Shapes used to initialize variables must be fully-defined'); the channels "
            f"are axis={x.rank - 1} (-1) in channels_last, axis=1 in channels_first")


def _repeated(axes):
    return next(a for i, a in enumerate(axes) if a in axes[:i])

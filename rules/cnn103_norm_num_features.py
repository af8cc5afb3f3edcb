"""CNN103 norm-num-features: a normalisation layer sized for another number of features."""

from cnnlint.fixes import set_size
from cnnlint.rulekit import Rule, set_hint, shape_text, show
from cnnlint.shapes.common import as_dim
from cnnlint.values import Tensor

from ._helpers import axis_advice, last_rearrangement, written

RULE = Rule(
    code="CNN103",
    name="norm-num-features",
    severity="error",
    summary="BatchNorm/InstanceNorm num_features, GroupNorm num_channels or LayerNorm normalized_shape "
            "differs from the input",
    why="Norm layers keep one weight per feature: BatchNorm/GroupNorm along axis 1, LayerNorm over the last "
        "axes. torch raises 'running_mean should contain C elements' or 'Given normalized_shape=...' otherwise.",
    fix="Size the norm layer for the features that arrive (usually the out_channels of the layer before it). When "
        "they arrive on another axis ((N, L, C) tokens, (N, 1, C) after an unsqueeze), fix the input at the call "
        "(cnnlint names the transpose or squeeze) instead of resizing the layer.",
    fires=("""
import torch.nn as nn
# cnnlint: input=(2, 3, 32, 32)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 32, 3)
        self.bn = nn.BatchNorm2d(64)
    def forward(self, x):
        return self.bn(self.conv(x))
""",),
    silent=("""
import torch.nn as nn
# cnnlint: input=(2, 3, 32, 32)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 32, 3)
        self.bn = nn.BatchNorm2d(32)
        self.ln = nn.LayerNorm([32, 30, 30])
    def forward(self, x):
        return self.ln(self.bn(self.conv(x)))
""",),
)

AXIS1 = ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm")
INSTANCE = ("InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d")


def check(ctx):
    for nid, data, layer, x in ctx.layer_calls(AXIS1 + INSTANCE + ("GroupNorm", "LayerNorm", "RMSNorm")):
        if not isinstance(x, Tensor) or not x.shape:
            continue
        kind = layer.type_name
        label = ctx.layer_label(layer)
        if kind == "LayerNorm" or kind == "RMSNorm":
            shape = layer.arg("normalized_shape")
            dims = list(shape) if isinstance(shape, (list, tuple)) else [shape]
            dims = [as_dim(d) for d in dims]
            if None in dims or len(dims) > len(x.shape):
                continue
            tail = x.shape[-len(dims):]
            if any(ctx.differs(a, b) for a, b in zip(tail, dims)):
                ctx.report("CNN103", ctx.where_built(layer, data, "normalized_shape"),
                           f"{label} normalizes over the last axes of size {tuple(show(d) for d in dims)}, but the "
                           f"tensor it receives is {shape_text(x)}; its last axes are "
                           f"{tuple(show(d) for d in tail)}",
                           ctx.chain(x) + [(data["cst"], f"{label} is called here")])
            continue
        if kind in INSTANCE:
            if layer.arg("affine") is not True:
                continue   # torch only warns when an affine-free InstanceNorm gets another size
            n = int(kind[-2])
            axis = 1 if x.rank == n + 2 else 0 if x.rank == n + 1 else None
            param = "num_features"
        elif kind == "GroupNorm":
            axis, param = (1 if x.rank >= 2 else None), "num_channels"
        else:
            axis = 1 if x.rank and x.rank >= 2 else None
            param = "num_features"
        if axis is None:
            continue
        expected = as_dim(layer.arg(param))
        got = x.shape[axis]
        if ctx.differs(got, expected):
            moved = axis_advice(ctx, x, axis, expected, keep=(0,) if axis == 1 else (), ranks=_ranks(kind, x))
            if moved is not None:
                # the features are there, on another axis: the data is wrong, not the layer
                text, k = moved
                undone = last_rearrangement(ctx, x)
                ctx.report("CNN103", ctx.call_site(data),
                           f"{label} normalizes {show(expected)} features on axis {axis}, but the tensor it receives "
                           f"is {shape_text(x)}: {show(expected)} is axis {k}, and axis {axis} has {show(got)}; {text} "
                           f"before {label}"
                           + (f" (the {written(undone)} before it was never undone)" if undone is not None else ""),
                           ctx.chain(x) + [(data["cst"], f"{label} is called here")])
                continue
            where = ctx.where_built(layer, data, param)
            fix = set_size(ctx.run, layer, param, x, axis, at=where, runs=ctx.runs)
            ctx.report("CNN103", where,
                       f"{label} expects {show(expected)} features ({param}), but the tensor it receives is "
                       f"{shape_text(x)}: axis {axis} has {show(got)}; {set_hint(param, got, expected, fix)}",
                       ctx.chain(x) + [(data["cst"], f"{label} is called here")],
                       fix=fix)


def _ranks(kind, x):
    """The ranks a norm layer takes."""
    if kind in ("BatchNorm1d", "InstanceNorm1d"):
        return (2, 3)
    if kind[-2:] in ("2d", "3d"):
        n = int(kind[-2])
        return (n + 1, n + 2) if kind.startswith("Instance") else (n + 2,)
    return None

"""CNN101 linear-in-features: a Linear layer (or F.linear with a weight tensor) whose in_features is not the size of
the last axis it receives."""

from cnnlint.fixes import set_size
from cnnlint.rulekit import Rule, set_hint, shape_text, show
from cnnlint.shapes.common import as_dim
from cnnlint.values import Tensor

from ._helpers import axis_advice, last_rearrangement, written

RULE = Rule(
    code="CNN101",
    name="linear-in-features",
    severity="error",
    summary="Linear in_features (or F.linear's weight) differs from the size of the last axis of its input; "
            "F.linear's bias differs from its out_features",
    why="nn.Linear multiplies the last axis by a (out_features, in_features) weight; any other size raises "
        "'mat1 and mat2 shapes cannot be multiplied' at the first forward pass.",
    fix="Set in_features to the size that arrives (cnnlint names it), or change the layers before it. When the "
        "features arrive on another axis ((N, C, L) from a conv, a transpose never undone), move them last at the "
        "call (cnnlint names the transpose) instead of resizing the layer; a weight stored as (in, out) is "
        "transposed.",
    fires=("""
import torch, torch.nn as nn
# cnnlint: input=(4, 1, 28, 28)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 16, 5)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(16 * 5 * 5, 10)
    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.conv(x)), 1))
""", """
import torch, torch.nn as nn, torch.nn.functional as F
# cnnlint: input=(4, 32)
class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.randn(10, 64))
    def forward(self, x):
        return F.linear(x, self.w)
"""),
    silent=("""
import torch, torch.nn as nn
# cnnlint: input=(4, 1, 28, 28)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 16, 5)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(16 * 12 * 12, 10)
    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.conv(x)), 1))
""",),
)


def check(ctx):
    check_functional(ctx)
    for nid, data, layer, x in ctx.layer_calls(("Linear", "Bilinear")):
        if not isinstance(x, Tensor) or not x.shape:
            continue
        param = "in1_features" if layer.type_name == "Bilinear" else "in_features"
        expected = as_dim(layer.arg(param))
        last = x.shape[-1]
        if not ctx.differs(last, expected):
            continue
        message = (f"{ctx.layer_label(layer)} expects {show(expected)} input features ({param}), "
                   f"but the tensor it receives is {shape_text(x)}: its last axis is {show(last)}")
        moved = axis_advice(ctx, x, -1, expected, keep=(0,)) if x.rank >= 3 else None
        if moved is not None:
            # the features are there, on another axis: the data is wrong, not the layer
            text, k = moved
            undone = last_rearrangement(ctx, x)
            ctx.report("CNN101", ctx.call_site(data),
                       f"{ctx.layer_label(layer)} reads {show(expected)} input features from the last axis, but the "
                       f"tensor it receives is {shape_text(x)}: {show(expected)} is axis {k}, and the last axis is "
                       f"{show(last)}; {text} before {ctx.layer_label(layer)}, or flatten first if all of it is the "
                       f"features" + (f" (the {written(undone)} before it was never undone)" if undone is not None
                                      else ""),
                       ctx.chain(x) + [(data["cst"], f"{ctx.layer_label(layer)} is called here")])
            continue
        other = [i for i, d in enumerate(x.shape[:-1]) if i > 0 and not ctx.differs(d, expected)
                 and isinstance(d, int)]
        where = ctx.where_built(layer, data, param)
        fix = set_size(ctx.run, layer, param, x, -1, at=where, runs=ctx.runs)
        if other:
            message += f"; {show(expected)} is the size of axis {other[0]}, not of the last axis (permute or flatten first?)"
        else:
            message += "; " + set_hint(param, last, expected, fix)
        ctx.report("CNN101", where, message,
                   ctx.chain(x) + [(data["cst"], f"{ctx.layer_label(layer)} is called here")], fix=fix)


def check_functional(ctx):
    """F.linear(x, weight): the weight is (out_features, in_features)."""
    for nid, data in ctx.nodes({"torch.nn.functional.linear"}):
        x, w, bias = data["args"].get("input"), data["args"].get("weight"), data["args"].get("bias")
        if not (isinstance(x, Tensor) and x.shape and isinstance(w, Tensor) and w.shape and len(w.shape) == 2):
            continue
        expected, last = w.shape[1], x.shape[-1]
        owner = ctx.weight_owner(w)
        whose = f" (the weight of {ctx.layer_label(owner)})" if owner is not None else ""
        if not ctx.differs(last, expected):
            _check_bias(ctx, data, w, bias, whose)
            continue
        message = (f"F.linear with a weight of shape {shape_text(w)}{whose} expects {show(expected)} input "
                   f"features, but the tensor it receives is {shape_text(x)}: its last axis is {show(last)}")
        if owner is None and not ctx.differs(last, w.shape[0]):
            message += (f"; the weight is (out_features, in_features) and this one is stored the other way round: "
                        f"make it ({show(w.shape[1])}, {show(w.shape[0])}) or pass its transpose (w.t())")
        where = ctx.where_built(owner, data, "in_features") if owner is not None else data["cst"]
        ctx.report("CNN101", where, message, ctx.chain(x) + [(data["cst"], "F.linear is called here")])


def _check_bias(ctx, data, w, bias, whose):
    """F.linear's bias is added to the output: a 1-D bias of another size than out_features (and not 1) raises."""
    if not isinstance(bias, Tensor) or bias.shape is None or len(bias.shape) != 1:
        return
    size, out = bias.shape[0], w.shape[0]
    if ctx.differs(size, out) and not ctx.solver.can_be_one(size):
        ctx.report("CNN101", data["cst"],
                   f"F.linear with a weight of shape {shape_text(w)}{whose} gives {show(out)} output features, but "
                   f"its bias is {shape_text(bias)}: torch adds it to every output row and raises; make the bias "
                   f"({show(out)},)" + ("; it has the size of in_features, as if weight and bias were made for "
                                        "different layers" if not ctx.differs(size, w.shape[1]) else ""),
                   [(data["cst"], "F.linear is called here")])

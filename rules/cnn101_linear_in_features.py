"""CNN101 linear-in-features: a Linear layer (or F.linear with a weight tensor) whose in_features is not the size of
the last axis it receives."""

from cnnlint.fixes import flattened_factors, set_argument
from cnnlint.rulekit import Rule, set_hint, shape_text, show
from cnnlint.shapes.common import as_dim
from cnnlint.values import Tensor

RULE = Rule(
    code="CNN101",
    name="linear-in-features",
    severity="error",
    summary="Linear in_features (or F.linear's weight) differs from the size of the last axis of its input",
    why="nn.Linear multiplies the last axis by a (out_features, in_features) weight; any other size raises "
        "'mat1 and mat2 shapes cannot be multiplied' at the first forward pass.",
    fix="Set in_features to the size that arrives (cnnlint names it), or change the layers before it.",
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
        other = [i for i, d in enumerate(x.shape[:-1]) if i > 0 and not ctx.differs(d, expected)
                 and isinstance(d, int)]
        if other:
            message += f"; {show(expected)} is the size of axis {other[0]}, not of the last axis (permute or flatten first?)"
        else:
            message += "; " + set_hint(param, last, expected)
        fix = set_argument(layer, param, last, flattened_factors(ctx.run, x)) if isinstance(last, int) else None
        ctx.report("CNN101", ctx.where_built(layer, data, param), message,
                   ctx.chain(x) + [(data["cst"], f"{ctx.layer_label(layer)} is called here")], fix=fix)


def check_functional(ctx):
    """F.linear(x, weight): the weight is (out_features, in_features)."""
    for nid, data in ctx.nodes({"torch.nn.functional.linear"}):
        x, w = data["args"].get("input"), data["args"].get("weight")
        if not (isinstance(x, Tensor) and x.shape and isinstance(w, Tensor) and w.shape and len(w.shape) == 2):
            continue
        expected, last = w.shape[1], x.shape[-1]
        if not ctx.differs(last, expected):
            continue
        owner = ctx.weight_owner(w)
        whose = f" (the weight of {ctx.layer_label(owner)})" if owner is not None else ""
        message = (f"F.linear with a weight of shape {shape_text(w)}{whose} expects {show(expected)} input "
                   f"features, but the tensor it receives is {shape_text(x)}: its last axis is {show(last)}")
        where = ctx.where_built(owner, data, "in_features") if owner is not None else data["cst"]
        ctx.report("CNN101", where, message, ctx.chain(x) + [(data["cst"], "F.linear is called here")])

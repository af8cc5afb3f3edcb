"""CNN202 linear-wrong-axis: a Linear applied over the last (width) axis of a conv feature map."""

from cnnlint.rulekit import Rule, shape_text, show
from cnnlint.shapes.common import as_dim
from cnnlint.values import Tensor

from ._helpers import origin

RULE = Rule(
    code="CNN202",
    name="linear-wrong-axis",
    severity="warning",
    summary="Linear applied to a conv/pool feature map (N, C, H, W) without flattening: it mixes the width axis",
    why="nn.Linear acts on the last axis only. On a (N, C, H, W) map it runs whenever W == in_features, mixing "
        "pixels of one row instead of the features of one sample; the output keeps the spatial axes.",
    fix="Flatten first (torch.flatten(x, 1) with in_features = C*H*W), or pool to (N, C) first.",
    fires=("""
import torch.nn as nn
# cnnlint: input=(2, 3, 32, 32)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.fc = nn.Linear(32, 10)
    def forward(self, x):
        return self.fc(self.conv(x))
""",),
    silent=("""
import torch.nn as nn
# cnnlint: input=(2, 3, 32, 32)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.fc = nn.Linear(8, 10)
    def forward(self, x):
        return self.fc(self.conv(x).permute(0, 2, 3, 1))
""",),
)

MAPS = ("Conv2d", "Conv3d", "MaxPool2d", "AvgPool2d", "MaxPool3d", "AvgPool3d", "ConvTranspose2d", "ConvTranspose3d")


def check(ctx):
    for nid, data, layer, x in ctx.layer_calls(("Linear",)):
        if not isinstance(x, Tensor) or x.shape is None or x.rank not in (4, 5):
            continue
        src = origin(ctx, x)
        if src is None or src.get("layer") is None or src["layer"].type_name not in MAPS:
            continue
        expected = as_dim(layer.arg("in_features"))
        if ctx.differs(x.shape[-1], expected):
            continue   # it does not even run: CNN101
        label = ctx.layer_label(layer)
        extra = ""
        if not ctx.differs(x.shape[1], expected) and isinstance(x.shape[1], int):
            extra = f"; in_features also equals the channel count (axis 1): permute to channels-last first?"
        ctx.report("CNN202", ctx.where_built(layer, data),
                   f"{label} is applied to the feature map {shape_text(x)} from {ctx.layer_label(src['layer'])}: it "
                   f"mixes the last (width) axis of size {show(x.shape[-1])}, not the features of each sample; "
                   f"flatten first (in_features = C*H*W){extra}",
                   ctx.chain(x) + [(data["cst"], f"{label} is called here")])

"""CNN202 linear-wrong-axis: a Linear applied over the last (width) axis of a conv feature map."""

from cnnlint.rulekit import Rule, shape_text, show
from cnnlint.shapes.common import as_dim
from cnnlint.values import Tensor

from ._helpers import channel_first_source

RULE = Rule(
    code="CNN202",
    name="linear-wrong-axis",
    severity="warning",
    summary="Linear applied to a channels-first conv/pool output: its in_features matches the channel axis, or it "
            "mixes the width axis of a (N, C, H, W) map",
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

def check(ctx):
    for nid, data, layer, x in ctx.layer_calls(("Linear",)):
        if not isinstance(x, Tensor) or x.shape is None or x.rank < 3:
            continue
        source = channel_first_source(ctx, x)
        if source is None:
            continue
        expected = as_dim(layer.arg("in_features"))
        last = x.shape[-1]
        if expected is None or ctx.differs(last, expected):
            continue   # it does not run at all: CNN101
        channels = x.shape[1]
        label = ctx.layer_label(layer)
        if isinstance(channels, int) and channels == expected and not isinstance(last, int):
            # the size matches the channel axis; the last axis is a length we do not know
            message = (f"{label} has in_features={show(expected)}, the channel count of the map {shape_text(x)} "
                       f"from {ctx.layer_label(source)}, but Linear acts on the last axis (size {show(last)}); "
                       f"pool or flatten first, or permute the channels to the end")
        elif isinstance(last, int) and x.rank >= 4:
            message = (f"{label} is applied to the feature map {shape_text(x)} from {ctx.layer_label(source)}: it "
                       f"mixes the last (width) axis of size {show(last)}, not the features of each sample; "
                       f"flatten first (in_features = C*H*W)")
        else:
            continue
        ctx.report("CNN202", ctx.where_built(layer, data), message,
                   ctx.chain(x) + [(data["cst"], f"{label} is called here")])

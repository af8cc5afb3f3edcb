"""CNN106 spatial-collapse: a conv or pooling layer whose output size drops to zero or below."""

from cnnlint.rulekit import Rule, shape_text
from cnnlint.values import Tensor

RULE = Rule(
    code="CNN106",
    name="spatial-collapse",
    severity="error",
    summary="A conv/pool output size collapses to <= 0 (the window is larger than the padded input)",
    why="Each conv/pool shrinks the map by (kernel - 1) * dilation - 2 * padding and divides it by the stride; "
        "stacked too deep for the input size, torch raises 'Output size is too small' or 'Kernel size can't be "
        "greater than actual input size'.",
    fix="Use fewer down-sampling layers, padding, or a larger input; AdaptiveAvgPool2d ends a stack at a fixed size.",
    fires=("""
import torch.nn as nn
# cnnlint: input=(1, 1, 28, 28)
class Deep(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(*[nn.MaxPool2d(2) for _ in range(6)])
    def forward(self, x):
        return self.features(x)
""",),
    silent=("""
import torch.nn as nn
# cnnlint: input=(1, 1, 28, 28)
class Deep(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(*[nn.MaxPool2d(2) for _ in range(4)])
    def forward(self, x):
        return self.features(x)
""",),
)

SPATIAL_OPS = ("Conv", "MaxPool", "AvgPool", "LPPool")


KERAS_SPATIAL = ("Conv1D", "Conv2D", "Conv3D", "SeparableConv", "DepthwiseConv", "MaxPool", "AveragePool",
                 "AvgPool", "Cropping")


def _spatial_node(data):
    op = data["op"]
    name = op.rsplit(".", 1)[-1]
    if op.startswith("keras.layers."):
        return name.startswith(KERAS_SPATIAL)
    if op.startswith("torch.nn.functional."):
        return name.startswith(("conv", "max_pool", "avg_pool", "lp_pool"))
    return op.startswith("torch.nn.") and name.startswith(SPATIAL_OPS) and not name.startswith("ConvTranspose")


def check(ctx):
    for nid, data in ctx.nodes(prefix=("torch.", "keras.layers.")):
        if not _spatial_node(data):
            continue
        out = data["output"]
        if isinstance(out, tuple):
            out = out[0] if out else None
        if not isinstance(out, Tensor) or not out.shape:
            continue
        name = data["op"].rsplit(".", 1)[-1]
        n = int(name[-2]) if name[-2].isdigit() else 2
        layer = data.get("layer")
        channels_last = data["op"].startswith("keras.") and (
            layer is None or layer.args.get("data_format") != "channels_first")
        spatial = out.shape[-n - 1:-1] if channels_last else out.shape[-n:]
        bad = [d for d in spatial if isinstance(d, int) and d <= 0]
        if not bad:
            continue
        args = data["args"]
        x = next(iter(args.values()), None)
        label = ctx.layer_label(layer) if layer is not None else data["called"].replace("torch.nn.functional.", "F.")
        ctx.report("CNN106", ctx.where_built(layer, data),
                   f"{label} receives {shape_text(x)} and its output size would be "
                   f"{shape_text(Tensor(spatial))}: the window is larger than the (padded) input",
                   ctx.chain(x) + [(data["cst"], f"{label} is called here")])

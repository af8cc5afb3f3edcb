"""CNN203 conv1d-over-sequence: Conv1d fed an embedding output (N, L, E) whose in_channels equals L."""

from cnnlint.fixes import set_argument
from cnnlint.rulekit import Rule, shape_text, show
from cnnlint.shapes.common import as_dim
from cnnlint.values import Tensor

from .cnn102_conv_in_channels import transpose_input
from ._helpers import sequence_source

RULE = Rule(
    code="CNN203",
    name="conv1d-over-sequence",
    severity="warning",
    summary="Conv1d fed a (N, L, E) sequence (embedding or batch_first RNN output) with in_channels == L",
    why="Conv1d reads (N, C, L). Fed (N, L, E) with in_channels == L it runs, treating each token as a channel "
        "and sliding the kernel over the embedding dimension, which is almost never meant.",
    fix="x = x.transpose(1, 2) before the Conv1d and set in_channels to the embedding size E.",
    fires=("""
import torch.nn as nn
# cnnlint: input=(8, 50) dtype=long
class TextCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(1000, 128)
        self.conv = nn.Conv1d(50, 64, 3)
    def forward(self, x):
        return self.conv(self.emb(x))
""",),
    silent=("""
import torch.nn as nn
# cnnlint: input=(8, 50) dtype=long
class TextCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(1000, 128)
        self.conv = nn.Conv1d(128, 64, 3)
    def forward(self, x):
        return self.conv(self.emb(x).permute(0, 2, 1))
""",),
)


def check(ctx):
    for nid, data, layer, x in ctx.layer_calls(("Conv1d",)):
        if not isinstance(x, Tensor) or x.rank != 3:
            continue
        src = sequence_source(ctx, x)
        if src is None:
            continue
        expected = as_dim(layer.arg("in_channels"))
        if ctx.differs(x.shape[1], expected):
            continue   # it does not run: CNN102
        label = ctx.layer_label(layer)
        ctx.report("CNN203", ctx.where_built(layer, data),
                   f"{label} is fed {shape_text(x)}, a (N, L, E) sequence from {ctx.layer_label(src)}: in_channels={show(expected)} "
                   f"is the sequence length, so it convolves along the embedding axis (size {show(x.shape[2])}); "
                   f"transpose with x.transpose(1, 2) and set in_channels={show(x.shape[2])}",
                   ctx.chain(x) + [(data["cst"], f"{label} is called here")],
                   fix=transpose_input(data, [set_argument(layer, "in_channels", x.shape[2])]
                                       if isinstance(x.shape[2], int) else [None]))

"""CNN207 loss-broadcast: a regression loss whose input and target have different shapes and broadcast."""

from cnnlint.rulekit import Rule, shape_text
from cnnlint.shapes.functions import broadcast
from cnnlint.values import Tensor

from ._helpers import loss_calls
from .cnn112_loss_shape import POINTWISE, certainly_other_shape, not_broadcastable

RULE = Rule(
    code="CNN207",
    name="loss-broadcast",
    severity="warning",
    summary="mse_loss / l1_loss / smooth_l1_loss / huber_loss (or their nn.*Loss) with input and target shapes that "
            "differ but broadcast",
    why="These losses broadcast the input against the target. torch only warns ('Using a target size "
        "(torch.Size([4])) that is different to the input size (torch.Size([4, 1])). This will likely lead to "
        "incorrect results due to broadcasting.') and goes on: a (N, 1) prediction against a (N,) target gives an "
        "(N, N) table of every prediction minus every target, and the model learns to predict the mean.",
    fix="Make the shapes equal: output.squeeze(1) or target.unsqueeze(1) (view_as(output)).",
    fires=("""
import torch, torch.nn as nn
model = nn.Linear(3, 1)
x, y = torch.randn(16, 3), torch.randn(16)
loss = nn.MSELoss()(model(x), y)
""",),
    silent=("""
import torch, torch.nn as nn
model = nn.Linear(3, 1)
x, y = torch.randn(16, 3), torch.randn(16)
loss = nn.MSELoss()(model(x).squeeze(1), y)
""",),
)


def check(ctx):
    for data, name, x, target, weight, label in loss_calls(ctx, POINTWISE):
        if not (isinstance(x, Tensor) and isinstance(target, Tensor)) or x.shape is None or target.shape is None:
            continue
        if not certainly_other_shape(ctx, x.shape, target.shape) or not_broadcastable(ctx, x, target):
            continue            # the same shape, or CNN112's
        both = broadcast(x.shape, target.shape)
        ctx.report("CNN207", data["cst"],
                   f"{label} of input {shape_text(x)} and target {shape_text(target)}: the shapes differ, torch warns "
                   f"and broadcasts them to {shape_text(Tensor(both))} before averaging",
                   ctx.chain(x, 3) + ctx.chain(target, 3))

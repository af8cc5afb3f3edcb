"""Small helpers several rules share."""

from __future__ import annotations

from cnnlint.rulekit import shape_text
from cnnlint.values import Tensor

# ops that keep the layout of their input: looking through them finds where a tensor really came from
LAYOUT_KEEPING = {"torch.nn.ReLU", "torch.nn.Dropout", "torch.nn.GELU", "torch.nn.Tanh", "torch.nn.Sigmoid",
                  "torch.nn.LeakyReLU", "torch.nn.functional.relu", "torch.nn.functional.dropout",
                  "torch.nn.functional.gelu", "Tensor.contiguous", "Tensor.float", "torch.nn.LayerNorm",
                  "torch.nn.BatchNorm1d", "torch.nn.BatchNorm2d", "torch.nn.ELU", "torch.nn.SiLU"}


def origin(ctx, tensor, through=LAYOUT_KEEPING, limit=8):
    """The graph node data that produced a tensor, looking through layout-keeping ops."""
    data = ctx.run.producer(tensor)
    for _ in range(limit):
        if data is None or data["op"] not in through:
            return data
        args = data["args"]
        first = next(iter(args.values()), None) if args else None
        data = ctx.run.producer(first) if isinstance(first, Tensor) else None
    return data


def arrives(tensor) -> str:
    return shape_text(tensor)

"""CNN107 shape-mismatch: elementwise operands, cat/stack inputs or matmul operands that cannot agree."""

from cnnlint.rulekit import Rule, shape_text, show
from cnnlint.rules._keras import CONCATENATE, ELEMENTWISE_MERGES, merge_inputs
from cnnlint.shapes.common import norm_axis
from cnnlint.values import Tensor

RULE = Rule(
    code="CNN107",
    name="shape-mismatch",
    severity="error",
    summary="Elementwise op, torch.cat/stack, matmul or Keras merge layer whose operand shapes cannot agree",
    why="Elementwise ops broadcast only equal sizes or 1s; cat needs equal sizes on every other axis; stack "
        "needs equal shapes; matmul needs the inner sizes to agree. torch raises at the forward pass.",
    fix="Make the shapes agree: a downsample on the residual path, a crop or pad before a skip connection, "
        "or cat along the axis that differs.",
    fires=("""
import torch.nn as nn
# cnnlint: input=(2, 64, 32, 32)
class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(64, 128, 3, stride=2, padding=1)
    def forward(self, x):
        return self.conv(x) + x
""",),
    silent=("""
import torch, torch.nn as nn
# cnnlint: input=(2, 64, 32, 32)
class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(64, 64, 3, padding=1)
    def forward(self, x):
        return torch.cat([self.conv(x) + x, x], dim=1)
""",),
)

ELEMENTWISE = {"operator.add", "operator.sub", "operator.mul", "operator.truediv", "torch.add", "torch.sub",
               "torch.mul", "torch.div", "torch.maximum", "torch.minimum"}


def check(ctx):
    for nid, data in ctx.nodes(ELEMENTWISE | ELEMENTWISE_MERGES | {"torch.cat", "torch.stack", "operator.matmul",
                                                                  CONCATENATE}):
        op = data["op"]
        if op in ELEMENTWISE_MERGES:
            _keras_merge(ctx, data)
        elif op == CONCATENATE:
            _keras_concatenate(ctx, data)
        elif op in ELEMENTWISE:
            _elementwise(ctx, data)
        elif op == "torch.cat":
            _cat(ctx, data, stack=False)
        elif op == "torch.stack":
            _cat(ctx, data, stack=True)
        else:
            _matmul(ctx, data)


def _elementwise(ctx, data):
    a, b = data["args"].get("input"), data["args"].get("other")
    if not (isinstance(a, Tensor) and isinstance(b, Tensor)):
        return
    clash = _broadcast_clash(ctx, a, b)
    if clash is not None:
        axis, x, y = clash
        ctx.report("CNN107", data["cst"],
                   f"operands of `{_symbol(data['called'])}` do not broadcast: {shape_text(a)} and {shape_text(b)} "
                   f"differ on axis {axis} ({show(x)} vs {show(y)})",
                   ctx.chain(a, 4) + ctx.chain(b, 4))


def _broadcast_clash(ctx, a, b):
    """(axis, size, size) where two shapes cannot broadcast for any consistent input, else None."""
    if a.shape is None or b.shape is None:
        return None
    for i in range(1, min(len(a.shape), len(b.shape)) + 1):
        x, y = a.shape[-i], b.shape[-i]
        if x is None or y is None or x == 1 or y == 1:
            continue
        if ctx.solver.can_be_one(x) or ctx.solver.can_be_one(y):
            continue        # it may broadcast: nothing to settle either (x == y is not implied)
        if ctx.differs(x, y):
            return max(len(a.shape), len(b.shape)) - i, x, y
    return None


def _keras_merge(ctx, data):
    parts = merge_inputs(data)
    if parts is None:
        return
    label = ctx.layer_label(data["layer"])
    for p in parts[1:]:
        clash = _broadcast_clash(ctx, parts[0], p)
        if clash is not None:
            axis, x, y = clash
            ctx.report("CNN107", ctx.call_site(data),
                       f"{label} needs inputs of the same shape (or 1s that broadcast): {shape_text(parts[0])} and "
                       f"{shape_text(p)} differ on axis {axis} ({show(x)} vs {show(y)})",
                       ctx.chain(parts[0], 4) + ctx.chain(p, 4))
            return


def _keras_concatenate(ctx, data):
    parts = merge_inputs(data)
    if parts is None:
        return
    first, label = parts[0], ctx.layer_label(data["layer"])
    axis = norm_axis(data["layer"].args.get("axis", -1), len(first.shape))
    if axis is None:
        return
    for p in parts[1:]:
        if len(p.shape) != len(first.shape):
            ctx.report("CNN107", ctx.call_site(data),
                       f"{label} of tensors with different ranks: {shape_text(first)} and {shape_text(p)}",
                       ctx.chain(first, 3) + ctx.chain(p, 3))
            return
        for i, (x, y) in enumerate(zip(first.shape, p.shape)):
            if i != axis and ctx.differs(x, y):
                ctx.report("CNN107", ctx.call_site(data),
                           f"{label} needs equal sizes on every axis but {axis}: {shape_text(first)} and "
                           f"{shape_text(p)} differ on axis {i} ({show(x)} vs {show(y)})",
                           ctx.chain(first, 3) + ctx.chain(p, 3))
                return


def _cat(ctx, data, stack):
    parts = data["args"].get("tensors")
    if not isinstance(parts, (list, tuple)) or len(parts) < 2:
        return
    if not all(isinstance(p, Tensor) and p.shape is not None for p in parts):
        return
    first = parts[0]
    name = "torch.stack" if stack else "torch.cat"
    for p in parts[1:]:
        if len(p.shape) != len(first.shape):
            if not stack and (p.shape == (0,) or first.shape == (0,)):
                continue
            ctx.report("CNN107", data["cst"],
                       f"{name} of tensors with different ranks: {shape_text(first)} and {shape_text(p)}",
                       ctx.chain(first, 3) + ctx.chain(p, 3))
            return
    axis = None if stack else norm_axis(data["args"].get("dim", 0), len(first.shape))
    if not stack and axis is None:
        return
    for p in parts[1:]:
        for i, (x, y) in enumerate(zip(first.shape, p.shape)):
            if i == axis:
                continue
            if ctx.differs(x, y):
                what = "every axis" if stack else f"every axis but {axis}"
                ctx.report("CNN107", data["cst"],
                           f"{name} needs equal sizes on {what}: {shape_text(first)} and {shape_text(p)} differ on "
                           f"axis {i} ({show(x)} vs {show(y)})",
                           ctx.chain(first, 3) + ctx.chain(p, 3))
                return


def _matmul(ctx, data):
    a, b = data["args"].get("input"), data["args"].get("other")
    if not (isinstance(a, Tensor) and isinstance(b, Tensor)) or not a.shape or not b.shape:
        return
    inner_b = b.shape[0] if len(b.shape) == 1 else b.shape[-2]
    if ctx.differs(a.shape[-1], inner_b):
        ctx.report("CNN107", data["cst"],
                   f"matmul of {shape_text(a)} and {shape_text(b)}: inner sizes {show(a.shape[-1])} and "
                   f"{show(inner_b)} differ", ctx.chain(a, 3) + ctx.chain(b, 3))


def _symbol(op):
    return {"operator.add": "+", "operator.sub": "-", "operator.mul": "*", "operator.truediv": "/"}.get(
        op, op)

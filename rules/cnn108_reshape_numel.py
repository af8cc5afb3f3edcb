"""CNN108 reshape-numel: view/reshape to a shape with another number of elements."""

from cnnlint.fixes import set_target_size, written_factors
from cnnlint.rulekit import Rule, shape_text, show
from cnnlint.shapes import dims as D
from cnnlint.shapes.common import as_dim
from cnnlint.shapes.functions import RESHAPES
from cnnlint.values import Tensor

RULE = Rule(
    code="CNN108",
    name="reshape-numel",
    severity="error",
    summary="view/reshape (or a Keras Reshape) whose element count cannot match the input's",
    why="view and reshape only rearrange elements; torch raises \"shape '[...]' is invalid for input of size "
        "...\" when the target holds another number of elements, or when -1 cannot be inferred exactly.",
    fix="Compute the target from the input (x.view(x.size(0), -1)) or fix the constant.",
    fires=("""
import torch.nn as nn
# cnnlint: input=(4, 3, 32, 32)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
    def forward(self, x):
        return self.conv(x).view(4, 8 * 16 * 16)
""",),
    silent=("""
import torch.nn as nn
# cnnlint: input=(4, 3, 32, 32)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
    def forward(self, x):
        return self.conv(x).view(x.size(0), -1)
""",),
)

VIEWS = set(RESHAPES)


def target_of(data):
    args = data["args"]
    target = args.get("shape")
    return list(target) if isinstance(target, (list, tuple)) else None


KERAS_RESHAPE = "keras.layers.Reshape"


def check(ctx):
    for nid, data in ctx.nodes(VIEWS | {KERAS_RESHAPE}):
        if data["op"] == KERAS_RESHAPE:
            # Keras' target_shape leaves out the batch axis, which is carried over
            x = data["args"].get("inputs")
            target = data["layer"].args.get("target_shape")
            if isinstance(x, Tensor) and x.shape and isinstance(target, (list, tuple)):
                _judge(ctx, x, x.shape[1:], list(target), ctx.where_built(data["layer"], data),
                       f"{ctx.layer_label(data['layer'])} cannot reshape", fix_layer=data["layer"])
            continue
        x = data["args"].get("input")
        target = target_of(data)
        if isinstance(x, Tensor) and x.shape is not None and target is not None:
            _judge(ctx, x, x.shape, target, data["cst"], "cannot view")


def _judge(ctx, x, counted, target, where, verb, fix_layer=None):
    """Report when `target` cannot hold the elements of the axes `counted` of x (all of them for torch, all
    but the batch for Keras)."""
    dims = [as_dim(t) for t in target]
    if None in dims or dims.count(-1) > 1:
        return
    numel = D.product(counted)
    if numel is None:
        return
    per_sample = " per sample" if len(counted) < len(x.shape) else ""
    wanted = f"({', '.join(show(d) for d in dims)})"
    if -1 in dims:
        known = D.product(d for d in dims if d != -1)
        if isinstance(numel, int) and isinstance(known, int) and known > 0 and numel % known:
            ctx.report("CNN108", where,
                       f"{verb} {shape_text(x)} ({numel} elements{per_sample}) as {wanted}: {numel} is not a "
                       f"multiple of {known}", ctx.chain(x))
        return
    target_numel = D.product(dims)
    if ctx.differs(numel, target_numel):
        # a Keras Reshape's target is a constructor argument: fixable when one size alone can make it fit
        fix = set_target_size(fix_layer, "target_shape", dims, numel, written_factors(ctx.run, x)) \
            if fix_layer is not None else None
        ctx.report("CNN108", where,
                   f"{verb} {shape_text(x)} ({show(numel)} elements{per_sample}) as {wanted} "
                   f"({show(target_numel)} elements)", ctx.chain(x), fix=fix)

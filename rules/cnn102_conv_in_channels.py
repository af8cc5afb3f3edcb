"""CNN102 conv-in-channels: a convolution whose in_channels is not the channel count it receives."""

from cnnlint.fixes import code_of, replace_call_argument, set_size
from cnnlint.rulekit import Rule, set_hint, shape_text, show
from cnnlint.shapes.common import as_dim
from cnnlint.shapes import dims as D
from cnnlint.values import Tensor

from ._helpers import axis_advice, last_rearrangement, sequence_source, written

CONVS = ("Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")

RULE = Rule(
    code="CNN102",
    name="conv-in-channels",
    severity="error",
    summary="Conv in_channels (or F.conv{n}d's weight) differs from the channel axis of its input (incl. Conv1d fed "
            "(N, L, E)); F.conv{n}d's bias is not (out_channels,)",
    why="A convolution's weight is (out_channels, in_channels/groups, *kernel); torch raises 'expected input "
        "to have C channels' when axis 1 of the input has another size. Conv1d reads (N, C, L): an embedding "
        "output (N, L, E) must be transposed first.",
    fix="Set in_channels to the channel count that arrives, or transpose (N, L, E) to (N, E, L) with "
        "x.transpose(1, 2) before a Conv1d (and channels-last images (N, H, W, C) with x.permute(0, 3, 1, 2)); "
        "give F.conv{n}d a bias of (out_channels,).",
    fires=("""
import torch.nn as nn
# cnnlint: input=(8, 20) dtype=long
class TextCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(1000, 64)
        self.conv = nn.Conv1d(64, 32, 3)
    def forward(self, x):
        return self.conv(self.emb(x))
""",),
    silent=("""
import torch.nn as nn
# cnnlint: input=(8, 20) dtype=long
class TextCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(1000, 64)
        self.conv = nn.Conv1d(64, 32, 3)
    def forward(self, x):
        return self.conv(self.emb(x).transpose(1, 2))
""",),
)


def channel_axis(layer, x):
    n = int(layer.type_name[-2])
    if x.rank == n + 2:
        return 1
    if x.rank == n + 1:
        return 0
    return None


def check_functional(ctx):
    """F.conv2d(x, weight, ..., groups): the weight is (out_channels, in_channels / groups, *kernel)."""
    for n in (1, 2, 3):
        for nid, data in ctx.nodes({f"torch.nn.functional.conv{n}d"}):
            x, w, groups = data["args"].get("input"), data["args"].get("weight"), data["args"].get("groups", 1)
            if not (isinstance(x, Tensor) and x.shape and isinstance(w, Tensor) and w.shape and len(w.shape) == n + 2
                    and isinstance(groups, int) and x.rank in (n + 1, n + 2)):
                continue
            axis = 1 if x.rank == n + 2 else 0
            expected = D.mul(w.shape[1], groups) if w.shape[1] is not None else None
            got = x.shape[axis]
            if not ctx.differs(got, expected):
                _check_bias(ctx, data, n, w, data["args"].get("bias"))
                continue
            owner = ctx.weight_owner(w)
            whose = f" (the weight of {ctx.layer_label(owner)})" if owner is not None else ""
            ctx.report("CNN102", ctx.where_built(owner, data, "in_channels") if owner is not None else data["cst"],
                       f"F.conv{n}d with a weight of shape {shape_text(w)}{whose} and groups={groups} expects "
                       f"{show(expected)} input channels, but the tensor it receives is {shape_text(x)}: axis {axis} "
                       f"has {show(got)}", ctx.chain(x) + [(data["cst"], f"F.conv{n}d is called here")])


def _check_bias(ctx, data, n, w, bias):
    """F.conv{n}d's bias must be 1-D with out_channels elements: 'expected bias to be 1-dimensional with 8
    elements'."""
    if not isinstance(bias, Tensor) or bias.shape is None:
        return
    out = w.shape[0]
    if len(bias.shape) == 1 and not ctx.differs(bias.shape[0], out):
        return
    ctx.report("CNN102", data["cst"],
               f"F.conv{n}d with a weight of shape {shape_text(w)} gives {show(out)} output channels, but its bias is "
               f"{shape_text(bias)}: torch wants a 1-D bias of {show(out)} elements and raises; make it "
               f"({show(out)},)", [(data["cst"], f"F.conv{n}d is called here")])


def check(ctx):
    check_functional(ctx)
    for nid, data, layer, x in ctx.layer_calls(CONVS):
        if not isinstance(x, Tensor) or x.shape is None:
            continue
        axis = channel_axis(layer, x)
        if axis is None:
            continue
        expected = as_dim(layer.arg("in_channels"))
        got = x.shape[axis]
        if not ctx.differs(got, expected):
            continue
        label = ctx.layer_label(layer)
        message = (f"{label} expects {show(expected)} input channels, but the tensor it receives is "
                   f"{shape_text(x)}: axis {axis} has {show(got)}")
        src = sequence_source(ctx, x)
        n = int(layer.type_name[-2])
        moved = axis_advice(ctx, x, axis, expected, keep=(0,) if axis == 1 else (), ranks=(n + 1, n + 2))
        where = ctx.where_built(layer, data, "in_channels")
        if layer.type_name == "Conv1d" and src is not None and x.rank == 3 and not ctx.differs(x.shape[2], expected):
            message += (f"; it is a (N, L, E) sequence from {ctx.layer_label(src)} and Conv1d reads (N, C, L): "
                        f"transpose it with x.transpose(1, 2) before {label}")
            fix = transpose_input(data)
            where = ctx.call_site(data)       # the data is wrong, not the layer
        elif moved is not None and not layer.type_name.startswith("ConvTranspose"):
            text, k = moved
            undone = last_rearrangement(ctx, x)
            message += (f"; {show(expected)} is axis {k}: {text} before {label}"
                        + (f" (the {written(undone)} before it was never undone)" if undone is not None else ""))
            fix = None
            where = ctx.call_site(data)
        else:
            fix = set_size(ctx.run, layer, "in_channels", x, axis, at=where, runs=ctx.runs)
            message += "; " + set_hint("in_channels", got, expected, fix)
        ctx.report("CNN102", where, message, ctx.chain(x) + [(data["cst"], f"{label} is called here")], fix=fix)


def transpose_input(data, extra=()):
    """Unsafe: feed the layer x.transpose(1, 2), where it is called directly (not inside a Sequential)."""
    import libcst as cst  # only when a fix is built: a cached run never loads LibCST

    call = data["cst"]
    if not data.get("direct", True) or not isinstance(call, cst.Call) or not call.args or call.args[0].star:
        return None
    arg = call.args[0].value
    text = code_of(arg)
    if not isinstance(arg, (cst.Name, cst.Attribute, cst.Call, cst.Subscript)):
        text = f"({text})"
    fix = replace_call_argument(call, 0, f"{text}.transpose(1, 2)", "transpose the (N, L, E) input to (N, E, L)")
    if fix is not None:
        for more in extra:
            if more is None:
                return None
            fix.replacements.extend(more.replacements)
    return fix

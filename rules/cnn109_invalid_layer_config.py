"""CNN109 invalid-layer-config: layer arguments torch rejects when the layer is built."""

from cnnlint.rulekit import Rule, show
from cnnlint.shapes.common import as_int, ntuple

RULE = Rule(
    code="CNN109",
    name="invalid-layer-config",
    severity="error",
    summary="Layer arguments torch or Keras rejects: padding='same' with stride > 1, channels (or Keras filters) "
            "not divisible by groups, "
            "embed_dim not divisible by num_heads, a pooling padding larger than half its window",
    why="torch checks these in the layer's constructor and raises before any data flows: 'padding='same' is "
        "not supported for strided convolutions', 'in_channels must be divisible by groups', 'embed_dim must "
        "be divisible by num_heads'. Pooling (nn.MaxPool2d, F.avg_pool1d, ...) checks its padding at the first "
        "call, whatever the input: 'pad should be at most half of effective kernel size'.",
    fix="For a strided 'same'-like conv use padding=kernel_size // 2; make channels a multiple of groups; "
        "pick num_heads that divides embed_dim; pad a pooling window by at most kernel_size // 2.",
    fires=("""
import torch.nn as nn
down = nn.Conv2d(64, 128, 3, stride=2, padding="same")
""", """
import torch.nn as nn, torch.nn.functional as F
# cnnlint: input=(2, 8, 16, 16)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.pool = nn.MaxPool2d(2, padding=2)
    def forward(self, x):
        return F.avg_pool2d(self.pool(x), 3, padding=2)
"""),
    silent=("""
import torch.nn as nn
down = nn.Conv2d(64, 128, 3, stride=2, padding=1)
same = nn.Conv2d(64, 64, 3, padding="same")
dw = nn.Conv2d(64, 64, 3, groups=64)
attn = nn.MultiheadAttention(512, 8)
""", """
import torch.nn as nn, torch.nn.functional as F
# cnnlint: input=(2, 8, 16, 16)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.pool = nn.MaxPool2d(2, padding=1)
    def forward(self, x):
        return F.avg_pool2d(self.pool(x), 3, padding=1)
"""),
)


def _divides(ctx, layer, total_name, part_name, what):
    total, part = as_int(layer.arg(total_name)), as_int(layer.arg(part_name))
    if total is None or part is None or part <= 0 or total % part == 0:
        return
    ctx.report("CNN109", layer.call,
               f"{layer.type_name}: {total_name}={total} is not divisible by {part_name}={part} ({what})")


KERAS_GROUPED_CONVS = {f"keras.layers.{name}{n}D" for name in ("Conv", "Convolution") for n in (1, 2, 3)}
POOLS = ("MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d")


def pool_padding(kernel, padding, n):
    """(axis, pad, kernel) of the first padding larger than half the window, else None."""
    for axis, (k, p) in enumerate(zip(ntuple(kernel, n), ntuple(padding, n))):
        k, p = as_int(k), as_int(p)
        if k is not None and p is not None and k > 0 and p > k // 2:
            return axis, p, k
    return None


def check_pools(ctx):
    """Pooling with a padding larger than half its window: torch raises at the first call ('pad should be at most
    half of effective kernel size')."""
    for nid, data in ctx.nodes(prefix=("torch.nn.MaxPool", "torch.nn.AvgPool", "torch.nn.functional.max_pool",
                                       "torch.nn.functional.avg_pool")):
        layer = data.get("layer")
        if layer is not None:
            if layer.type_name not in POOLS or layer.args.get("__unknown__"):
                continue
            n, kernel, padding = int(layer.type_name[-2]), layer.arg("kernel_size"), layer.arg("padding", 0)
            label, where = ctx.layer_label(layer), ctx.where_built(layer, data)
        else:
            name = data["called"]
            if name[-2:] not in ("1d", "2d", "3d"):
                continue
            n, kernel, padding = int(name[-2]), data["args"].get("kernel_size"), data["args"].get("padding", 0)
            label, where = name.replace("torch.nn.functional.", "F."), data["cst"]
        found = pool_padding(kernel, padding, n)
        if found is None:
            continue
        axis, pad, k = found
        ctx.report("CNN109", where,
                   f"{label} pads {pad} on each side of a window of {k}" + (
                       f" (spatial axis {axis})" if isinstance(padding, (list, tuple)) or isinstance(
                           kernel, (list, tuple)) else "") +
                   f": torch allows at most half the window (padding <= {k // 2}) and raises 'pad should be at most "
                   f"half of effective kernel size'; use padding={k // 2}",
                   [(data["cst"], f"{label} is called here")] if layer is not None else [])


def check(ctx):
    check_pools(ctx)
    for layer in ctx.layers:
        kind = layer.type_name
        if layer.args.get("__unknown__") or layer.call is None:
            continue
        if kind.startswith("Conv") and not kind.startswith("ConvTranspose") and kind[-2:] in ("1d", "2d", "3d"):
            if layer.arg("padding") == "same":
                strides = ntuple(layer.arg("stride"), int(kind[-2]))
                if any(isinstance(s, int) and s > 1 for s in strides):
                    ctx.report("CNN109", layer.call,
                               f"{kind}(padding='same') with stride {show(layer.arg('stride'))}: torch does not "
                               f"support 'same' padding for strided convolutions; use padding=kernel_size // 2")
            _divides(ctx, layer, "in_channels", "groups", "torch raises in the constructor")
            _divides(ctx, layer, "out_channels", "groups", "torch raises in the constructor")
        elif kind.startswith("ConvTranspose"):
            _divides(ctx, layer, "in_channels", "groups", "torch raises in the constructor")
            _divides(ctx, layer, "out_channels", "groups", "torch raises in the constructor")
        elif kind == "MultiheadAttention":
            _divides(ctx, layer, "embed_dim", "num_heads", "each head gets embed_dim // num_heads features")
        elif kind in ("TransformerEncoderLayer", "TransformerDecoderLayer"):
            _divides(ctx, layer, "d_model", "nhead", "each head gets d_model // nhead features")
        elif kind == "GroupNorm":
            _divides(ctx, layer, "num_channels", "num_groups", "torch raises in the constructor")
        elif layer.kind in KERAS_GROUPED_CONVS:
            _divides(ctx, layer, "filters", "groups", "Keras raises when the layer is made: 'The number of filters "
                                                      "must be evenly divisible by the number of groups'")

"""CNN109 invalid-layer-config: layer arguments torch rejects when the layer is built."""

from cnnlint.rulekit import Rule, show
from cnnlint.shapes.common import as_int, ntuple

RULE = Rule(
    code="CNN109",
    name="invalid-layer-config",
    severity="error",
    summary="Layer arguments torch rejects at construction: padding='same' with stride > 1, channels not "
            "divisible by groups, embed_dim not divisible by num_heads",
    why="torch checks these in the layer's constructor and raises before any data flows: 'padding='same' is "
        "not supported for strided convolutions', 'in_channels must be divisible by groups', 'embed_dim must "
        "be divisible by num_heads'.",
    fix="For a strided 'same'-like conv use padding=kernel_size // 2; make channels a multiple of groups; "
        "pick num_heads that divides embed_dim.",
    fires=("""
import torch.nn as nn
down = nn.Conv2d(64, 128, 3, stride=2, padding="same")
""",),
    silent=("""
import torch.nn as nn
down = nn.Conv2d(64, 128, 3, stride=2, padding=1)
same = nn.Conv2d(64, 64, 3, padding="same")
dw = nn.Conv2d(64, 64, 3, groups=64)
attn = nn.MultiheadAttention(512, 8)
""",),
)


def _divides(ctx, layer, total_name, part_name, what):
    total, part = as_int(layer.arg(total_name)), as_int(layer.arg(part_name))
    if total is None or part is None or part <= 0 or total % part == 0:
        return
    ctx.report("CNN109", layer.call,
               f"{layer.type_name}: {total_name}={total} is not divisible by {part_name}={part} ({what})")


def check(ctx):
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

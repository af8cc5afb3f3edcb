"""CNN206 interpolate-area-upsample: mode='area' used to enlarge a map."""

from cnnlint.rulekit import Rule, shape_text
from cnnlint.values import Tensor

RULE = Rule(
    code="CNN206",
    name="interpolate-area-upsample",
    severity="warning",
    summary="F.interpolate(..., mode='area') that upsamples",
    why="'area' is adaptive average pooling: it is meant for shrinking. Enlarging with it just repeats pixels "
        "(the same as 'nearest') while reading as if it smoothed.",
    fix="Use mode='nearest' (same result, clearer) or mode='bilinear' for a smooth upsample.",
    fires=("""
import torch, torch.nn.functional as F
y = F.interpolate(torch.randn(1, 3, 16, 16), scale_factor=2, mode="area")
""",),
    silent=("""
import torch, torch.nn.functional as F
y = F.interpolate(torch.randn(1, 3, 64, 64), scale_factor=0.5, mode="area")
""",),
)


def check(ctx):
    for nid, data in ctx.nodes({"torch.nn.functional.interpolate", "torch.nn.Upsample"}):
        args, layer = data["args"], data.get("layer")
        settings = layer.args if layer is not None else args
        if settings.get("mode") != "area":
            continue
        x, out = args.get("input"), data["output"]
        scale = settings.get("scale_factor")
        scales = scale if isinstance(scale, (list, tuple)) else [scale]
        up = any(isinstance(s, (int, float)) and not isinstance(s, bool) and s > 1 for s in scales)
        if not up and isinstance(x, Tensor) and isinstance(out, Tensor) and x.shape and out.shape \
                and len(x.shape) == len(out.shape):
            up = any(isinstance(a, int) and isinstance(b, int) and b > a for a, b in zip(x.shape[2:], out.shape[2:]))
        if up:
            ctx.report("CNN206", ctx.where_built(layer, data) if layer is not None else data["cst"],
                       f"interpolate(mode='area') enlarges {shape_text(x)} to {shape_text(out)}: 'area' averages "
                       f"when shrinking and only repeats pixels when enlarging; use mode='nearest' or 'bilinear'",
                       ctx.chain(x, 3))

"""CNN208 dropout-rank: Dropout2d / Dropout3d fed a tensor of a rank they do not drop channels of as documented."""

from cnnlint.rulekit import Rule, shape_text
from cnnlint.values import Tensor

RULE = Rule(
    code="CNN208",
    name="dropout-rank",
    severity="warning",
    summary="nn.Dropout2d / F.dropout2d fed 2-D, 3-D or 5-D (1-D raises: CNN110), nn.Dropout3d / F.dropout3d fed "
            "other than 4-D or 5-D",
    why="Channel dropout zeroes whole feature maps: Dropout2d expects (N, C, H, W), Dropout3d (N, C, D, H, W) or an "
        "unbatched (C, D, H, W). torch 2.13 does not raise on other ranks: it warns and guesses. Dropout2d reads a "
        "3-D input as (N, C, L) ('Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior "
        "is desired - input is interpreted as shape (N, C, L)'), so an unbatched (C, H, W) image loses single rows of "
        "each channel, not channels. A 1-D input raises ('Feature dropout requires at least 2 dimensions'). Any "
        "other rank gets 'Received a 2-D input to dropout2d, which is deprecated and "
        "will result in an error in a future release': a 2-D (N, features) input, after a flatten, has single "
        "elements dropped like nn.Dropout (no channel dropout happens); a 5-D input to Dropout2d loses whole 3-D "
        "volumes, as Dropout3d would; Dropout3d given (N, features) zeroes whole samples.",
    fix="Use nn.Dropout for flattened features and nn.Dropout1d for (N, C, L) sequences; give Dropout2d a 4-D map "
        "(unsqueeze(0) an unbatched image) and Dropout3d a 4-D or 5-D volume.",
    fires=("""
import torch, torch.nn as nn
# cnnlint: input=(4, 3, 32, 32)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.drop = nn.Dropout2d(0.2)
        self.fc = nn.Linear(8 * 30 * 30, 10)
    def forward(self, x):
        return self.fc(self.drop(torch.flatten(self.conv(x), 1)))
""",),
    silent=("""
import torch, torch.nn as nn
# cnnlint: input=(4, 3, 32, 32)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.drop = nn.Dropout2d(0.2)
        self.fc = nn.Linear(8 * 30 * 30, 10)
    def forward(self, x):
        return self.fc(torch.flatten(self.drop(self.conv(x)), 1))
""",),
)

RANKS = {"2d": (4,), "3d": (4, 5)}      # the ranks torch takes without a warning


def check(ctx):
    for nid, data in ctx.nodes({"torch.nn.Dropout2d", "torch.nn.Dropout3d", "torch.nn.functional.dropout2d"}):
        layer = data.get("layer")
        name = data["op"] if layer is not None else data["called"]
        ranks = RANKS[name[-2:].lower()]
        args = data["args"]
        x = next(iter(args.values()), None) if args else None
        if not isinstance(x, Tensor) or x.shape is None or x.rank in ranks:
            continue
        if x.rank < 2 and ranks == (4,):
            continue        # Dropout2d on 1-D raises: CNN110's
        label = ctx.layer_label(layer) if layer is not None else name.replace("torch.nn.functional.", "F.")
        wanted = " or ".join(f"{r}-D" for r in ranks)
        guess = ("torch warns and, for now, reads it as (N, C, L) as nn.Dropout1d does (an unbatched (C, H, W) image "
                 "loses single rows); a future release will read it as (C, H, W)" if x.rank == 3 and ranks == (4,)
                 else "torch warns that this is deprecated and will become an error"
                 + (", and drops single elements as nn.Dropout does" if x.rank == 2 and ranks == (4,) else
                    ", and drops whole rows: samples of a (N, features) batch" if x.rank == 2 else ""))
        related = ctx.chain(x) + ([(data["cst"], f"{label} is called here")] if layer is not None else [])
        ctx.report("CNN208", ctx.call_site(data),
                   f"{label} drops whole channels of a {wanted} input, but receives {shape_text(x)} ({x.rank}-D): "
                   f"{guess}", related)

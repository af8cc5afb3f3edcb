"""CNN110 input-rank: a layer fed a tensor with a number of axes it does not accept."""

from cnnlint.rulekit import Rule, shape_text
from cnnlint.rules._keras import ANY_RANK_FROM, keras_ranks
from cnnlint.values import Tensor

RULE = Rule(
    code="CNN110",
    name="input-rank",
    severity="error",
    summary="A layer is fed a tensor of a rank it rejects (Conv2d fed 2-D, LSTM fed 4-D, Keras Conv2D after a "
            "Flatten, ...)",
    why="Conv{n}d and pooling take (N, C, *n spatial) or an unbatched (C, *n spatial); BatchNorm2d takes 4-D; "
        "RNNs take (L, N, E) or (L, E). torch raises 'Expected 3D (unbatched) or 4D (batched) input'. Keras layers "
        "check their InputSpec: Conv2D needs at least 4 axes, MaxPooling2D exactly 4, LSTM 3, Dense at least 2 "
        "(batch included); Keras raises 'Input 0 of layer ... is incompatible with the layer: expected ndim=...'.",
    fix="Keep the spatial axes (do not flatten before a conv), or unsqueeze / reshape the input to the rank the "
        "layer reads.",
    fires=("""
import torch, torch.nn as nn
# cnnlint: input=(4, 3, 32, 32)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3)
        self.conv2 = nn.Conv2d(8, 8, 3)
    def forward(self, x):
        return self.conv2(torch.flatten(self.conv1(x), 1))
""",),
    silent=("""
import torch, torch.nn as nn
# cnnlint: input=(3, 32, 32)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3)
    def forward(self, x):
        return self.conv1(x)
""",),
)


def accepted_ranks(kind):
    name = kind.rsplit(".", 1)[-1]
    if kind.startswith("keras."):
        return keras_ranks(name)
    if name[-2:] in ("1d", "2d", "3d") and name.startswith(("Conv", "MaxPool", "AvgPool", "LPPool", "AdaptiveAvgPool",
                                                            "AdaptiveMaxPool", "InstanceNorm")):
        n = int(name[-2])
        return (n + 1, n + 2)
    if name.startswith("BatchNorm") and name[-2:] in ("1d", "2d", "3d"):
        n = int(name[-2])
        return (2, 3) if n == 1 else (n + 2,)
    if name in ("LSTM", "GRU", "RNN", "MultiheadAttention"):
        return (2, 3)
    if name == "Dropout1d":      # 2-D and 3-D; Dropout2d/3d only warn on other ranks (CNN208)
        return (2, 3)
    if name in ("RNNCell", "LSTMCell", "GRUCell"):
        return (1, 2)
    if name in ("Linear", "Bilinear"):
        return tuple(range(1, 16))
    return None


def check(ctx):
    for nid, data in ctx.nodes(prefix=("torch.nn.", "keras.layers.")):
        layer = data.get("layer")
        if layer is None:
            continue
        ranks = accepted_ranks(data["op"])
        if ranks is None:
            continue
        args = data["args"]
        x = next(iter(args.values()), None) if args else None
        if not isinstance(x, Tensor) or x.shape is None or x.rank in ranks:
            continue
        label = ctx.layer_label(layer)
        wanted = (f"{ranks[0]}-D or higher" if ranks[-1] == ANY_RANK_FROM - 1 and len(ranks) > 2
                  else " or ".join(f"{r}-D" for r in ranks))
        ctx.report("CNN110", ctx.call_site(data),
                   f"{label} takes a {wanted} input, but the tensor it receives is {shape_text(x)} ({x.rank}-D)",
                   ctx.chain(x) + [(data["cst"], f"{label} is called here")])


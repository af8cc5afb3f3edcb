"""CNN110 input-rank: a layer fed a tensor with a number of axes it does not accept."""

from cnnlint.rulekit import Rule, shape_text
from cnnlint.rules._keras import ANY_RANK_FROM, keras_ranks
from cnnlint.values import Tensor

RULE = Rule(
    code="CNN110",
    name="input-rank",
    severity="error",
    summary="A layer or functional op is fed a tensor of a rank it rejects (Conv2d fed 2-D, F.max_pool2d fed "
            "(N, features), F.conv2d fed 5-D, Dropout2d fed 1-D, LSTM fed 4-D, Keras Conv2D after a Flatten, ...)",
    why="Conv{n}d and pooling (nn.MaxPool2d, F.max_pool2d, F.avg_pool1d, F.conv3d, ...) take (N, C, *n spatial) or "
        "an unbatched (C, *n spatial); BatchNorm2d takes 4-D; RNNs take (L, N, E) or (L, E); channel dropout "
        "(nn.Dropout2d, F.dropout2d) at least 2-D ('Feature dropout requires at least 2 dimensions in the input'). "
        "torch raises 'Expected 3D (unbatched) or 4D (batched) input'. Keras layers "
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
""", """
import torch, torch.nn as nn, torch.nn.functional as F
# cnnlint: input=(4, 3, 32, 32)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
    def forward(self, x):
        return F.max_pool2d(torch.flatten(self.conv(x), 1), 2)
"""),
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
    if name == "Dropout2d":      # except 1-D: 'Feature dropout requires at least 2 dimensions in the input'
        return tuple(range(2, 16))
    if name in ("RNNCell", "LSTMCell", "GRUCell"):
        return (1, 2)
    if name in ("Linear", "Bilinear"):
        return tuple(range(1, 16))
    return None


def extra_axis(x, ranks, keras=False):
    """Advice when the input has one axis too many and one of them (not the batch) has size 1: squeeze it."""
    if x.rank - 1 not in ranks:
        return ""
    ones = [j for j, d in enumerate(x.shape) if j > 0 and isinstance(d, int) and d == 1]
    if len(ones) != 1:
        return ""
    j = ones[0]
    return f"; axis {j} has size 1: drop it with " + ("a Reshape" if keras else f"x.squeeze({j})") + " first"


def functional_ranks(data):
    """The ranks a torch.nn.functional op takes (F.max_pool2d: 3-D or 4-D), or None when it is not checked here."""
    name = data.get("called") or data["op"]
    if not name.startswith(("torch.nn.functional.", "torch.")):
        return None
    base = name.rsplit(".", 1)[-1]
    if base[-2:] in ("1d", "2d", "3d") and base.startswith(("max_pool", "avg_pool", "conv")) and \
            not base.startswith("conv_transpose"):
        n = int(base[-2])
        return (n + 1, n + 2)
    if base == "dropout2d":
        return tuple(range(2, 16))       # 1-D raises 'Feature dropout requires at least 2 dimensions'
    return None


FUNCTIONAL_PREFIX = ("torch.nn.functional.max_pool", "torch.nn.functional.avg_pool", "torch.nn.functional.conv",
                     "torch.nn.functional.dropout2d")


def check(ctx):
    check_functional(ctx)
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
                   f"{label} takes a {wanted} input, but the tensor it receives is {shape_text(x)} ({x.rank}-D)"
                   + extra_axis(x, ranks, keras=data["op"].startswith("keras."))
                   + ("; it raises in training ('Feature dropout requires at least 2 dimensions in the input', in eval "
                      "mode it only warns): use nn.Dropout for a vector" if layer.type_name == "Dropout2d" else ""),
                   ctx.chain(x) + [(data["cst"], f"{label} is called here")])



def check_functional(ctx):
    """F.max_pool2d / F.avg_pool1d / F.conv3d / F.dropout2d fed a rank they reject."""
    for nid, data in ctx.nodes(prefix=FUNCTIONAL_PREFIX):
        ranks = functional_ranks(data)
        x = data["args"].get("input")
        if ranks is None or not isinstance(x, Tensor) or x.shape is None or x.rank in ranks:
            continue
        label = (data.get("called") or data["op"]).replace("torch.nn.functional.", "F.")
        wanted = f"{ranks[0]}-D or higher" if len(ranks) > 2 else " or ".join(f"{r}-D" for r in ranks)
        hint = extra_axis(x, ranks)
        if hint:
            pass
        elif ranks == (3, 4) and x.rank == 2:
            hint = "; a (N, features) tensor has no spatial axes to pool: keep the map 4-D (pool before flattening)"
        elif len(ranks) == 2 and x.rank == ranks[1] + 1:
            hint = (f"; it is one axis too many: use the {x.rank - 2}d op for {x.rank - 2} spatial axes, or "
                    f"fold the extra axis into the batch first")
        ctx.report("CNN110", data["cst"],
                   f"{label} takes a {wanted} input, but the tensor it receives is {shape_text(x)} ({x.rank}-D)"
                   f"{hint}", ctx.chain(x) + [(data["cst"], f"{label} is called here")])

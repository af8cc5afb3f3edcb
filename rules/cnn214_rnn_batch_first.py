"""CNN214 rnn-batch-first: a sequence-first RNN (batch_first=False) fed batch-first data."""

from cnnlint.rulekit import Rule, shape_text
from cnnlint.shapes.common import norm_axis
from cnnlint.values import Tensor

from ._axes import table
from ._helpers import written

RULE = Rule(
    code="CNN214",
    name="rnn-batch-first",
    severity="warning",
    summary="An RNN/LSTM/GRU without batch_first=True whose output's batch axis (axis 1) is then read as time: "
            "the data is batch-first",
    why="Without batch_first=True a recurrent layer reads (L, N, E): axis 0 is time, axis 1 the batch. Fed "
        "batch-first data (N, L, E) — what an Embedding of (N, L) tokens or a DataLoader gives — it runs the "
        "recurrence across the samples of the batch and treats each position as a separate sequence. Nothing "
        "raises; `out[:, -1]` then takes the last *sample* of every step, and each sample's output depends on the "
        "samples batched before it.",
    fix="Pass batch_first=True (the initial states stay (num_layers, N, hidden)), or transpose the input to "
        "(L, N, E) and read out[-1].",
    fires=("""
import torch.nn as nn
# cnnlint: input=(4, 12) dtype=long
class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(100, 32)
        self.lstm = nn.LSTM(32, 64)
        self.fc = nn.Linear(64, 3)
    def forward(self, x):
        out, _ = self.lstm(self.emb(x))
        return self.fc(out[:, -1, :])
""",),
    silent=("""
import torch.nn as nn
# cnnlint: input=(4, 12) dtype=long
class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(100, 32)
        self.lstm = nn.LSTM(32, 64, batch_first=True)
        self.fc = nn.Linear(64, 3)
    def forward(self, x):
        out, _ = self.lstm(self.emb(x))
        return self.fc(out[:, -1, :])
""", """
import torch.nn as nn
# cnnlint: input=(12, 4) dtype=long
class TimeMajor(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(100, 32)
        self.lstm = nn.LSTM(32, 64)
        self.fc = nn.Linear(64, 3)
    def forward(self, x):
        out, _ = self.lstm(self.emb(x))
        return self.fc(out[-1])
"""),
)

REDUCE_OPS = {"torch.mean", "torch.prod", "torch.norm", "torch.max", "torch.argmax", "torch.select"}


def consumed_axes(data, x):
    """The axes of x an op drops or reduces (indexing with an integer, select, a reduction over dim)."""
    op = data["op"]
    args = data["args"]
    if op == "Tensor.__getitem__":
        index = args.get("index")
        if not isinstance(index, tuple):
            return set()
        out, k = set(), 0
        for item in index:
            if item == "drop":
                out.add(k)
            if item != "new":
                k += 1
        return out
    if op in REDUCE_OPS:
        dim = args.get("dim")
        if dim is None or isinstance(dim, Tensor):
            return set()
        dims = dim if isinstance(dim, (list, tuple)) else [dim]
        return {a for a in (norm_axis(d, x.rank) for d in dims) if a is not None}
    return set()


def check(ctx):
    axes = None
    for nid, data, layer, x in ctx.layer_calls(("LSTM", "GRU", "RNN")):
        if layer.arg("batch_first") is not False or not isinstance(x, Tensor) or x.rank != 3:
            continue
        axes = axes or table(ctx)
        xa = axes.of(x)
        if xa is None or not xa[0] or not xa[1]:
            continue
        batch, time = set(xa[1]), set(xa[0])
        for later in sorted(ctx.descendants(nid)):
            use = ctx.run.graph.nodes[later]
            y = next((v for v in use["args"].values() if isinstance(v, Tensor)), None) if isinstance(
                use["args"], dict) else None
            if not isinstance(y, Tensor) or y.shape is None:
                continue
            ya = axes.of(y)
            if ya is None:
                continue
            if not any(set(axis) & time for axis in ya):
                continue            # the states (num_layers, N, H) have no time axis: how they are read is no clue
            dropped = consumed_axes(use, y)
            hit = [k for k in dropped if k < len(ya) and set(ya[k]) & batch]
            if not hit or any(set(ya[k]) & time for k in dropped):
                continue
            label = ctx.layer_label(layer)
            ctx.report("CNN214", ctx.where_built(layer, data),
                       f"{label} has batch_first=False, so it reads {shape_text(x)} as (L, N, E): axis 0 as time "
                       f"and axis 1 as the batch; but {written(use)} on its output {shape_text(y)} drops axis "
                       f"{hit[0]} as if it were time — the data is batch-first (N, L, E): the recurrence runs across "
                       f"the samples. Pass batch_first=True (or, if the input really is (L, N), read out[-1])",
                       ctx.chain(x) + [(data["cst"], f"{label} is called here"),
                                       (use["cst"], f"{written(use)} drops axis {hit[0]} of {shape_text(y)}")])
            break

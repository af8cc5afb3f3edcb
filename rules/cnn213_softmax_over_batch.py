"""CNN213 softmax-over-batch: softmax / log_softmax / nn.Softmax over the batch axis of a batched tensor."""

from cnnlint.rulekit import Rule, shape_text, show
from cnnlint.shapes.common import norm_axis
from cnnlint.values import Tensor

from ._axes import table

RULE = Rule(
    code="CNN213",
    name="softmax-over-batch",
    severity="warning",
    summary="softmax, log_softmax, softmin or nn.Softmax over the batch axis of a batched tensor",
    why="A softmax normalises along one axis. Over the batch axis it makes the samples of a batch compete: each "
        "column sums to 1 across the samples, no sample's scores sum to 1, and a sample's output depends on the "
        "other samples it happens to be batched with. It runs and trains, on the wrong thing.",
    fix="Name the class (or key) axis: dim=1 for (N, C) logits and (N, C, H, W) maps, dim=-1 for attention scores.",
    fires=("""
import torch, torch.nn as nn, torch.nn.functional as F
# cnnlint: input=(8, 20)
class Scorer(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(20, 5)
    def forward(self, x):
        return F.softmax(self.fc(x), dim=0)
""", """
import torch.nn as nn
# cnnlint: input=(8, 20)
class Scorer(nn.Module):
    def __init__(self):
        super().__init__()
        self.head = nn.Sequential(nn.Linear(20, 5), nn.Softmax(dim=0))
    def forward(self, x):
        return self.head(x)
"""),
    silent=("""
import torch, torch.nn as nn, torch.nn.functional as F
# cnnlint: input=(8, 20)
class Scorer(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(20, 5)
    def forward(self, x):
        return F.softmax(self.fc(x), dim=1)
""", """
import torch, torch.nn as nn
# cnnlint: input=(30, 16)
class NodeAttentionPooling(nn.Module):
    def __init__(self):
        super().__init__()
        self.gate = nn.Linear(16, 1)
    def forward(self, nodes):
        weights = torch.softmax(self.gate(nodes), dim=0)
        return (weights * nodes).sum(dim=0)
""", """
import torch, torch.nn as nn, torch.nn.functional as F
# cnnlint: input=(12, 8) dtype=long
class TimeMajor(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(100, 16)
        self.rnn = nn.GRU(16, 32)
        self.score = nn.Linear(32, 1)
    def forward(self, x):
        out, _ = self.rnn(self.emb(x))
        weights = F.softmax(self.score(out), dim=0)
        return (weights * out).sum(0)
"""),
)

FUNCS = {"torch.softmax"}          # the table records F.softmax, F.log_softmax, Tensor.softmax, ... under this op
LAYERS = ("Softmax", "LogSoftmax", "Softmin")


def check(ctx):
    for nid, data in ctx.nodes(FUNCS | {f"torch.nn.{n}" for n in LAYERS}):
        layer = data.get("layer")
        args = data["args"]
        if layer is not None:
            x = next(iter(args.values()), None) if args else None
            dim = layer.arg("dim")
            label = f"{ctx.layer_label(layer)} with dim={dim}"
        else:
            x, dim = args.get("input"), args.get("dim")
            label = f"{data['called'].replace('torch.nn.functional.', 'F.')}(..., dim={dim})"
        if dim is None or not isinstance(x, Tensor) or x.shape is None or x.rank < 2:
            continue            # no dim: CNN204's
        axis = norm_axis(dim, x.rank)
        if axis != 0:
            continue            # out of range: CNN111's; another axis: where the batch was moved on purpose (keys)
        axes = table(ctx)
        found = axes.of(x)
        if found is None:
            continue
        batch = axes.batch_in(found[axis])
        if not batch:
            continue
        if all(a.role in axes.weak_roles for a in batch) and not _answers(ctx, nid, axes.model_outputs()):
            continue            # rows of a (N, features) input: maybe nodes or set elements, weighed on purpose
        size = x.shape[axis]
        if isinstance(size, int) and size <= 1:
            continue
        others = [k for k in range(x.rank) if k != axis and not axes.batch_in(found[k])]
        suggestion = (f"dim={others[0]}" if len(others) == 1 else
                      "the class axis (dim=1 for (N, C, ...) logits, dim=-1 for attention scores)" if others
                      else "an axis of each sample")
        merged = "" if len(found[axis]) == 1 else " (the batch merged with another axis)"
        where = layer.call if layer is not None and layer.call is not None else data["cst"]
        related = ctx.chain(x) + ([(data["cst"], f"{ctx.layer_label(layer)} is called here")]
                                  if layer is not None else [])
        ctx.report("CNN213", where,
                   f"{label} on {shape_text(x)} normalizes over axis {axis}, the batch{merged} of {show(size)} "
                   f"samples: the samples compete with each other and no sample's values sum to 1; use "
                   f"{suggestion}", related)


SHAPE_KEEPING = {"torch.nn.functional.relu", "torch.sigmoid", "Tensor.clamp", "Tensor.contiguous", "torch.clamp"}


def _answers(ctx, nid, outputs, limit=4):
    """Whether the softmax's output is what the model returns (through ops that keep it as it is)."""
    for _ in range(limit):
        if nid in outputs:
            return True
        after = sorted(ctx.run.graph.successors(nid)) if nid in ctx.run.graph else []
        if len(after) != 1 or ctx.run.graph.nodes[after[0]].get("op") not in SHAPE_KEEPING:
            return False
        nid = after[0]
    return False

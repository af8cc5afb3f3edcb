"""CNN201 view-changes-batch: view/reshape(-1, k) that silently folds features into the batch axis."""

from cnnlint.rulekit import Rule, shape_text, show
from cnnlint.shapes import dims as D
from cnnlint.shapes.common import as_dim
from cnnlint.values import Tensor

from .cnn108_reshape_numel import VIEWS, target_of

RULE = Rule(
    code="CNN201",
    name="view-changes-batch",
    severity="warning",
    summary="view/reshape(-1, k) where k is not the number of features per sample, so the batch size changes",
    why="With -1 first, torch infers the batch from the element count. When k is not the product of the "
        "per-sample axes, a batch of 4 silently becomes a batch of 16 (or the view fails for other batch "
        "sizes); the loss then compares the wrong samples.",
    fix="Flatten per sample: x.view(x.size(0), -1) or torch.flatten(x, 1), and size the next layer to match.",
    fires=("""
import torch.nn as nn
# cnnlint: input=(4, 3, 64, 64)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 5)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(16 * 5 * 5, 10)
    def forward(self, x):
        x = self.pool(self.conv(x))
        return self.fc(x.view(-1, 16 * 5 * 5))
""",),
    silent=("""
import torch.nn as nn
# cnnlint: input=(2, 10, 96)
class HeadNorm(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(96, 96)
        self.norm = nn.LayerNorm(16)
    def forward(self, x):
        B, L, _ = x.shape
        heads = self.norm(self.proj(x).reshape(-1, 16))
        return heads.reshape(B, L, -1)
""", """
import torch
import torch.nn as nn
# cnnlint: input=(4, 10, 32)
class Router(nn.Module):
    def __init__(self):
        super().__init__()
        self.gate = nn.Linear(32, 8)
    def forward(self, x):
        weights, experts = torch.topk(self.gate(x).flatten(0, 1), 2, dim=-1)
        return weights.reshape(-1, 1), experts.reshape(-1, 4)
""", """
import torch
import torch.nn as nn
import torch.nn.functional as F
# cnnlint: input=(4, 10, 384)
class SpanConv(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(384, 384)
    def forward(self, x):
        cols = F.unfold(self.proj(x).transpose(1, 2).unsqueeze(-1), kernel_size=[9, 1], padding=[4, 0])
        cols = cols.transpose(1, 2).reshape(4, -1, 384, 9).reshape(-1, 64, 9)
        return cols.sum(-1, keepdim=True).reshape(-1, 384)
""", """
import torch
import torch.nn as nn
# cnnlint: input=(4, 10, 384)
class Picked(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(384, 384)
    def forward(self, x):
        rows = torch.masked_select(self.proj(x), x > 0).view(-1, 6, 64)
        return rows.reshape(-1, 128)
""", """
import torch.nn as nn
# cnnlint: input=(4, 3, 32, 32)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 5)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(16 * 14 * 14, 10)
    def forward(self, x):
        x = self.pool(self.conv(x))
        boxes = x.permute(0, 2, 3, 1).reshape(-1, 16)
        return self.fc(x.view(-1, 16 * 14 * 14))
""", """
import torch.nn as nn
# cnnlint: input=(N, 56, 56, 96)
class WindowRoundTrip(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(96, 96)
    def forward(self, x):
        B, H, W, C = x.shape
        windows = x.view(B, 8, 7, 8, 7, C).permute(0, 1, 3, 2, 4, 5).reshape(-1, 7, 7, C)
        windows = self.proj(windows)
        return windows.view(-1, 8, 8, 7, 7, C).permute(0, 1, 3, 2, 4, 5).reshape(B, H, W, C)
""", """
import torch.nn as nn
# cnnlint: input=(2, 56, 56, 96)
class WindowRoundTrip(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(96, 96)
    def forward(self, x):
        B, H, W, C = x.shape
        windows = x.view(B, H // 7, 7, W // 7, 7, C).permute(0, 1, 3, 2, 4, 5).reshape(-1, 7, 7, C)
        windows = self.proj(windows)
        return windows.view(-1, H // 7, W // 7, 7, 7, C).permute(0, 1, 3, 2, 4, 5).reshape(-1, H, W, C)
""", """
import torch
import torch.nn as nn
# cnnlint: input=(4, 16)
class Experts(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.randn(4 * 32, 16))
    def forward(self, x):
        w = self.w.view(-1, 32, 16)[0]
        return x @ w.t()
"""),
)


def check(ctx):
    for nid, data in ctx.nodes(VIEWS):
        found = batch_change(ctx, data)
        if found is not None:
            ctx.report("CNN201", data["cst"], found, ctx.chain(data["args"].get("input")))


def batch_change(ctx, data):
    """The message when a view/reshape(-1, k) node folds features into the batch, else None."""
    x = data["args"].get("input")
    target = target_of(data)
    if not isinstance(x, Tensor) or not x.shape or len(x.shape) < 2 or target is None or len(target) < 2:
        return None
    if x.param or x.shape[0] is None:
        # a parameter has no batch axis: `self.w.view(-1, d_ff, d)` splits experts on purpose; a leading axis of
        # unknown size is not known to be the batch (ConvBERT's (-1, head_size, k) of batch, tokens and heads)
        return None
    dims = [as_dim(t) for t in target]
    if dims[0] != -1 or None in dims or -1 in dims[1:]:
        return None
    if len(dims) > 2 and D.sub(dims[-1], x.shape[-1]) == 0:
        return None        # rows of blocks that keep the last axis, not a flatten: (B, L, 384, 9) -> (-1, 64, 9)
    per_sample = D.product(dims[1:])
    if per_sample == 1 or x.dtype == "long":
        return None        # every element in a column (`top_k_index.reshape(-1, 1)`), indices: not features
    if D.exact_div(x.shape[-1], per_sample) not in (None, 1):
        return None        # the last axis split into rows of heads: (N, L, 30*192) -> (-1, 192), a per-head norm
    # a k that is the product of trailing axes merges leading axes into the batch on purpose
    suffixes = [D.product(x.shape[i:]) for i in range(1, len(x.shape))]
    if any(s is None or not ctx.differs(s, per_sample) for s in suffixes):
        return None
    # the leading axis holds several blocks per sample (64*N windows, merged earlier) and the view takes them
    # back out of it: (64*N, 7, 7, C) -> (-1, 8, 8, 7, 7, C) gives N again, as a window reverse does (with sizes
    # known, when an earlier view did cut the windows out of the batch)
    blocks = D.exact_div(per_sample, suffixes[0])
    if blocks is not None and blocks != 1 and D.exact_div(x.shape[0], blocks) is not None and (
            not isinstance(x.shape[0], int) or _merged_upstream(ctx, ctx.current_gid)):
        return None
    numel = D.product(x.shape)
    if isinstance(numel, int) and isinstance(per_sample, int) and numel % per_sample:
        return None   # torch raises here: CNN108 reports it
    batch = D.exact_div(numel, per_sample) if numel is not None else None
    return (f"view(-1, {', '.join(show(d) for d in dims[1:])}) on {shape_text(x)}: each sample has "
            f"{show(suffixes[0])} elements, not {show(per_sample)}, so the batch axis becomes "
            f"{show(batch) if batch is not None else 'another size'} instead of {show(x.shape[0])}; "
            f"use x.view(x.size(0), -1) and size the next layer to {show(suffixes[0])}")


def _merged_upstream(ctx, nid):
    """Whether an earlier view/reshape(-1, ...) that this one depends on merged leading axes into the first one
    (a window partition's `view(-1, 7, 7, C)` on (B, 8, 8, 7, 7, C); heads split off into it too: (B, L, 6*64, 9)
    -> (-1, 64, 9))."""
    graph = ctx.run.graph
    for a in ctx.ancestors(nid) if nid is not None else ():
        data = graph.nodes[a]
        if data.get("op") not in VIEWS:
            continue
        x, y, target = data["args"].get("input"), data.get("output"), target_of(data)
        if not (isinstance(x, Tensor) and isinstance(y, Tensor) and x.shape and y.shape and target) or \
                as_dim(target[0]) != -1:
            continue
        if any(D.exact_div(y.shape[0], D.product(x.shape[:j])) is not None for j in range(2, len(x.shape))):
            return True
    return False

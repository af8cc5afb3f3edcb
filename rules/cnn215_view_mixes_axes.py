"""CNN215 view-mixes-axes: a view/reshape that regroups axes out of order, or folds an axis into the batch for
good."""

from cnnlint.rulekit import Rule, shape_text, show
from cnnlint.shapes import dims as D
from cnnlint.values import Tensor

from ._axes import table
from ._helpers import written
from .cnn108_reshape_numel import VIEWS
from .cnn201_view_changes_batch import batch_change

RULE = Rule(
    code="CNN215",
    name="view-mixes-axes",
    severity="warning",
    summary="A view/reshape whose output axis is made of the end of one axis and the start of another (axes "
            "moved with view instead of permute), or that merges the batch with an RNN state's layers or with "
            "frames and never splits them back",
    why="view and reshape keep the order of the elements in memory: they can merge neighbouring axes and split "
        "one, never move an axis. `q.view(N * H, L, D)` straight from (N, L, H * D) does not split heads: each "
        "'head' row holds pieces of several positions, each 'position' pieces of features; attention then mixes "
        "the wrong things, silently. Merging the batch with another axis changes what a row is: `h_n.view(-1, "
        "hidden)` stacks num_layers x directions states per sample as extra samples, `x.view(-1, C, H, W)` on "
        "(N, T, C, H, W) makes every frame a sample; if nothing splits them back, the model answers for N x T "
        "rows, not N samples.",
    fix="Split with view, move with transpose/permute, then merge: x.view(N, L, H, D).transpose(1, 2) (and "
        ".reshape(N * H, L, D)); take h_n[-1] for the last layer's state (or h_n.permute(1, 0, 2).reshape(N, -1)); "
        "after per-frame layers, view back to (N, T, ...) and pool over T.",
    fires=("""
import torch, torch.nn as nn
# cnnlint: input=(2, 10, 32)
class Heads(nn.Module):
    def __init__(self):
        super().__init__()
        self.q = nn.Linear(32, 32)
    def forward(self, x):
        q = self.q(x)
        return q.view(2 * 4, 10, 8)
""", """
import torch.nn as nn
# cnnlint: input=(4, 12, 16)
class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(16, 32, num_layers=2, batch_first=True)
        self.fc = nn.Linear(32, 5)
    def forward(self, x):
        _, h = self.gru(x)
        return self.fc(h.view(-1, 32))
"""),
    silent=("""
import torch, torch.nn as nn
# cnnlint: input=(2, 10, 32)
class Heads(nn.Module):
    def __init__(self):
        super().__init__()
        self.q = nn.Linear(32, 32)
    def forward(self, x):
        q = self.q(x)
        return q.view(2, 10, 4, 8).transpose(1, 2).reshape(2 * 4, 10, 8)
""", """
import torch.nn as nn
# cnnlint: input=(4, 12, 16)
class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(16, 32, num_layers=2, batch_first=True)
        self.fc = nn.Linear(32, 5)
    def forward(self, x):
        _, h = self.gru(x)
        return self.fc(h[-1])
"""),
)

CONV_OR_POOL = ("Conv1d", "Conv2d", "Conv3d", "MaxPool", "AvgPool", "AdaptiveAvgPool", "AdaptiveMaxPool", "BatchNorm2d",
                "BatchNorm3d")


def _one(d) -> bool:
    return isinstance(d, int) and d == 1


def _eq(a, b) -> bool:
    return a is not None and b is not None and D.sub(a, b) == 0


def straddle(src, dst):
    """(output axis, first input axis, last input axis, None or (r, s)) of the first output axis of a view from shape src to dst
    that starts inside one input axis and ends inside another (it holds the end of one and the start of the other:
    the view mixes them), or whose sizes cannot line up with the input axes at all; None when every output axis is
    a merge of whole axes, a piece of one, or when that cannot be decided (symbolic sizes)."""
    axes = [(k, d) for k, d in enumerate(src) if not _one(d)]
    if any(d is None for _, d in axes) or any(d is None for d in dst):
        return None
    pos, rem, started = 0, (axes[0][1] if axes else 1), False
    for j, t in enumerate(dst):
        if _one(t):
            continue
        if pos >= len(axes):
            return None
        begin, inside, r = axes[pos][0], started, t
        while True:
            if pos >= len(axes):
                return None
            s = rem
            if _eq(s, r):
                end, cut = axes[pos][0], False
                pos += 1
                rem, started = (axes[pos][1] if pos < len(axes) else 1), False
                break
            q = D.exact_div(r, s)
            if q is not None and not (isinstance(q, int) and q <= 1):
                pos += 1
                rem, started = (axes[pos][1] if pos < len(axes) else 1), False
                r = q
                continue
            q = D.exact_div(s, r)
            if q is not None and not (isinstance(q, int) and q <= 1):
                end, cut = axes[pos][0], True
                rem, started = q, True
                break
            if isinstance(s, int) and isinstance(r, int):
                return (j, begin, axes[pos][0], (r, s))     # r elements at a time from an axis of s: no line up
            return None
        if inside and cut and end != begin:
            return (j, begin, end, None)
    return None


def advice(src, dst):
    """What moves axes instead: a permute when the sizes are a permutation, the head split for (N, L, H*D)."""
    if len(src) == len(dst) and sorted(map(show, src)) == sorted(map(show, dst)) and len(set(map(show, src))) == \
            len(src):
        order = [next(i for i, d in enumerate(src) if show(d) == show(t)) for t in dst]
        return f"to move axes use x.permute({', '.join(map(str, order))})"
    if len(src) == 3:
        n, length, e = src
        if len(dst) == 3 and _eq(dst[1], length):
            heads = D.exact_div(e, dst[2])
            if heads is not None and _eq(dst[0], D.mul(n, heads)):
                return (f"to split {show(heads)} heads of {show(dst[2])} use x.view({show(n)}, {show(length)}, "
                        f"{show(heads)}, {show(dst[2])}).transpose(1, 2).reshape({show(dst[0])}, {show(length)}, "
                        f"{show(dst[2])})")
        if len(dst) == 3 and _eq(dst[1], length):
            heads = D.exact_div(dst[2], e)
            if heads is not None and _eq(n, D.mul(dst[0], heads)):
                return (f"to merge {show(heads)} heads back use x.view({show(dst[0])}, {show(heads)}, {show(length)}, "
                        f"{show(e)}).transpose(1, 2).reshape({show(dst[0])}, {show(length)}, {show(dst[2])})")
        if len(dst) == 4 and _eq(dst[0], n) and _eq(dst[2], length) and _eq(D.mul(dst[1], dst[3]), e):
            return (f"to split heads use x.view({show(n)}, {show(length)}, {show(dst[1])}, {show(dst[3])})"
                    f".transpose(1, 2)")
    return "to move an axis, transpose/permute before the view"


def check(ctx):
    axes = None
    inside = [(m.first_node, m.last_node, m) for m in ctx.run.model_runs]
    for nid, data in ctx.nodes(VIEWS):
        x, y = data["args"].get("input"), data["output"]
        if not isinstance(x, Tensor) or not isinstance(y, Tensor) or x.shape is None or y.shape is None:
            continue
        models = [m for a, b, m in inside if a <= nid < b]
        if not models:
            continue                   # a model's data, not a script's own tensors
        if not _eq(D.product(x.shape), D.product(y.shape)):
            continue                   # another element count: CNN108's (or not known)
        if batch_change(ctx, data) is not None:
            continue                   # CNN201 says it
        found = straddle(x.shape, y.shape)
        if found is not None:
            j, a, b, cut = found
            how = (f"is made of the end of axis {a} and the start of axis {b}, so it mixes two axes" if cut is None
                   else f"takes {cut[0]} elements at a time from axis {b} ({cut[1]}), which does not divide it, so it "
                   f"mixes axis {b} with the axes next to it")
            ctx.report("CNN215", data["cst"],
                       f"{written(data)} turns {shape_text(x)} into {shape_text(y)}: output axis {j} "
                       f"({show(y.shape[j])}) {how} (a view keeps memory order; it never moves an axis); "
                       f"{advice(x.shape, y.shape)}", ctx.chain(x))
            continue
        axes = axes or table(ctx)
        merged = _batch_merge(ctx, axes, nid, data, x, y, models)
        if merged is not None:
            ctx.report("CNN215", data["cst"], merged, ctx.chain(x))


def _batch_merge(ctx, axes, nid, data, x, y, models):
    """The message when the view merges the batch with an RNN state's layer axis or with frames that are then run
    through per-frame layers, and no output of the model splits them back."""
    ya = axes.of(y)
    xa = axes.of(x)
    if ya is None or xa is None:
        return None
    for k, axis in enumerate(ya):
        batch = axes.batch_in(axis)
        if not batch:
            continue
        others = [a for a in axis if not axes.is_batch(a)]
        state = [a for a in others if a.role[0] == "state"]
        frames = [a for a in others if a.whole and a.role in axes.input_roles]
        if not state and not frames:
            continue
        if frames and not state and not _per_frame_layers(ctx, axes, nid, axis):
            continue
        if any(ctx.solver.can_be_one(a.size) for a in state + frames) and not any(
                isinstance(a.size, int) and a.size > 1 for a in state + frames):
            continue
        restored, reaches = _outputs(ctx, axes, models, batch, state + frames)
        if restored or not reaches:
            continue
        if state:
            source = ctx.run.graph.nodes[state[0].role[1]]
            label = ctx.layer_label(source["layer"]) if source.get("layer") is not None else "the RNN"
            return (f"{written(data)} on {shape_text(x)}, the final state of {label} (num_layers x directions, N, "
                    f"hidden), merges its {show(state[0].size)} layer states into the batch of "
                    f"{show(batch[0].total)}: axis {k} of {shape_text(y)} counts layers x samples, and nothing "
                    f"splits it back before the model's output; take the last layer's state with h[-1], or keep "
                    f"them per sample with h.permute(1, 0, 2).reshape({show(batch[0].total)}, -1)")
        return (f"{written(data)} on {shape_text(x)} folds the {show(frames[0].size)} steps of axis "
                f"{_axis_of(xa, frames[0])} into the batch of {show(batch[0].total)}, and the layers after it run "
                f"on every step as a sample, but nothing splits them back: the model's output has "
                f"{show(y.shape[k]) if _eq(D.product([a.size for a in axis]), y.shape[k]) else 'more'} rows for "
                f"{show(batch[0].total)} samples; view the per-step result back to ({show(batch[0].total)}, "
                f"{show(frames[0].size)}, ...) and pool over the steps (e.g. .mean(1))")
    return None


def _axis_of(xa, atom):
    return next((k for k, axis in enumerate(xa) if atom in axis), "?")


def _per_frame_layers(ctx, axes, nid, axis):
    """Whether a conv/pool/norm layer after the view reads the merged axis as its batch (a time-distributed
    network: every frame run as a sample)."""
    for later in sorted(ctx.descendants(nid)):
        data = ctx.run.graph.nodes[later]
        layer = data.get("layer")
        if layer is None or not layer.type_name.startswith(CONV_OR_POOL):
            continue
        x = next((v for v in data["args"].values() if isinstance(v, Tensor)), None)
        xa = axes.of(x)
        if xa and set(axis) <= set(xa[0]):
            return True
    return False


def _outputs(ctx, axes, models, batch, others):
    """(some output has the batch alone on an axis, some output still holds the merge)."""
    from cnnlint.graph import _tensors_in
    restored = reaches = False
    for model in models:
        for n in model.output_nodes:
            if n not in ctx.run.graph:
                continue
            for t in _tensors_in(ctx.run.graph.nodes[n]["output"]):
                ta = axes.of(t)
                if ta is None:
                    return True, False           # not known: say nothing
                for axis in ta:
                    if len(axis) == 1 and axis[0] in batch:
                        restored = True
                    if set(batch) & set(axis) and set(others) & set(axis):
                        reaches = True
    return restored, reaches

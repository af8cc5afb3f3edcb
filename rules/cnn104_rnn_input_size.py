"""CNN104 rnn-input-size: an RNN/LSTM/GRU whose input_size is not the feature size it receives."""

from cnnlint.fixes import set_size
from cnnlint.rulekit import Rule, set_hint, shape_text, show
from cnnlint.shapes.common import as_dim
from cnnlint.values import Tensor

from ._helpers import axis_advice, last_rearrangement, written

RULE = Rule(
    code="CNN104",
    name="rnn-input-size",
    severity="error",
    summary="RNN/LSTM/GRU (or cell) input_size differs from the last axis of its input",
    why="Recurrent layers read features from the last axis; torch raises 'input.size(-1) must be equal to "
        "input_size' otherwise.",
    fix="Set input_size to the feature size that arrives (often the embedding dimension); when the features arrive "
        "on another axis ((N, C, L) from a Conv1d, a permute never undone), transpose the input instead.",
    fires=("""
import torch.nn as nn
# cnnlint: input=(4, 12) dtype=long
class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(500, 100)
        self.lstm = nn.LSTM(128, 64, batch_first=True)
    def forward(self, x):
        out, _ = self.lstm(self.emb(x))
        return out
""",),
    silent=("""
import torch.nn as nn
# cnnlint: input=(4, 12) dtype=long
class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(500, 100)
        self.lstm = nn.LSTM(100, 64, batch_first=True)
    def forward(self, x):
        out, _ = self.lstm(self.emb(x))
        return out
""",),
)


def check(ctx):
    for nid, data, layer, x in ctx.layer_calls(("RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell")):
        if not isinstance(x, Tensor) or not x.shape:
            continue
        cell = layer.type_name.endswith("Cell")
        if x.rank not in ((1, 2) if cell else (2, 3)):
            continue
        expected = as_dim(layer.arg("input_size"))
        got = x.shape[-1]
        if ctx.differs(got, expected):
            label = ctx.layer_label(layer)
            batch = (0,) if cell or layer.arg("batch_first") is True else (1,) if x.rank == 3 else ()
            moved = axis_advice(ctx, x, -1, expected, keep=batch, ranks=(1, 2) if cell else (2, 3))
            if moved is not None:
                # the features are there, on another axis: the data is wrong, not the layer
                text, k = moved
                undone = last_rearrangement(ctx, x)
                ctx.report("CNN104", ctx.call_site(data),
                           f"{label} reads its features (input_size={show(expected)}) from the last axis, but the "
                           f"tensor it receives is {shape_text(x)}: {show(expected)} is axis {k}, and the last axis "
                           f"is {show(got)}; {text} before {label}"
                           + (f" (the {written(undone)} before it was never undone)" if undone is not None else ""),
                           ctx.chain(x) + [(data["cst"], f"{label} is called here")])
                continue
            where = ctx.where_built(layer, data, "input_size")
            fix = set_size(ctx.run, layer, "input_size", x, -1, at=where, runs=ctx.runs)
            ctx.report("CNN104", where,
                       f"{label} expects input_size={show(expected)}, but the tensor it receives is {shape_text(x)}: "
                       f"its last axis is {show(got)}; {set_hint('input_size', got, expected, fix)}",
                       ctx.chain(x) + [(data["cst"], f"{label} is called here")],
                       fix=fix)

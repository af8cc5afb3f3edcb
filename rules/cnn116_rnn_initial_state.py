"""CNN116 rnn-initial-state: an initial state given to an RNN/LSTM/GRU (or a cell) that has the wrong shape."""

from cnnlint.rulekit import Rule, shape_text, show
from cnnlint.shapes import dims as D
from cnnlint.shapes.common import as_dim, as_int
from cnnlint.values import Tensor


RULE = Rule(
    code="CNN116",
    name="rnn-initial-state",
    severity="error",
    summary="An initial state lstm(x, (h0, c0)) / gru(x, h0) whose shape is not (num_layers x directions, N, "
            "hidden_size) (cells: (N, hidden_size))",
    why="A recurrent layer checks its initial states against the input: h0 (and an LSTM's c0) must be (num_layers * "
        "num_directions, N, H_out) for a batched input, (num_layers * num_directions, H_out) for an unbatched one, "
        "with N read from axis 0 when batch_first=True and from axis 1 otherwise; H_out is proj_size when set (h0 "
        "only). torch raises 'Expected hidden[0] size (2, 4, 16), got [1, 4, 16]'.",
    fix="Build the states from the layer: torch.zeros(self.rnn.num_layers * (2 if bidirectional else 1), x.size(0) "
        "(batch_first) or x.size(1), hidden_size); a state built with x.size(0) for a sequence-first RNN fed "
        "batch-first data asks for batch_first=True.",
    fires=("""
import torch, torch.nn as nn
# cnnlint: input=(4, 10, 8)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(8, 16, num_layers=2, batch_first=True)
    def forward(self, x):
        h0 = torch.zeros(1, x.size(0), 16)
        c0 = torch.zeros(1, x.size(0), 16)
        out, _ = self.lstm(x, (h0, c0))
        return out
""",),
    silent=("""
import torch, torch.nn as nn
# cnnlint: input=(4, 10, 8)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(8, 16, num_layers=2, batch_first=True)
    def forward(self, x):
        h0 = torch.zeros(2, x.size(0), 16)
        c0 = torch.zeros(2, x.size(0), 16)
        out, _ = self.lstm(x, (h0, c0))
        return out
""",),
)

RNNS = ("RNN", "LSTM", "GRU")
CELLS = ("RNNCell", "LSTMCell", "GRUCell")


def expected_states(layer, x):
    """[(name, expected shape)] for the states of a call on x, with None for a size that is not known; None when
    the input's rank is not one the layer takes (CNN110's)."""
    name = layer.type_name
    hidden = as_dim(layer.arg("hidden_size"))
    if name in CELLS:
        if x.rank not in (1, 2):
            return None
        lead = (x.shape[0],) if x.rank == 2 else ()
        shape = lead + (hidden,)
        return [("h0", shape), ("c0", shape)] if name == "LSTMCell" else [("h0", shape)]
    if x.rank not in (2, 3):
        return None
    bidir = layer.arg("bidirectional", False)
    directions = 2 if bidir is True else 1 if bidir is False else None
    layers = as_dim(layer.arg("num_layers", 1))
    proj = as_int(layer.arg("proj_size", 0)) if name == "LSTM" else 0
    stack = D.mul(layers, directions) if directions is not None else None
    if x.rank == 3:
        batch_first = layer.arg("batch_first", False)
        batch = x.shape[0] if batch_first is True else x.shape[1] if batch_first is False else None
        lead = (stack, batch)
    else:
        lead = (stack,)
    h = lead + ((proj if proj else hidden),)
    return [("h0", h), ("c0", lead + (hidden,))] if name == "LSTM" else [("h0", h)]


def check(ctx):
    for nid, data, layer, x in ctx.layer_calls(RNNS + CELLS):
        hx = data["args"].get("hx")
        if hx is None or not isinstance(x, Tensor) or x.shape is None:
            continue
        wanted = expected_states(layer, x)
        if wanted is None:
            continue
        states = list(hx) if isinstance(hx, (list, tuple)) else [hx]
        if len(states) != len(wanted):
            continue        # an LSTM given one tensor: torch's error is about the tuple, not the shape
        for (what, expected), got in zip(wanted, states):
            if not isinstance(got, Tensor) or got.shape is None:
                continue
            problem = _mismatch(ctx, layer, x, expected, got, what)
            if problem is None:
                continue
            text, where = problem
            label = ctx.layer_label(layer)
            origin = ctx.run.producer(got)
            related = ([(origin["cst"], f"{what} is made here: {shape_text(got)}")] if origin is not None and
                       origin.get("cst") is not None else []) + [(data["cst"], f"{label} is called here")]
            ctx.report("CNN116", where or data["cst"],
                       f"{label} expects {what} of shape {_show(expected)} ({_meaning(layer, x, what)}) for the "
                       f"input {shape_text(x)}, but {what} is {shape_text(got)}: {text}", related)
            break


def _show(shape):
    return "(" + ", ".join(show(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _meaning(layer, x, what):
    if layer.type_name in CELLS:
        return "N, hidden_size" if x.rank == 2 else "hidden_size"
    last = "proj_size" if what == "h0" and as_int(layer.arg("proj_size", 0)) else "hidden_size"
    return f"num_layers x directions, N, {last}" if x.rank == 3 else f"num_layers x directions, {last}"


def _mismatch(ctx, layer, x, expected, got, what):
    """(what is wrong, the place to flag or None for the call) when no input makes `got` the expected shape."""
    if len(got.shape) != len(expected):
        kind = "batched" if len(expected) == 3 or (layer.type_name in CELLS and len(expected) == 2) else "unbatched"
        return (f"it has {len(got.shape)} axes, and a {kind} {x.rank}-D input takes {len(expected)}-D states", None)
    for axis, (want, have) in enumerate(zip(expected, got.shape)):
        if want is None or have is None or not ctx.differs(have, want):
            continue
        if layer.type_name in RNNS and len(expected) == 3 and axis == 1:
            batch_first = layer.arg("batch_first", False)
            if batch_first is False and not ctx.differs(have, x.shape[0]):
                return (f"its batch axis is {show(have)}, the size of axis 0 of the input, but with batch_first=False "
                        f"the batch is axis 1 ({show(want)}): the input is batch-first (N, L, E); pass "
                        f"batch_first=True", ctx.where_built(layer))
            return (f"axis 1 (the batch) is {show(have)}, not {show(want)}", None)
        names = ["num_layers x directions", "the batch", "hidden_size"] if len(expected) == 3 else (
            ["num_layers x directions", "hidden_size"] if layer.type_name in RNNS else
            ["the batch", "hidden_size"] if len(expected) == 2 else ["hidden_size"])
        if what == "h0" and as_int(layer.arg("proj_size", 0)) and layer.type_name == "LSTM":
            names = names[:-1] + ["proj_size"]
        said = names[axis] if axis < len(names) else f"axis {axis}"
        hint = ""
        if layer.type_name in RNNS and axis == 0:
            layers = as_dim(layer.arg("num_layers", 1))
            hint = (f" (num_layers={show(layers)}" + (", bidirectional" if layer.arg("bidirectional") is True else "")
                    + ")")
        return (f"axis {axis} is {show(have)}, not {said} = {show(want)}{hint}", None)
    return None

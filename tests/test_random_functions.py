"""Differential fuzzing of the tensor-op table: random chains of ops with axis arguments, against real torch.

Each example is a plain function ``def f(x):`` of 1-6 steps (softmax, sum, mean, flatten, transpose, permute,
unsqueeze, squeeze, cat), each assigning a new name, called at module level on ``torch.randn(<sizes>)``. Axis
arguments are drawn from a range a little wider than valid, so some steps raise in torch. The source runs in
torch (the oracle): cnnlint must report CNN111 on the line torch raised at, and on no other line, and the shape
it infers for every name assigned before that line must equal torch's.

Deterministic (derandomized, no example database), 100 examples.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st

from cnnlint.editor import ShapeIndex
from cnnlint.lint import lint_text
from cnnlint.shapes.dims import show_shape

HEADER = "import torch\n\n\ndef f(x):\n"
FIRST_STEP_LINE = 5
TORCH_AXIS_ERRORS = ("Dimension out of range", "appears multiple times", "duplicate dims",
                     "start_dim cannot come after end_dim", "number of dimensions in the tensor input does not match")


@dataclass
class Chain:
    sizes: tuple
    steps: list            # source lines of the body, "hN = ..."

    @property
    def source(self):
        body = "".join(f"    {s}\n" for s in self.steps)
        return f"{HEADER}{body}    return h{len(self.steps)}\n\n\nout = f(torch.randn{self.sizes!r})\n"


def _axis(draw, rank):
    """An axis argument: mostly valid (negative ones too), sometimes one or two past either end."""
    span = max(rank, 1)
    return draw(st.integers(-span - 2, span + 1))


@st.composite
def chains(draw):
    sizes = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    meta = torch.empty(sizes, device="meta")     # follows the rank so that most axes drawn are plausible
    steps = []
    for i in range(draw(st.integers(1, 6))):
        rank = meta.dim()
        prev = "x" if i == 0 else f"h{i}"
        kind = draw(st.sampled_from(["softmax", "sum", "mean", "flatten", "transpose", "permute", "unsqueeze",
                                     "squeeze", "cat"]))
        if kind == "softmax":
            expr = f"torch.softmax({prev}, dim={_axis(draw, rank)})"
        elif kind in ("sum", "mean"):
            keep = draw(st.booleans())
            expr = f"{prev}.{kind}(dim={_axis(draw, rank)}, keepdim={keep})"
        elif kind == "flatten":
            expr = f"{prev}.flatten({_axis(draw, rank)}, {_axis(draw, rank)})"
        elif kind == "transpose":
            expr = f"{prev}.transpose({_axis(draw, rank)}, {_axis(draw, rank)})"
        elif kind == "permute":
            order = draw(st.permutations(range(rank)))
            if draw(st.integers(0, 3)) == 0:           # sometimes a wrong one: an axis short, or repeated
                order = order[:-1] if order and draw(st.booleans()) else list(order) + [0]
            expr = f"{prev}.permute({', '.join(map(str, order))})" if order else f"{prev}.permute(())"
        elif kind == "unsqueeze":
            expr = f"{prev}.unsqueeze({draw(st.integers(-rank - 2, rank + 1))})"
        elif kind == "squeeze":
            expr = f"{prev}.squeeze({_axis(draw, rank)})"
        else:
            if rank == 0:
                continue                                 # torch.cat rejects 0-D tensors outright (not an axis)
            expr = f"torch.cat([{prev}, {prev}], dim={_axis(draw, rank)})"
        steps.append(f"h{len(steps) + 1} = {expr}")
        try:
            meta = eval(expr, {"torch": torch, prev: meta})
        except (IndexError, RuntimeError):
            break                                        # the last step raises: nothing after it
    if not steps:
        steps.append("h1 = x.sum()")
    return Chain(sizes, steps)


def torch_steps(chain):
    """Run the chain's steps one at a time in torch: ([shape of each step that ran], index of the step that
    raised or None)."""
    env = {"torch": torch, "x": torch.randn(chain.sizes)}
    shapes = []
    for i, step in enumerate(chain.steps):
        name, expr = step.split(" = ", 1)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                env[name] = eval(expr, env)
        except (IndexError, RuntimeError) as exc:
            assert any(m in str(exc) for m in TORCH_AXIS_ERRORS), exc     # an axis problem, not a broken chain
            return shapes, i
        shapes.append(tuple(env[name].shape))
    return shapes, None


@settings(max_examples=100, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(chain=chains())
# found by an undeterministic run: torch reduces a 0-D tensor over dim 0, then softmax has no axis 1
@example(chain=Chain((1,), ["h1 = x.squeeze(0)", "h2 = h1.sum(dim=0, keepdim=False)",
                            "h3 = torch.softmax(h2, dim=1)"]))
def test_axes_agree_with_torch(chain):
    source = chain.source
    note(source)
    shapes, failed = torch_steps(chain)
    result = lint_text(source, "chain.py", keep_analysis=True)
    flagged = sorted(d.line for d in result.diagnostics if d.code == "CNN111")
    others = [(d.code, d.line, d.message) for d in result.diagnostics if d.code != "CNN111" and d.severity == "error"]
    note(f"torch: shapes={shapes} failed at step={failed}; cnnlint CNN111 lines={flagged} other errors={others}")
    assert flagged == ([FIRST_STEP_LINE + failed] if failed is not None else [])
    assert not others
    index = ShapeIndex(result)
    for i, shape in enumerate(shapes):
        line = FIRST_STEP_LINE + i
        inferred = [e.shapes for e in index.by_line.get(line, ()) if e.assigned]
        assert inferred == [[show_shape(shape)]], (line, inferred, shape)


# -- functional layers: pooling and convolution on tensors of any rank, with any padding ---------------------------
# Each example is a module-level chain of F.max_pool / F.avg_pool / F.conv (with a random weight tensor) /
# F.dropout2d steps on a tensor of random rank. torch is the oracle: cnnlint must report an error on the line torch
# raised at (the rank, a padding over half the window, a weight of other channels, a window larger than the input)
# and on no other line, and infer the shape of every step before it.
FUNCTIONAL_HEADER = "import torch\nimport torch.nn.functional as F\n\nh0 = torch.randn{sizes!r}\n"
FUNCTIONAL_FIRST_LINE = 5


@dataclass
class FunctionalChain:
    sizes: tuple
    steps: list

    @property
    def source(self):
        return FUNCTIONAL_HEADER.format(sizes=self.sizes) + "".join(f"{s}\n" for s in self.steps)


@st.composite
def functional_chains(draw):
    start = tuple(draw(st.lists(st.integers(1, 7), min_size=1, max_size=5)))
    shape = start
    steps = []
    for i in range(draw(st.integers(1, 4))):
        prev = f"h{i}"
        rank = len(shape)
        channels = shape[1] if rank >= 3 else (shape[0] if rank else 1)
        n = draw(st.integers(1, 3))
        kind = draw(st.sampled_from(["max_pool", "avg_pool", "conv", "dropout2d", "unsqueeze", "flatten"]))
        k = draw(st.integers(1, 4))
        if kind in ("max_pool", "avg_pool"):
            expr = f"F.{kind}{n}d({prev}, {k}, stride={draw(st.integers(1, 3))}, padding={draw(st.integers(0, 3))})"
        elif kind == "conv":
            c = channels if draw(st.integers(0, 3)) else channels + draw(st.integers(1, 2))
            kernel = ", ".join([str(k)] * n)
            expr = f"F.conv{n}d({prev}, torch.randn(4, {c}, {kernel}), padding={draw(st.integers(0, 2))})"
        elif kind == "dropout2d":
            expr = f"F.dropout2d({prev}, 0.5)"
        elif kind == "unsqueeze":
            expr = f"{prev}.unsqueeze(0)"
        else:
            expr = f"{prev}.flatten(1)" if rank >= 2 else f"{prev}.flatten()"
        steps.append(f"h{i + 1} = {expr}")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                shape = tuple(eval(expr, {"torch": torch, "F": torch.nn.functional, prev: torch.empty(shape)}).shape)
        except (IndexError, RuntimeError, ValueError):
            break                                        # the last step raises: nothing after it
    return FunctionalChain(start, steps)


def torch_functional_steps(chain):
    env = {"torch": torch, "F": torch.nn.functional, "h0": torch.randn(chain.sizes)}
    shapes = []
    for i, step in enumerate(chain.steps):
        name, expr = step.split(" = ", 1)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                env[name] = eval(expr, env)
        except (IndexError, RuntimeError, ValueError):
            return shapes, i
        shapes.append(tuple(env[name].shape))
    return shapes, None


@settings(max_examples=150, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(chain=functional_chains())
def test_functional_ops_agree_with_torch(chain):
    source = chain.source
    note(source)
    shapes, failed = torch_functional_steps(chain)
    result = lint_text(source, "functional.py", keep_analysis=True)
    errors = sorted({d.line for d in result.diagnostics if d.severity == "error"})
    note(f"torch: shapes={shapes} failed at step={failed}; cnnlint: "
         f"{[(d.code, d.line, d.message) for d in result.diagnostics]}")
    assert errors == ([FUNCTIONAL_FIRST_LINE + failed] if failed is not None else [])
    index = ShapeIndex(result)
    for i, shape in enumerate(shapes):
        inferred = [e.shapes for e in index.by_line.get(FUNCTIONAL_FIRST_LINE + i, ()) if e.assigned]
        assert inferred == [[show_shape(shape)]], (FUNCTIONAL_FIRST_LINE + i, inferred, shape)


# -- recurrent layers given initial states --------------------------------------------------------------------------
# A module-level RNN / LSTM / GRU (or cell) of random configuration called on an input of random rank with initial
# states whose shape is right or one size off: cnnlint must report an error on the call exactly when torch raises.
@st.composite
def rnn_calls(draw):
    kind = draw(st.sampled_from(["LSTM", "GRU", "RNN", "LSTMCell", "GRUCell"]))
    size, hidden = draw(st.integers(1, 5)), draw(st.integers(1, 6))
    batch, length = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    if kind.endswith("Cell"):
        batched = draw(st.booleans())
        x = (batch, size) if batched else (size,)
        state = [batch, hidden] if batched else [hidden]
        states = [list(state) for _ in range(2 if kind == "LSTMCell" else 1)]
        args = f"{size}, {hidden}"
    else:
        layers, bidir, first = draw(st.integers(1, 3)), draw(st.booleans()), draw(st.booleans())
        proj = draw(st.integers(0, hidden - 1)) if kind == "LSTM" and hidden > 1 and draw(st.booleans()) else 0
        batched = draw(st.booleans())
        x = ((batch, length, size) if first else (length, batch, size)) if batched else (length, size)
        lead = [layers * (2 if bidir else 1)] + ([batch] if batched else [])
        states = [lead + [proj or hidden]] + ([lead + [hidden]] if kind == "LSTM" else [])
        args = (f"{size}, {hidden}, num_layers={layers}, bidirectional={bidir}, batch_first={first}"
                + (f", proj_size={proj}" if proj else ""))
    for state in states:
        if draw(st.integers(0, 2)) == 0:                  # one state off: a size, or an axis too many / too few
            change = draw(st.sampled_from(["size", "rank"]))
            if change == "size":
                axis = draw(st.integers(0, len(state) - 1))
                state[axis] += draw(st.integers(1, 2))
            elif len(state) > 1 and draw(st.booleans()):
                state.pop(0)
            else:
                state.insert(0, 1)
    hx = ", ".join(f"torch.randn({tuple(s)!r})" for s in states)
    hx = f"({hx})" if kind.startswith("LSTM") else hx
    source = (f"import torch\nimport torch.nn as nn\n\nrnn = nn.{kind}({args})\nx = torch.randn({x!r})\n"
              f"out = rnn(x, {hx})\n")
    return source


@settings(max_examples=150, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(source=rnn_calls())
def test_rnn_initial_states_agree_with_torch(source):
    note(source)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(source, {})
        raised = None
    except (RuntimeError, ValueError, IndexError) as exc:
        raised = exc
    result = lint_text(source, "rnn.py")
    errors = sorted({d.line for d in result.diagnostics if d.severity == "error"})
    note(f"torch: {raised!r}; cnnlint: {[(d.code, d.line, d.message) for d in result.diagnostics]}")
    assert errors == ([6] if raised is not None else [])

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

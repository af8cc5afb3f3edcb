"""Slices of axes whose size is symbolic (`x[:, 1:]` of the 1 + H*W tokens of a ViT), against torch.

A model of unknown input size (N, 3, H, W) makes H*W tokens with a conv, puts `prefix` learned tokens before them
and slices the token axis with random bounds. cnnlint's symbolic length, wherever it gives one, must equal torch's
at every sampled image size; and the slices vision transformers write (`[:, :k]`, `[:, k:]` with k at most the
number of prefix tokens) must be known. The solver's `at_least`, which decides where the bounds fall, is checked by
brute force.
"""
from __future__ import annotations

import torch
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from cnnlint.lint import lint_text
from cnnlint.shapes import dims as D
from cnnlint.shapes.solve import Solver

SOURCE = """import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, {stride}, {stride})
        self.tok = nn.Parameter(torch.zeros(1, {prefix}, 8))
        self.out = nn.Identity()

    def forward(self, x):
        x = self.conv(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.tok.expand(x.shape[0], -1, -1), x], dim=1)
        return self.out(x[:, {lo}:{hi}])
"""

bound = st.one_of(st.just(""), st.integers(-5, 5).map(str))


def torch_length(source, h, w):
    env: dict = {}
    exec(compile(source, "net.py", "exec"), env)
    return env["Net"]()(torch.randn(2, 3, h, w)).shape[1]


@settings(max_examples=60, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(prefix=st.integers(0, 3), stride=st.sampled_from([2, 4]), lo=bound, hi=bound)
def test_symbolic_slice_lengths_agree_with_torch(prefix, stride, lo, hi):
    source = SOURCE.format(stride=stride, prefix=prefix, lo=lo, hi=hi)
    note(source)
    result = lint_text(source, "net.py", keep_analysis=True)
    (run,) = result.analysis.model_runs
    out = [c for c in run.calls if c.name == "out"][0].output_shape
    assert out is not None and len(out) == 3
    length = out[1]
    writes_a_vit_slice = (lo == "" or 0 <= int(lo) <= prefix) and hi == "" or lo == "" and hi != "" and \
        0 <= int(hi) <= prefix
    if writes_a_vit_slice:
        assert length is not None, source
    if length is None:
        return
    for h, w in [(stride, stride), (stride * 2 + 1, stride), (stride * 3, stride * 5 + 1), (33, 47)]:
        assert D.evaluate(length, {"H": h, "W": w, "N": 2}) == torch_length(source, h, w), (h, w, length)


def test_at_least_holds_wherever_it_says_so():
    solver = Solver()
    h, w = solver.symbol("H"), solver.symbol("W")
    tokens = D.add(D.mul(D.sub(D.floordiv(h, 8), 1), D.sub(D.floordiv(w, 8), 1)), 1)   # 1 + (H//8 - 1)(W//8 - 1)
    solver.require_positive(D.sub(D.floordiv(h, 8), 1))
    solver.require_positive(D.sub(D.floordiv(w, 8), 1))
    claims = [(tokens, 2), (tokens, 3), (D.floordiv(h, 8), 2), (D.floordiv(h, 8), 3), (D.mul(h, w), 256),
              (D.sub(D.mul(h, w), h), 0), (D.sub(h, w), 0), (D.add(h, 1), h), (h, D.add(h, 1)), (D.mul(h, 2), h)]
    said = {str(a) + " >= " + str(b): solver.at_least(a, b) for a, b in claims}
    for (a, b), holds in zip(claims, said.values()):
        if holds:
            for hv in range(16, 80, 3):
                for wv in range(16, 80, 5):
                    env = {"H": hv, "W": wv}
                    assert D.evaluate(a, env) >= D.evaluate(b, env), (a, b, env)
    # what it must prove for a ViT's prefix tokens and for plain arithmetic
    assert said[f"{tokens} >= 2"] and said[f"{D.add(h, 1)} >= H"] and said[f"{D.mul(h, w)} >= 256"]
    assert not said[f"{tokens} >= 3"] and not said[f"{D.sub(h, w)} >= 0"] and not said[f"H >= {D.add(h, 1)}"]

"""Numbers whose value depends on a symbolic size (`k_h / q_h`, `head_dim ** -0.5`, `max(ratio, 1.0)`,
`math.sqrt(C)`) are numbers, never tensors: a tensor scaled by one keeps its shape. Checked against torch at sampled
sizes of the symbolic input."""
from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlint.lint import lint_text
from cnnlint.shapes import dims as D

SOURCE = """import math
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 4, 4)
        self.proj = nn.Linear(8, 8)
        self.out = nn.Identity()
        self.padded = nn.Identity()

    def forward(self, x):
        x = self.conv(x)
        pad = max((math.ceil(x.shape[-1] / 1) - 1) * 1 + (2 - 1) * 1 + 1 - x.shape[-1], 0)    # SAME, kernel 2
        self.padded(torch.nn.functional.pad(x, (pad // 2, pad - pad // 2)))
        B, C, H, W = x.shape
        ratio = max(H / W, 1.0)                       # a float of symbolic sizes
        scale = (H * W) ** -0.5
        temp = math.sqrt(W) if H > 1 else float(W)    # a number on either path
        dist = torch.arange(1, H + 1).unsqueeze(-1) * ratio - torch.arange(W).unsqueeze(0) * (W / H) * math.pi
        x = self.proj(x.flatten(2).transpose(1, 2) * scale / temp)
        return self.out(x + dist.reshape(1, H * W, 1) * ratio)
"""


def shapes():
    result = lint_text(SOURCE, "net.py", keep_analysis=True)
    (run,) = result.analysis.model_runs
    return {c.name: c.output_shape for c in run.calls}


@settings(max_examples=20, deadline=None, derandomize=True, database=None)
@given(st.integers(4, 64), st.integers(4, 64))
def test_numbers_of_symbolic_sizes_keep_the_shape(h, w):
    inferred = shapes()
    ns: dict = {}
    exec(compile(SOURCE, "net.py", "exec"), ns)
    model, seen = ns["Net"](), {}
    for name in ("out", "padded"):
        getattr(model, name).register_forward_hook(lambda m, i, o, name=name: seen.update({name: tuple(o.shape)}))
    model(torch.randn(2, 3, h, w))
    env = {"N": 2, "H": h, "W": w}
    for name in ("out", "padded"):
        assert inferred[name] is not None and None not in inferred[name]
        assert tuple(D.evaluate(d, env) for d in inferred[name]) == seen[name]


"""Ops of the function table against torch, one expression each, on tensors of given sizes (module-level code, as
a script writes it): the shape cnnlint infers for the result must be torch's (attention, einsum, fused
multiply-adds, norms, grids, patches)."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from cnnlint.editor import ShapeIndex
from cnnlint.lint import lint_text
from cnnlint.shapes.dims import show_shape

CASES = [
    ("q=(2, 4, 10, 16) k=(2, 4, 12, 16) v=(2, 4, 12, 8)", "F.scaled_dot_product_attention(q, k, v)"),
    ("q=(2, 4, 10, 16) k=(2, 1, 12, 16) v=(2, 1, 12, 8)", "F.scaled_dot_product_attention(q, k, v, is_causal=False)"),
    ("a=(2, 3, 4) b=(2, 4, 5)", "torch.einsum('bij,bjk->bik', a, b)"),
    ("a=(2, 3, 4) b=(2, 4, 5)", "torch.einsum('bij,bjk', a, b)"),
    ("a=(6, 2, 3, 4) b=(6, 2, 4)", "torch.einsum('...ij,...j->...i', a, b)"),
    ("a=(5, 7)", "torch.einsum('ij->ji', [a])"),
    ("a=(3, 8, 8) b=(3, 8, 8)", "torch.einsum('nhw,nhw->n', a, b)"),
    ("x=(2, 6, 5, 5) w=(6, 1, 1) b=(6, 1, 1)", "torch.addcmul(b, w, x)"),
    ("x=(2, 6, 5, 5) w=(6, 1, 1)", "x.addcmul(w, x, value=0.5)"),
    ("x=(2, 6) y=(2, 6)", "torch.lerp(x, y, 0.3)"),
    ("x=(4, 6) m1=(4, 3) m2=(3, 6)", "torch.addmm(x, m1, m2)"),
    ("x=(2, 4, 6) b1=(2, 4, 3) b2=(2, 3, 6)", "torch.baddbmm(x, b1, b2)"),
    ("x=(2, 7, 3)", "torch.tensor_split(x, 3, dim=1)[0]"),
    ("x=(2, 7, 3)", "torch.tensor_split(x, 3, dim=1)[2]"),
    ("x=(2, 7, 3)", "torch.tensor_split(x, indices=(1,), dim=1)[1]"),
    ("x=(2, 7, 3)", "x.tensor_split((2, 9), 1)[2]"),
    ("x=(2, 7, 3)", "x.tensor_split([1, 4], dim=-2)[1]"),
    ("x=(2, 3, 4)", "torch.tile(x, (2,))"),
    ("x=(2, 3, 4)", "x.tile(2, 3)"),
    ("x=(2, 3, 4)", "x.tile((2, 1, 1, 1))"),
    ("x=(2, 3, 4)", "x.repeat(2, 1, 1, 1)"),
    ("x=(2, 12, 5)", "x.unflatten(1, (3, 4))"),
    ("x=(2, 12, 5)", "torch.unflatten(x, -1, (5, -1))"),
    ("x=(2, 6, 5, 5)", "torch.linalg.vector_norm(x, dim=(2, 3), keepdim=True)"),
    ("x=(2, 6, 5, 5)", "torch.linalg.norm(x, dim=1)"),
    ("x=(2, 3, 4)", "x.repeat_interleave(3, dim=1)"),
    ("x=(2, 3)", "torch.repeat_interleave(x, 2)"),
    ("a=(5,) b=(7,)", "torch.meshgrid(a, b, indexing='ij')[0]"),
    ("a=(5,) b=(7,)", "torch.meshgrid([a, b], indexing='xy')[1]"),
    ("a=(5,) b=(7,)", "torch.outer(a, b)"),
    ("x=(2, 10, 3) y=(2, 7, 3)", "torch.cdist(x, y)"),
    ("x=(2, 3, 16, 16)", "F.unfold(x, kernel_size=4, stride=4)"),
    ("x=(2, 3, 16, 16)", "F.unfold(x, 3, padding=1)"),
    ("x=(2, 3, 16, 16) g=(2, 7, 9, 2)", "F.grid_sample(x, g, align_corners=False)"),
    ("x=(2, 27, 16)", "F.fold(x, output_size=(8, 8), kernel_size=3, padding=1, stride=2)"),
    ("x=(2, 48, 9)", "F.fold(x, (12, 12), 4, stride=4)"),
    ("x=(2, 3, 16, 16)", "torch.arange(1, x.shape[2] + 1) * math.pi"),
    ("x=(2, 3, 16, 16)", "torch.arange(2, x.shape[3], 3)"),
    ("x=(2, 7, 9, 4)", "x[..., 1::2, 0::3, :]"),
    ("x=(2, 3, 4)", "torch.sign(x) * torch.log2(torch.abs(x) + 1.0) / torch.log10(x.abs() + 2)"),
    # sizes computed from the values of small tensors (RegNet's widths)
    ("", "torch.zeros(int(torch.round(torch.log(torch.arange(1, 9) * 3.7 + 2) * 5).max().item()))"),
    ("", "torch.zeros(torch.unique(torch.tensor([8, 16, 16, 32]), return_counts=True)[1].tolist())"),
    ("", "torch.zeros(torch.diff(torch.tensor([0, 2, 5, 9])).int().tolist())"),
    ("", "torch.zeros((torch.round(torch.pow(2.49, torch.arange(4.0)) * 24 / 8) * 8).int().tolist())"),
]


def source(case):
    inputs, expr = case
    lines = ["import math", "import torch", "import torch.nn.functional as F", ""]
    for name, shape in (p.split("=", 1) for p in inputs.replace(", ", ",").split(" ") if p):
        lines.append(f"{name} = torch.randn{shape.replace(',', ', ')}")
    lines.append(f"out = {expr}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("case", CASES, ids=[c[1] for c in CASES])
def test_shape_agrees_with_torch(case):
    text = source(case)
    env: dict = {}
    exec(text, env)
    index = ShapeIndex(lint_text(text, "ops.py", keep_analysis=True))
    line = len(text.splitlines())
    inferred = [e.shapes for e in index.by_line.get(line, ()) if e.name == "out"]
    assert inferred == [[show_shape(tuple(env["out"].shape))]], (text, inferred)

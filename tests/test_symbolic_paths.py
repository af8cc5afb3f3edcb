"""Models of unknown input size (N, 3, H, W) whose code takes a path only at some sizes: a learned position
table returned as it is when the grid already matches (`if (H, W) == (grid, grid): return pos`, and ViT's
`if num_patches == num_positions and height == width`, a product of sizes equal to a number) and resampled
otherwise, windows padded to a multiple of the window and cut back (SAM's window_unpartition, whose batch
is `windows.shape[0] // (Hp * Wp // w // w)`), and Swin's patch merging (`x[..., 0::2, 0::2, :]` of a map
padded to even sizes). cnnlint's symbolic shapes must be fully known and equal torch's at
every sampled size."""
from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import functools

from cnnlint.lint import lint_text
from cnnlint.shapes import dims as D

SOURCE = """import torch
import torch.nn as nn
import torch.nn.functional as F


def resample(pos, new_size):
    if new_size[0] == pos.shape[-3] and new_size[1] == pos.shape[-2]:
        return pos
    x = F.interpolate(pos.permute(0, 3, 1, 2), size=new_size, mode="bilinear")
    return x.permute(0, 2, 3, 1)


def window_partition(x, window):
    B, H, W, C = x.shape
    pad_h = (window - H % window) % window
    pad_w = (window - W % window) % window
    x = F.pad(x, (0, 0, 0, pad_w, 0, pad_h))
    Hp, Wp = H + pad_h, W + pad_w
    x = x.view(B, Hp // window, window, Wp // window, window, C)
    return x.permute(0, 1, 3, 2, 4, 5).contiguous().view(-1, window, window, C), (Hp, Wp)


def window_unpartition(windows, window, hw, pad_hw):
    Hp, Wp = pad_hw
    H, W = hw
    B = windows.shape[0] // (Hp * Wp // window // window)
    x = windows.view(B, Hp // window, Wp // window, window, window, -1)
    x = x.permute(0, 1, 3, 2, 4, 5).contiguous().view(B, Hp, Wp, -1)
    return x[:, :H, :W, :].contiguous()


def token_positions(pos, tokens, height, width):
    num_patches = tokens.shape[1] - 1
    num_positions = pos.shape[1] - 1
    if num_patches == num_positions and height == width:
        return pos
    grid = int(num_positions ** 0.5)
    patch = pos[:, 1:].reshape(1, grid, grid, -1).permute(0, 3, 1, 2)
    patch = F.interpolate(patch, size=(height, width), mode="bicubic")
    return torch.cat([pos[:, :1], patch.permute(0, 2, 3, 1).reshape(1, -1, pos.shape[-1])], dim=1)


class Net(nn.Module):
    def __init__(self, dim=16, grid=4, window=3):
        super().__init__()
        self.window = window
        self.stem = nn.Conv2d(3, dim, 4, 4)
        self.pos = nn.Parameter(torch.zeros(1, grid, grid, dim))
        self.mix = nn.Linear(dim, dim)
        self.out = nn.Identity()
        self.merged = nn.Identity()
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.token_pos = nn.Parameter(torch.zeros(1, grid * grid + 1, dim))
        self.tokens = nn.Identity()

    def forward(self, x):
        x = self.stem(x).permute(0, 2, 3, 1)
        flat = x.flatten(1, 2)
        tokens = torch.cat([self.cls.expand(flat.shape[0], -1, -1), flat], dim=1)
        self.tokens(tokens + token_positions(self.token_pos, tokens, x.shape[1], x.shape[2]))
        x = x + resample(self.pos, x.shape[1:3])
        H, W = x.shape[1], x.shape[2]
        windows, pad_hw = window_partition(x, self.window)
        windows = self.mix(windows)
        x = self.out(x + window_unpartition(windows, self.window, (H, W), pad_hw))
        x = F.pad(x, (0, 0, 0, W % 2, 0, H % 2))         # Swin's patch merging: pad to even, take every other
        return self.merged(torch.cat([x[..., 0::2, 0::2, :], x[..., 1::2, 0::2, :]], -1))
"""


NAMES = ("out", "merged", "tokens")


@functools.lru_cache(maxsize=1)
def inferred():
    (run,) = [m for m in lint_text(SOURCE, "net.py", keep_analysis=True).analysis.model_runs if m.name == "Net"]
    return {c.name: c.output_shape for c in run.calls}


@settings(max_examples=12, deadline=None, derandomize=True, database=None)
@given(st.integers(8, 64), st.integers(8, 64))
def test_sizes_taken_on_some_paths_agree_with_torch(h, w):
    ns: dict = {}
    exec(compile(SOURCE, "net.py", "exec"), ns)
    model, seen = ns["Net"](), {}
    for name in NAMES:
        getattr(model, name).register_forward_hook(lambda m, i, o, name=name: seen.update({name: tuple(o.shape)}))
    model(torch.randn(2, 3, h, w))
    for name in NAMES:
        shape = inferred()[name]
        assert shape is not None and None not in shape, name
        assert tuple(D.evaluate(d, {"N": 2, "H": h, "W": w}) for d in shape) == seen[name], name


def test_floor_division_by_a_size_that_divides():
    n, a = D.sym("N"), D.floordiv(D.sym("H"), 3)
    assert D.floordiv(D.mul(D.mul(n, a), 12), D.mul(a, 4)) == D.mul(n, 3)
    assert D.floordiv(n, a) is None                       # not known to divide: unknown

"""Exceptions the code certainly raises inside a `try`, handled as Python handles them; the table of torch layer
constructors that says when torch raises TypeError, checked against the installed torch."""
from __future__ import annotations

import inspect

import pytest
import torch
import torch.nn as nn

from cnnlint.api import analyze_source
from cnnlint.extract.domain import handles
from cnnlint.shapes.torch_signatures import SIGNATURES, rejects


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_the_signature_table_is_torchs(name):
    params = [p for p in inspect.signature(getattr(nn, name).__init__).parameters.values() if p.name != "self"]
    required = [p.name for p in params if p.default is p.empty]
    optional = [p.name for p in params if p.default is not p.empty]
    assert SIGNATURES[name] == (" ".join(required), " ".join(optional))


CALLS = [("AvgPool2d", (2,), {}), ("AvgPool2d", (), {"channels": 8, "stride": 2}), ("AvgPool2d", (), {"stride": 2}),
         ("Conv2d", (3, 8, 3), {"bias": False}), ("Conv2d", (3, 8), {}), ("Conv2d", (3, 8, 3), {"in_channels": 3}),
         ("Linear", (4, 5, True, None, None, 1), {}), ("BatchNorm2d", (8,), {"momentum": None}),
         ("LayerNorm", (8,), {"elementwise_affine": False, "bias": False}), ("Dropout", (), {"rate": 0.1})]


@pytest.mark.parametrize("name,args,kwargs", CALLS)
def test_rejects_exactly_what_torch_rejects(name, args, kwargs):
    try:
        getattr(nn, name)(*args, **kwargs)
        raised = False
    except TypeError:
        raised = True
    assert (rejects(f"torch.nn.{name}", len(args), list(kwargs)) is not None) == raised


def test_handler_matching_follows_the_builtin_hierarchy():
    assert handles(None, "TypeError") is True
    assert handles(["TypeError"], "TypeError") is True
    assert handles(["LookupError"], "KeyError") is True
    assert handles(["ValueError", "Exception"], "TypeError") is True
    assert handles(["ValueError"], "TypeError") is False
    assert handles(["MyError"], "TypeError") is None       # a class of the code: not decided


SOURCE = """import torch.nn as nn


def make(kind, c):
    if kind == "batch":
        return nn.BatchNorm2d(c)
    raise {raised}("no such norm")


class Net(nn.Module):
    def __init__(self, kind="{kind}"):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        try:
            self.norm = make(kind, 8)
        except {caught}:
            self.norm = nn.Conv2d(8, 4, 1)
        self.head = nn.Identity()

    def forward(self, x):
        return self.head(self.norm(self.conv(x)))
"""


@pytest.mark.parametrize("kind,raised,caught", [
    ("batch", "ValueError", "ValueError"), ("layer", "ValueError", "ValueError"),
    ("layer", "KeyError", "LookupError"), ("layer", "KeyError", "(TypeError, KeyError)"),
    ("layer", "ValueError", "TypeError"),
])
def test_the_handler_python_runs_is_the_one_analysed(kind, raised, caught):
    source = SOURCE.format(kind=kind, raised=raised, caught=caught)
    ns: dict = {}
    exec(compile(source, "net.py", "exec"), ns)
    try:
        expected = tuple(ns["Net"]()(torch.randn(2, 3, 16, 16)).shape)
    except Exception:
        expected = None                 # the exception escapes: Python builds no model
    (model,) = [m for m in analyze_source(source, "net.py").models if m.name == "Net"] or [None]
    head = None if model is None else next((c.output_shape for c in model.calls if c.name == "head"), None)
    if expected is None:
        assert head is None
    else:
        assert head is not None and len(head) == len(expected) and head[1] == expected[1]   # input (N, 3, H, W)


FAILING_ASSERT = """import torch
import torch.nn as nn
from torch import _assert


class Net(nn.Module):
    def __init__(self, patch=16, grid=56):
        super().__init__()
        self.grid = grid
        self.embed = nn.Conv2d(3, 8, patch, patch)
        self.proj = nn.Linear(8, 8)

    def forward(self, x):
        x = self.embed(x)
        {check}
        tokens = x.flatten(2).transpose(1, 2)
        return self.proj(tokens.view(x.shape[0], self.grid * self.grid, -1))
"""


@pytest.mark.parametrize("check", ["assert x.shape[-1] == self.grid, 'size'",
                                   "_assert(x.shape[-1] == self.grid, 'size')"])
def test_nothing_after_an_assert_that_fails_is_checked(check):
    # the defaults disagree (a 16-pixel patch of a 224 image is 14, the grid says 56): Python stops at the assert,
    # so the view after it, wrong as it is, is not what a user meets first
    source = FAILING_ASSERT.format(check=check).replace("class Net", "# cnnlint: input=(1, 3, 224, 224)\nclass Net")
    ns: dict = {}
    exec(compile(source, "net.py", "exec"), ns)
    with pytest.raises(AssertionError):
        ns["Net"]()(torch.randn(1, 3, 224, 224))
    assert [d.code for d in analyze_source(source, "net.py").diagnostics] == []
    # the same model without the assert: the view is reported
    unchecked = source.replace(check, "pass")
    assert "CNN108" in [d.code for d in analyze_source(unchecked, "net.py").diagnostics]

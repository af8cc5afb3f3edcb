"""Python the model code relies on, evaluated as Python does: each model below must get a fully known shape at
every layer, equal to torch's (isinstance of a tensor, list slice assignment, filter/map, C modules' constants,
exceptions caught by their handler)."""
from __future__ import annotations

import pytest
import torch

from cnnlint.api import analyze_source

HEADER = "import math\nimport torch\nimport torch.nn as nn\n\n\n"

MODELS = {
    "isinstance of a tensor": """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.out = nn.Identity()
    def forward(self, x):
        x = self.conv(x)
        if isinstance(x, (list, tuple)):
            x = x[-1]
        return self.out(x)
""",
    "slice assignment": """
class Net(nn.Module):
    def __init__(self, widths=(8, 16)):
        super().__init__()
        widths = list(widths)
        widths[1:1] = [12] * 2
        widths[-1:] = [20]
        self.convs = nn.Sequential(*[nn.Conv2d(a, b, 1) for a, b in zip([3] + widths, widths)])
    def forward(self, x):
        return self.convs(x)
""",
    "functools.reduce with operator": """
import operator
from functools import reduce


def prod(sizes):
    return reduce(operator.mul, sizes, 1)


class Net(nn.Module):
    def __init__(self, kernel=(3, 3), stride=(1, 1)):
        super().__init__()
        if prod(kernel) == 1 and prod(stride) == 1:
            kernel = None
        self.pool = nn.MaxPool2d(kernel, stride, 1) if kernel else nn.Identity()
        self.fc = nn.Linear(reduce(lambda a, b: a + b, [4, 6, 6]), 4)
    def forward(self, x):
        return self.fc(self.pool(x))
""",
    "copy.deepcopy of a module and numpy.linspace(...).tolist()": """
import copy
import numpy as np


class Net(nn.Module):
    def __init__(self, depth=3):
        super().__init__()
        rates = np.linspace(0, 0.1, depth).tolist()
        self.blocks = nn.ModuleList([copy.deepcopy(nn.Conv2d(3, 3, 3, padding=1)) for _ in rates])
        self.pool = copy.deepcopy(nn.MaxPool2d(2))
    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.pool(x)
""",
    "not scripted, traced or compiled": """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.out = nn.Conv2d(8, 4, 1)
        self.cache = {}
    def bias(self, device):
        if torch.jit.is_tracing() or self.training:
            return torch.zeros(8, 1, 1)
        key = str(device)
        if key not in self.cache:
            self.cache[key] = torch.zeros(8, 1, 1)
        return self.cache[key]
    def forward(self, x):
        if torch.jit.is_scripting() or torch.compiler.is_compiling():
            return x
        return self.out(self.conv(x) + self.bias(x.device))
""",
    "filter and map": """
class Net(nn.Module):
    def __init__(self, norm=None):
        super().__init__()
        self.body = nn.Sequential(*filter(None, [nn.Conv2d(3, 8, 3), norm, nn.ReLU()]))
        self.heads = nn.ModuleList(map(lambda c: nn.Conv2d(8, c, 1), [4, 6]))
    def forward(self, x):
        x = self.body(x)
        return torch.cat([h(x) for h in self.heads], 1)
""",
    "a dataclass is no sequence": """
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass
class StageCfg:
    width: int = 8
    depth: int = 2


def expand(cfg):
    if not isinstance(cfg, Sequence):
        cfg = (cfg,)
    return [c for c in cfg for _ in range(c.depth)]


class Net(nn.Module):
    def __init__(self, stages=(StageCfg(8), [StageCfg(12, 1), StageCfg(16, 1)])):
        super().__init__()
        layers, cin = [], 3
        for stage in stages:
            for cfg in expand(stage):
                layers.append(nn.Conv2d(cin, cfg.width, 3, padding=1))
                cin = cfg.width
        self.body = nn.Sequential(*layers)
    def forward(self, x):
        return self.body(x)
""",
    "itertools.accumulate": """
from itertools import accumulate


class Net(nn.Module):
    def __init__(self, strides=(2, 2, 1)):
        super().__init__()
        reductions = list(accumulate(strides, lambda a, b: a * b))
        widths = list(accumulate([4, 4, 8], initial=4))
        layers, cin = [], 3
        for s, w in zip(strides, widths[1:]):
            layers.append(nn.Conv2d(cin, w, s, s))
            cin = w
        self.body = nn.Sequential(*layers)
        self.pool = nn.AvgPool2d(reductions[-1])
    def forward(self, x):
        return self.pool(self.body(x))
""",
    "a tree of blocks of one class": """
class Tree(nn.Module):
    def __init__(self, levels, cin, cout):
        super().__init__()
        if levels == 1:
            self.tree1, self.tree2 = nn.Conv2d(cin, cout, 3, padding=1), nn.Conv2d(cout, cout, 1)
        else:
            self.tree1, self.tree2 = Tree(levels - 1, cin, cout), Tree(levels - 1, cout, cout)
    def forward(self, x):
        return self.tree2(self.tree1(x))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.tree = Tree(4, 3, 8)
    def forward(self, x):
        return self.tree(x)
""",
    "numpy arrays of written numbers": """
import numpy as np


def same_padding(kernel_size, dilation=1):
    kernel_size_np = np.atleast_1d(kernel_size)
    dilation_np = np.atleast_1d(dilation)
    if np.any((kernel_size_np - 1) * dilation % 2 == 1):
        raise NotImplementedError("even kernel")
    padding_np = (kernel_size_np - 1) / 2 * dilation_np
    padding = tuple(int(p) for p in padding_np)
    return padding if len(padding) > 1 else padding[0]


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 5, padding=same_padding(5))
        self.conv2 = nn.Conv2d(8, 8, (3, 5), padding=same_padding((3, 5)), dilation=(1, 2))
        self.conv3 = nn.Conv2d(8, 4, 3, padding=np.array([2, 1]).tolist())
    def forward(self, x):
        return self.conv3(self.conv2(self.conv(x)))
""",
    "math constants": """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.out = nn.Identity()
        self.scale = 2 * math.pi
    def forward(self, x):
        x = self.conv(x)
        return self.out(torch.arange(1, x.shape[-1] + 1) * self.scale)
""",
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_shapes_known_and_torchs(name):
    body = MODELS[name].lstrip()
    at = body.index("class Net")
    source = HEADER + body[:at] + "# cnnlint: input=(2, 3, 16, 16)\n" + body[at:]
    ns: dict = {}
    exec(compile(source, "net.py", "exec"), ns)
    model = ns["Net"]()
    seen = {}

    def record(path):
        def hook(module, inputs, output):
            seen.setdefault(path, tuple(output.shape))
        return hook

    for path, module in model.named_modules():
        if path and not list(module.children()):
            module.register_forward_hook(record(path))
    model(torch.randn(2, 3, 16, 16))
    (run,) = [m for m in analyze_source(source, "net.py").models if m.name == "Net"]
    got = {c.name: c.output_shape for c in run.calls}
    assert got == seen


@pytest.mark.parametrize("project", ["layer_registry", "layer_registry_clean"])
def test_a_layer_registry_read_through_imports_is_torchs(project, monkeypatch):
    """fixtures/projects/layer_registry*: layers picked from a registry another module fills with decorators
    (a named tuple per entry, `__getattr__` for the names, `Conv[Conv.CONV, 2]` through `__getitem__`): the same
    layers and shapes as torch's, and the bug flagged where torch fails."""
    import importlib
    import sys
    from pathlib import Path

    from cnnlint.lint import lint_text

    root = Path(__file__).resolve().parent.parent / "fixtures" / "projects" / project
    monkeypatch.syspath_prepend(str(root))
    for name in [m for m in sys.modules if m == "nets" or m.startswith("nets.")]:
        monkeypatch.delitem(sys.modules, name)
    model = importlib.import_module("nets.model").Block()
    path = root / "nets" / "model.py"
    result = lint_text(path.read_text(), str(path), keep_analysis=True)
    if project.endswith("_clean"):
        assert result.diagnostics == []
        (run,) = result.analysis.model_runs
        shapes = [tuple(d if isinstance(d, int) else {"N": 2, "H": 8, "W": 8}[str(d)] for d in c.output_shape)
                  for c in run.calls]
        seen = []
        for m in (model.conv, model.norm, model.act):
            m.register_forward_hook(lambda mod, i, out: seen.append(tuple(out.shape)))
        model(torch.randn(2, 3, 8, 8))
        assert shapes == seen
    else:
        assert [d.code for d in result.diagnostics] == ["CNN103"]
        with pytest.raises(RuntimeError):
            model(torch.randn(2, 3, 8, 8))

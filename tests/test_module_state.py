"""A module's `self.training`: True as built, False after `.eval()` / `.train(False)`, as in torch.

The script builds a model whose forward returns another shape in training and in evaluation, and calls it in each
mode; torch (the oracle) gives the shapes each call returns, and cnnlint must infer the same at those lines.
"""
from __future__ import annotations

import torch

from cnnlint.editor import ShapeIndex
from cnnlint.lint import lint_text
from cnnlint.shapes.dims import show_shape

SOURCE = """import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(8, 6)
        self.aux = nn.Linear(6, 3)

    def forward(self, x):
        x = self.body(x)
        if self.training:
            return torch.cat([x, self.aux(x)], dim=1)
        return x


model = Net()
x = torch.randn(2, 8)
built = model(x)
model.eval()
evaluated = model(x)
model.train()
trained = model(x)
model.train(False)
again = model(x)
"""


def test_training_flag_follows_train_and_eval():
    env: dict = {}
    exec(compile(SOURCE, "script.py", "exec"), env)
    index = ShapeIndex(lint_text(SOURCE, "script.py", keep_analysis=True))
    lines = SOURCE.splitlines()
    for name in ("built", "evaluated", "trained", "again"):
        line = next(i for i, text in enumerate(lines, 1) if text.startswith(f"{name} = "))
        inferred = [e.shapes for e in index.by_line.get(line, ()) if e.name == name]
        assert inferred == [[show_shape(tuple(env[name].shape))]], (name, inferred, tuple(env[name].shape))
    assert env["built"].shape != env["evaluated"].shape        # the two modes really differ here


def test_factories_read_their_dtype():
    source = ("import torch\n\ntable = torch.randn(4, 10)\n"
              "idx = torch.zeros((5, 5), dtype=torch.long)\nfloats = torch.zeros((5, 5), dtype=torch.float32)\n"
              "gathered = table[:, idx]\n")
    env: dict = {}
    exec(source, env)
    index = ShapeIndex(lint_text(source, "t.py", keep_analysis=True))
    got = [e.shapes for e in index.by_line.get(6, ()) if e.name == "gathered"]
    assert got == [[show_shape(tuple(env["gathered"].shape))]]


def test_isinstance_between_layer_classes_agrees_with_torch():
    from cnnlint.shapes.torch_layers import CONTAINERS, LAYERS, layer_is_a
    names = sorted(k for k in set(LAYERS) | CONTAINERS
                   if k.startswith("torch.nn.") and hasattr(torch.nn, k.rsplit(".", 1)[-1]))
    decided = 0
    for a in names:
        for b in names:
            said = layer_is_a(a, b)
            if said is not None:
                decided += 1
                truth = issubclass(getattr(torch.nn, a.rsplit(".", 1)[-1]), getattr(torch.nn, b.rsplit(".", 1)[-1]))
                assert said == truth, (a, b, said)
    assert decided > 0.9 * len(names) ** 2
    assert layer_is_a("torch.nn.Sequential", "torch.nn.Identity") is False


def test_container_attributes_agree_with_torch():
    """hasattr on torch's containers: every name cnnlint says a container has or lacks, torch agrees."""
    from cnnlint.shapes.torch_layers import CONTAINER_ATTRS, MODULE_ATTRS, container_has
    made = {"torch.nn.Sequential": torch.nn.Sequential(torch.nn.ReLU()), "torch.nn.ModuleList": torch.nn.ModuleList(
        [torch.nn.ReLU()]), "torch.nn.ModuleDict": torch.nn.ModuleDict({"a": torch.nn.ReLU()}),
            "torch.nn.ParameterList": torch.nn.ParameterList(), "torch.nn.ParameterDict": torch.nn.ParameterDict()}
    names = set(MODULE_ATTRS).union(*CONTAINER_ATTRS.values(), {"init_weights", "reset_parameters", "0", "a", "fc"})
    for kind, module in made.items():
        for name in names:
            said = container_has(kind, name, dict.fromkeys(module._modules))
            if said is not None:
                assert said == hasattr(module, name), (kind, name, said)
    public = {n for n in dir(torch.nn.Module) if not n.startswith("_")} | {"training"}
    assert public <= MODULE_ATTRS | {"T_destination"}

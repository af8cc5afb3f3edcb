"""Models whose constructors take sizes without defaults (fixtures/torch/sizes/): cnnlint builds each with a
positive symbol for every such size and runs it on its guessed input. torch builds the same class with sampled
values for those sizes and runs it on that input with every symbol given its sampled value:

* a class cnnlint reports an error in must fail in torch for every sample (the mismatch holds for every size);
* a class it reports nothing in must run in torch for some sample, and wherever torch runs, every leaf-module
  call cnnlint gives a shape for must have that shape at the sampled sizes.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import random
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from cnnlint.api import analyze_source, lint_source

SIZES = Path(__file__).resolve().parent.parent / "fixtures" / "torch" / "sizes"
FILES = sorted(SIZES.glob("*.py"))
SAMPLES = 40
# what a parameter that is not a size is given in torch (cnnlint leaves it unknown)
NOT_SIZES = {"dropout": (0.0, 0.2), "bidirectional": (False, True), "residual": (False, True),
             "backbone": (nn.Identity(),)}


def load(path):
    spec = importlib.util.spec_from_file_location(f"_sizes_fixture_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def class_lines(path):
    tree = ast.parse(path.read_text())
    return {node.name: range(node.lineno, node.end_lineno + 1) for node in tree.body if isinstance(node, ast.ClassDef)}


def required(cls):
    return [p.name for p in list(inspect.signature(cls.__init__).parameters.values())[1:]
            if p.default is inspect.Parameter.empty]


def sample(rng, names):
    values = {}
    for name in names:
        values[name] = rng.choice(NOT_SIZES[name]) if name in NOT_SIZES else rng.randint(1, 6)
    return values


def size(dim, values):
    """A dimension cnnlint printed ("2*hidden", "(H + 1)//2", 5) at the sampled values."""
    return dim if isinstance(dim, int) else eval(dim, {"__builtins__": {}}, dict(values))


def run_in_torch(cls, values, input_shape, dtype):
    """(leaf-module calls as (name, shape), None) when torch runs the model, ([], the exception) when it fails."""
    try:
        model = cls(**{k: values[k] for k in required(cls)}).eval()
        shape = tuple(size(d, values) for d in input_shape)
        x = torch.randint(0, values.get("vocab_size", 2), shape) if dtype == "long" else torch.randn(shape)
        calls = []
        names = {m: n for n, m in model.named_modules()}
        for m in model.modules():
            if not list(m.children()):
                m.register_forward_hook(lambda mod, a, out: calls.append(
                    (names[mod], tuple(out[0].shape if isinstance(out, tuple) else out.shape))))
        with torch.no_grad():
            model(x)
        return calls, None
    except (RuntimeError, ValueError, AssertionError, IndexError) as e:
        return [], e


CASES = [(path, name) for path in FILES for name in class_lines(path)]


@pytest.mark.parametrize("path,name", CASES, ids=[f"{p.stem}::{n}" for p, n in CASES])
def test_size_symbols_agree_with_torch(path, name):
    text = path.read_text()
    runs = {m.name: m for m in analyze_source(text, str(path)).models}
    errors = [d for d in lint_source(text, str(path)) if d.severity == "error" and d.line in class_lines(path)[name]]
    cls = getattr(load(path), name)
    if name not in runs:
        assert not errors
        return
    run = runs[name]
    input_shape = run.input_shapes[0]
    symbols = {d for d in input_shape if isinstance(d, str)}
    any_rank = len(input_shape) == 2 and run.calls and run.calls[0].type == "Linear"
    rng = random.Random(name)
    worked = 0
    for _ in range(SAMPLES):
        values = sample(rng, required(cls))
        values.update({s: rng.randint(1, 3) if s == "N" else rng.randint(3, 20) for s in symbols - set(values)})
        dtype = "long" if "vocab_size" in values else "float"
        calls, failure = run_in_torch(cls, values, input_shape, dtype)
        if failure is not None and any_rank and not errors:
            # the input's rank was a guess (a Linear takes any): another rank may be the one the model takes
            worked += any(run_in_torch(cls, values, (input_shape[0], *middle, input_shape[1]), dtype)[1] is None
                          for middle in [(5,), (4, 3)])
            continue
        if errors:
            assert failure is not None, f"{name} runs in torch at {values}, yet cnnlint reports {errors[0].message}"
            for middle in [(5,), (4, 3)] if any_rank else []:
                # the input's rank was a guess: the error must hold at the other ranks too
                _, failure = run_in_torch(cls, values, (input_shape[0], *middle, input_shape[1]), dtype)
                assert failure is not None, f"{name} runs in torch at rank {2 + len(middle)}, yet cnnlint reports it"
            continue
        if failure is not None:
            continue
        worked += 1
        by_name = {c.name: c for c in run.calls}
        for layer, shape in calls:
            got = by_name.get(layer)
            if got is not None and got.output_shape is not None:
                assert tuple(size(d, values) for d in got.output_shape) == shape, (layer, values)
    assert errors or worked, f"{name}: cnnlint reports nothing, yet torch fails at every sample"


def test_sizes_are_named_as_written():
    path = SIZES / "mlp_hidden_doubled.py"
    [finding] = lint_source(path.read_text(), str(path))
    assert "expects 2*hidden input features" in finding.message and "its last axis is hidden" in finding.message


def test_flags_and_probabilities_are_not_sizes():
    """`bidirectional` tested in an `if`, `dropout` passed as a probability: unknown, not positive sizes (a size
    symbol would make `2 if bidirectional else 1` always 2)."""
    path = SIZES / "sizes_clean.py"
    run = next(m for m in analyze_source(path.read_text(), str(path)).models if m.name == "Recurrent")
    assert run.input_shapes == [("N", "L", "input_size")]
    lstm = next(c for c in run.calls if c.name == "lstm")
    assert lstm.output_shape is None or "?" in str(lstm.output_shape)


def test_parameters_used_as_other_things_are_not_sizes():
    import libcst as cst

    from cnnlint.extract.parameter_uses import non_size_parameters
    source = """
class Net(nn.Module):
    def __init__(self, width, depth, block, layers, act, norm, use_bn, p, bidirectional, heads, kernel):
        super().__init__()
        self.blocks = [block(width) for _ in range(depth)]
        self.first = layers[0]
        self.act = act.lower()
        self.norm = nn.Identity() if norm is None else nn.BatchNorm2d(width)
        self.use_bn = use_bn
        self.drop = nn.Dropout(p=p)
        self.rnn = nn.LSTM(width, width, bidirectional=bidirectional)
        assert width % heads == 0
        self.conv = nn.Conv2d(width, width, kernel, padding=kernel // 2)

    def forward(self, x):
        if self.use_bn:
            x = x * 2
        return x
"""
    cls = cst.parse_module(source).body[0]
    init = cls.body.body[0]
    names = [p.name.value for p in init.params.params[1:]]
    assert non_size_parameters(cls, init, names) == {"block", "layers", "act", "norm", "use_bn", "p",
                                                      "bidirectional"}


def test_classes_whose_arguments_give_no_size_are_not_built():
    """A parameter annotated with a class cnnlint cannot find (an import it does not follow) leaves the class
    unbuilt, and so does a constructor none of whose parameters is a size: nothing it builds would be known."""
    source = """
import torch.nn as nn
from elsewhere import BlockConfig


class Block(nn.Module):
    def __init__(self, config: BlockConfig, layer_idx: int):
        super().__init__()
        self.fc = nn.Linear(config.width, config.width)

    def forward(self, x):
        return self.fc(x)


class Wrapped(nn.Module):
    def __init__(self, backbone):
        super().__init__()
        self.backbone = backbone

    def forward(self, x):
        return self.backbone(x)


class Sized(nn.Module):
    def __init__(self, backbone, width: int):
        super().__init__()
        self.backbone = backbone
        self.fc = nn.Linear(width, 2)

    def forward(self, x):
        return self.fc(x)
"""
    assert [m.name for m in analyze_source(source, "blocks.py").models] == ["Sized"]

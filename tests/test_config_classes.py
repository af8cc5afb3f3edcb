"""Models whose constructor takes a config (fixtures/torch/configs/): cnnlint builds each with an instance of the
config class the code declares for the parameter, built with its defaults, and runs it on its guessed input; torch
builds the same model with `Config()` and runs it on that input with the symbols given sizes. Every leaf-module
call must agree, in order and in shape, and a model torch rejects must be flagged where it fails."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from cnnlint.api import analyze_source, lint_source

CONFIGS = Path(__file__).resolve().parent.parent / "fixtures" / "torch" / "configs"
SIZES = {"N": 2, "L": 5}          # what the symbols of the guessed input stand for in torch


@pytest.fixture(autouse=True)
def declared_builds(monkeypatch):
    """Models given their declared config class are built only when enabled (cnnlint.analysis)."""
    import cnnlint.analysis
    monkeypatch.setattr(cnnlint.analysis, "MAX_DECLARED_BUILDS", 4)


def load(path):
    spec = importlib.util.spec_from_file_location(f"_config_fixture_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def torch_calls(model, shape, vocab):
    """(module name, output shape) of every leaf-module call of the model on token ids of `shape`, in order."""
    calls = []
    names = {m: n for n, m in model.named_modules()}
    handles = [m.register_forward_hook(lambda mod, args, out: calls.append((names[mod], tuple(out.shape))))
               for m in model.modules() if not list(m.children())]
    try:
        model.eval()
        with torch.no_grad():
            model(torch.randint(0, vocab, shape))
    finally:
        for h in handles:
            h.remove()
    return calls


def concrete(shape):
    return tuple(SIZES[d] if isinstance(d, str) else d for d in shape)


# the models of config_classes.py cnnlint must run, and the config class each is built with in torch: through the
# parameter's annotation (TinyModel, inside TinyClassifier), `config_class` (TinyClassifier), the class-body
# annotation of a base (TinyTagger, TinyPadded: its position ids are made from the input ids before any layer sees
# them, and the input is still read from the embedding the ids reach)
EXPECTED = {"TinyClassifier": "TinyConfig", "TinyTagger": "TinyConfig", "TinyPadded": "TinyConfig"}
# composite_config.py: a config whose sub-config is built in __post_init__ from what __init_subclass__ resolved,
# and a tower made by a classmethod of the base model class
COMPOSITE = {"PairClassifier": "PairConfig"}
FILES = {"config_classes.py": EXPECTED, "composite_config.py": COMPOSITE}


@pytest.mark.parametrize("file", sorted(FILES))
def test_models_taking_a_config_are_run(file):
    path = CONFIGS / file
    runs = {m.name: m for m in analyze_source(path.read_text(), str(path)).models}
    assert set(runs) == set(FILES[file])
    for run in runs.values():
        assert run.input_shapes == [("N", "L")]


@pytest.mark.parametrize("file,name", sorted((f, n) for f, names in FILES.items() for n in names))
def test_shapes_agree_with_torch(file, name):
    path = CONFIGS / file
    run = next(m for m in analyze_source(path.read_text(), str(path)).models if m.name == name)
    module = load(path)
    config = getattr(module, FILES[file][name])()
    model = getattr(module, name)(config)
    vocab = getattr(config, "text_config", config).vocab_size
    expected = torch_calls(model, concrete(run.input_shapes[0]), vocab)
    got = [(c.name, None if c.output_shape is None else concrete(c.output_shape)) for c in run.calls]
    assert got == expected


def test_aliased_width_mismatch_is_flagged_and_fails_in_torch():
    path = CONFIGS / "config_classes_bug.py"
    found = [(d.line, d.code) for d in lint_source(path.read_text(), str(path))]
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "expect: CNN101" in text)
    assert found == [(line, "CNN101")]
    module = load(path)
    model = module.WideModel(module.WideConfig())
    with pytest.raises(RuntimeError):
        model(torch.randint(0, 50, (2, 5)))


def test_a_config_class_that_needs_arguments_is_not_guessed():
    """No default for a config field: the model is not built on its own (no config to build it with)."""
    source = """
import dataclasses
from torch import nn


@dataclasses.dataclass
class NeedsWidth:
    width: int


class Net(nn.Module):
    def __init__(self, config: NeedsWidth):
        super().__init__()
        self.fc = nn.Linear(config.width, 4)

    def forward(self, x):
        return self.fc(x)
"""
    assert analyze_source(source, "needs_width.py").models == []


def test_a_value_that_is_either_side_of_or_is_not_decided():
    """`width = unknown or 16` is the unknown value when that is truthy: a Linear built from it checks nothing."""
    source = """
import torch
from torch import nn
from plugins import default_width


class Net(nn.Module):
    def __init__(self, width=None):
        super().__init__()
        width = width or default_width()
        self.fc1 = nn.Linear(8, 16)
        self.fc2 = nn.Linear(width or 16, 4)

    def forward(self, x):
        return self.fc2(self.fc1(x))


model = Net()
out = model(torch.randn(2, 8))
"""
    assert lint_source(source, "either.py") == []


def test_hasattr_of_an_attribute_set_where_we_cannot_see_it_is_not_decided():
    """An instance handed to code we do not read may have gained the attribute: hasattr stays undecided."""
    source = """
import torch
from torch import nn
from plugins import register_options


class Options:
    def __init__(self):
        self.width = 8


def configure(options):
    register_options(options)
    return options


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        options = configure(Options())
        width = options.extra if hasattr(options, "extra") else 8
        self.fc = nn.Linear(8, 4)
        self.fc2 = nn.Linear(width, 2)

    def forward(self, x):
        return self.fc2(self.fc(x))


model = Net()
out = model(torch.randn(2, 8))
"""
    assert lint_source(source, "hasattr_open.py") == []


SEQUENCE_HEAD = """
import dataclasses

import torch
from torch import nn


@dataclasses.dataclass
class SeqConfig:
    width: int = 8


class SeqHead(nn.Module):
    def __init__(self, config: SeqConfig):
        super().__init__()
        self.fc = nn.Linear(config.width, config.width)
        self.conv = nn.Conv1d(config.width, config.width, 3, padding=1)

    def forward(self, x):
        return self.conv(self.fc(x).transpose(1, 2))
"""


def test_a_model_built_with_its_config_is_not_run_on_a_rank_its_first_layer_does_not_fix():
    """A Linear first takes (N, *, F): a guessed 2-D input would make `.transpose(1, 2)` look out of range, where
    the model runs on the (N, L, F) it is written for."""
    assert lint_source(SEQUENCE_HEAD, "seq_head.py") == []
    namespace = {}
    exec(compile(SEQUENCE_HEAD, "seq_head.py", "exec"), namespace)
    model = namespace["SeqHead"](namespace["SeqConfig"]())
    assert model(torch.randn(2, 5, 8)).shape == (2, 8, 5)

"""Where a model's input comes from: comment, example call, dataset hint, or a symbolic guess."""

from pathlib import Path

from cnnlint.api import analyze_source
from cnnlint.inputs import dataset_hint, parse_spec

INFERRED = Path(__file__).resolve().parent.parent / "fixtures" / "torch" / "inferred"


def models(path):
    return {m.name: m for m in analyze_source(path.read_text(), str(path)).models}


def test_parse_spec():
    assert parse_spec("(N, 3, 32, 32)") == ([("N", 3, 32, 32)], None)
    assert parse_spec("(4, 3, 32, 32), (4, 10) dtype=long") == ([(4, 3, 32, 32), (4, 10)], "long")
    assert parse_spec("(4, 3 + 1)") is None


def test_dataset_hint_needs_one_kind_of_dataset():
    assert dataset_hint("datasets.MNIST(root)") == (1, 28, 28)
    assert dataset_hint("CIFAR10(root)") == (3, 32, 32)
    assert dataset_hint("transforms.RandomResizedCrop(224)") == (3, 224, 224)
    assert dataset_hint("MNIST(a); CIFAR10(b)") is None
    assert dataset_hint("nothing here") is None


def test_sources_of_inferred_fixtures():
    m = models(INFERRED / "example_calls.py")
    assert m["MnistLeNet"].source == "dataset" and m["MnistLeNet"].input_shapes == [("N", 1, 28, 28)]
    assert m["Tabular"].source == "example" and m["Tabular"].input_shapes == [(32, 13)]
    s = models(INFERRED / "symbolic_inputs.py")
    assert s["LeNetAnySize"].source == "guess" and s["LeNetAnySize"].input_shapes == [("N", 3, "H", "W")]
    assert s["SequenceWidth"].input_shapes == [("N", "L")]


def test_first_layer_found_by_running_forward():
    """The input is read from the first layer the forward surely applies to it, however far in (shape checks,
    ifs on the model's state, a stem module, a helper method); never from a layer only one undecided path takes,
    nor when an op changes the input first. torch agrees on the guessed input, with the bug the fixture marks."""
    import runpy

    import pytest
    import torch
    path = INFERRED / "first_layer_behind_checks.py"
    m = models(path)
    # (its stem asserts the height it was built for: the width stays open)
    assert m["Mixer"].source == "guess" and m["Mixer"].input_shapes == [("N", 3, 32, "W")]
    model = runpy.run_path(str(path))["Mixer"]()
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        model(torch.randn(2, 3, 32, 32))
    assert models(INFERRED / "first_layer_undecided.py") == {}


def test_input_size_the_model_asserts_is_used():
    """A model that asserts its image size before its first layer is analysed at that size; torch agrees that
    the head sized for 28x28 images fails on the 32x32 the model asserts."""
    import runpy

    import pytest
    import torch
    path = INFERRED / "input_size_asserted.py"
    m = models(path)
    assert m["Net"].source == "guess" and m["Net"].input_shapes == [("N", 3, 32, 32)]
    model = runpy.run_path(str(path))["Net"]()
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        model(torch.randn(2, 3, 32, 32))
    with pytest.raises(AssertionError):
        model(torch.randn(2, 3, 28, 28))


def test_comment_wins_and_symbolic_dims_flow():
    src = '''import torch.nn as nn
# cnnlint: input=(B, 3, 64, 64)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)
    def forward(self, x):
        return self.conv(x)
'''
    (m,) = analyze_source(src).models
    assert m.source == "comment"
    assert m.calls[0].output_shape == ("B", 8, 32, 32)


ANNOTATED = '''import torch, torch.nn as nn
from jaxtyping import Float
from torch import Tensor
from torchvision.datasets import MNIST
{comment}
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3, padding=1)
    def forward(self, x: Float[Tensor, "{shape}"]):
        return self.conv(x)
{example}
'''


def _source_of(comment="", shape="b 1 h w", example=""):
    (m,) = [m for m in analyze_source(ANNOTATED.format(comment=comment, shape=shape, example=example)).models]
    return m.source, m.input_shapes


def test_annotation_comes_after_the_comment_and_the_example_before_the_guesses():
    assert _source_of() == ("annotation", [("b", 1, "h", "w")])                  # beats the MNIST hint
    assert _source_of(comment="# cnnlint: input=(2, 1, 8, 8)") == ("comment", [(2, 1, 8, 8)])
    assert _source_of(example="Net()(torch.randn(2, 1, 9, 9))") == ("example", [(2, 1, 9, 9)])
    assert _source_of(shape="*batch 1 h w") == ("dataset", [("N", 1, 28, 28)])   # no fixed rank: a guess


def test_a_subclassed_keras_model_takes_its_input_from_build():
    fa = analyze_source('''
import keras
from keras import layers

class Head(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = layers.Dense(32)
        self.out = layers.Dense(3)

    def call(self, x):
        return self.out(self.hidden(x))

head = Head()
head.build((None, 20))
''', "head.py")
    (model,) = fa.models
    assert model.name == "head"
    assert [tuple(s) for s in model.input_shapes] == [("N", 20)]
    assert [(c.name, c.output_shape) for c in model.calls] == [("dense", ("N", 32)), ("dense_1", ("N", 3))]

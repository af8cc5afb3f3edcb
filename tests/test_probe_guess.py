"""The input a model is analysed on when nothing states it: found by running forward on a probe of unknown shape
to the first layer, through what keeps the input's shape whatever it is (a dropout, an activation, a scale to
[0, 1], a cast) and through a pad of the trailing axes (padding an image to a multiple of the patch size).

torch is the oracle: each model runs on inputs of the guessed channels and several sizes, and the symbolic output
shape cnnlint infers for every layer call, at those sizes, is what torch's forward hooks record. Where an op
before the first layer reaches the axes the layer reads (a pad of the features a Linear takes, a pad of a conv's
channels), there is no guess.
"""
from __future__ import annotations

import pytest
import torch

from cnnlint.lint import lint_text
from cnnlint.shapes import dims as D

HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n\n"

GUESSED = {
    "pad_to_patch_multiple": """
class Net(nn.Module):
    def __init__(self, patch=4):
        super().__init__()
        self.stride = (patch, patch)
        self.proj = nn.Conv2d(3, 16, patch, patch)
        self.norm = nn.BatchNorm2d(16)

    def forward(self, x):
        B, C, H, W = x.shape
        pad_r = (self.stride[1] - W % self.stride[1]) % self.stride[1]
        pad_b = (self.stride[0] - H % self.stride[0]) % self.stride[0]
        x = F.pad(x, (0, pad_r, 0, pad_b))
        return self.norm(self.proj(x))
""",
    "helper_reads_the_rank": """
def to_5d(x, target_dim, expand_dim):
    tensor_dim = x.dim()
    if tensor_dim == target_dim - 1:
        x = x.unsqueeze(expand_dim)
    elif tensor_dim != target_dim:
        raise ValueError(f"Unsupported input dimension {x.shape}")
    return x, tensor_dim


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Conv3d(3, 8, (3, 7, 7), (2, 4, 4), (1, 3, 3))
        self.norm = nn.LayerNorm(8)

    def forward(self, x):
        x = to_5d(x, 5, 2)[0]
        x = self.proj(x)
        return self.norm(x.flatten(2).transpose(1, 2))
""",
    "cast_when_dtypes_differ": """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Conv2d(3, 8, 4, 4)
        self.norm = nn.LayerNorm(8)

    def forward(self, pixel_values):
        expected_dtype = self.proj.weight.dtype
        if pixel_values.dtype != expected_dtype:
            pixel_values = pixel_values.to(expected_dtype)
        return self.norm(self.proj(pixel_values).flatten(2).transpose(1, 2))
""",
    "standardized_conv_subclass": """
class StdConv2d(nn.Conv2d):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, eps=1e-6):
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, bias=False)
        self.eps = eps

    def forward(self, x):
        x = F.pad(x, (1, 1, 1, 1))
        weight = F.batch_norm(self.weight.reshape(1, self.out_channels, -1), None, None, training=True,
                              momentum=0.0, eps=self.eps).reshape_as(self.weight)
        return F.conv2d(x, weight, None, self.stride, self.padding, self.dilation, self.groups)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = StdConv2d(3, 16, 3, stride=2)
        self.norm = nn.BatchNorm2d(16)

    def forward(self, x):
        return self.norm(self.stem(x))
""",
    "dropout_first": """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.dropout = nn.Dropout(0.1)
        self.act = nn.ReLU()
        self.conv = nn.Conv1d(8, 16, 3)

    def forward(self, x):
        return self.conv(self.act(self.dropout(x)))
""",
    "scaled_and_cast": """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, stride=2)

    def forward(self, x):
        x = (x.float() / 255.0 - 0.5) * 2
        return self.conv(F.pad(x, (1, 1, 1, 1), mode="reflect"))
""",
}

NOT_GUESSED = {
    "pad_of_features": """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        return self.fc(F.pad(x, (0, 1)))
""",
    "helper_replaces_the_input": """
def to_channels_first(x):
    return x.permute(0, 3, 1, 2)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        x = to_channels_first(x)
        return self.conv(x)
""",
    "pad_of_channels": """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        return self.conv(F.pad(x, (0, 1, 0, 1, 0, 1)))
""",
}


def analysed(source):
    result = lint_text(source, "net.py", keep_analysis=True)
    return [r for r in result.analysis.model_runs if r.name == "Net"]


def torch_shapes(source, shape):
    env: dict = {}
    exec(compile(source, "net.py", "exec"), env)
    model = env["Net"]().eval()
    seen = []
    for module in model.modules():
        if not list(module.children()):
            module.register_forward_hook(lambda m, i, o: seen.append(tuple(o.shape)))
    with torch.no_grad():
        model(torch.randn(shape))
    return seen


@pytest.mark.parametrize("name", sorted(GUESSED))
def test_guessed_input_agrees_with_torch(name):
    source = HEADER + GUESSED[name]
    (run,) = analysed(source)
    (shape,) = run.input_shapes
    names = [str(d) for d in shape if not isinstance(d, int)]
    assert shape[0] == D.sym(names[0]) and all(isinstance(d, D.Expr) for d in shape[2:]), shape
    channels = shape[1]
    assert isinstance(channels, int)
    for sizes in [(9,), (16,), (23,)]:
        concrete = (2, channels) + sizes * (len(shape) - 2)
        env = {str(d): v for d, v in zip(shape, concrete) if not isinstance(d, int)}
        inferred = [tuple(D.evaluate(d, env) for d in c.output_shape) for c in run.calls]
        assert inferred == torch_shapes(source, concrete), (sizes, [c.output_shape for c in run.calls])


@pytest.mark.parametrize("name", sorted(NOT_GUESSED))
def test_no_guess_when_an_op_reaches_the_axes_the_layer_reads(name):
    source = HEADER + NOT_GUESSED[name]
    assert analysed(source) == []

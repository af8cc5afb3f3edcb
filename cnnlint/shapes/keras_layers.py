"""Transfer functions and parameter counts of Keras 3 layers (channels_last unless data_format says otherwise),
in the same table style as torch_layers. Shapes include the batch axis first (Keras' None, here a symbol).

Parameter counts follow `layer.count_params()`, which needs the width of the input: `params(layer, input_shape)`.
"""

from __future__ import annotations

from math import prod

from . import dims as D
from .common import as_dim, as_int, ntuple, shape_of, tensor, unknown_tensor
from .functions import broadcast
from .torch_layers import registrar

KERAS_LAYERS: dict = {}
KERAS_PARAMS: dict = {}


keras_layer = registrar(KERAS_LAYERS, "keras.layers.", default_forward="inputs", counts=KERAS_PARAMS)


def _bias(layer):
    value = layer.args.get("use_bias", True)
    return 1 if value is True else 0 if value is False else None


def _channels_first(layer):
    return layer.args.get("data_format") == "channels_first"


def _nd(layer):
    for n in (1, 2, 3):
        if f"{n}D" in layer.type_name:
            return n
    return 2


def _same_or_valid(size, kernel, stride, padding, dilation=1):
    if None in (size, kernel, stride) or padding not in ("same", "valid"):
        return None
    if padding == "same":
        return D.ceildiv(size, stride)
    span = D.add(D.mul(dilation, D.sub(kernel, 1)), 1)
    return D.add(D.floordiv(D.sub(size, span), stride), 1)


def _identity(layer, x, *rest, **kw):
    return tensor(shape_of(x)) if shape_of(x) is not None else unknown_tensor()


keras_layer("Dropout Activation ReLU LeakyReLU Softmax ELU PReLU GaussianNoise GaussianDropout SpatialDropout1D "
            "SpatialDropout2D SpatialDropout3D ActivityRegularization", "rate", count=lambda lay, s: 0)(_identity)
KERAS_LAYERS["keras.layers.Activation"].params = ("activation",)


@keras_layer("Dense", "units, activation, use_bias",
             count=lambda lay, s: (as_int(s[-1]) * as_int(lay.arg("units")) + _bias(lay) * as_int(lay.arg("units")))
             if s and as_int(s[-1]) is not None and as_int(lay.arg("units")) is not None and _bias(lay) is not None
             else None)
def _dense(layer, x, **kw):
    shape = shape_of(x)
    return tensor(shape[:-1] + (as_dim(layer.arg("units")),)) if shape else unknown_tensor()


def _conv_count(layer, s):
    n = _nd(layer)
    if not s:
        return None
    cin = as_int(s[1] if _channels_first(layer) else s[-1])
    filters, kernel, bias = as_int(layer.arg("filters")), ntuple(layer.arg("kernel_size"), n), _bias(layer)
    groups = as_int(layer.args.get("groups", 1))
    if None in (cin, filters, bias, groups) or None in kernel:
        return None
    return prod(kernel) * (cin // groups) * filters + bias * filters


@keras_layer("Conv1D Conv2D Conv3D", "filters, kernel_size, strides, padding, data_format, dilation_rate, groups, "
             "activation, use_bias", count=_conv_count, strides=1, padding="valid", dilation_rate=1)
def _conv(layer, x, **kw):
    n = _nd(layer)
    shape = shape_of(x)
    if shape is None or len(shape) != n + 2:
        return unknown_tensor()
    kernel, strides, dilation = (ntuple(layer.arg(p), n) for p in ("kernel_size", "strides", "dilation_rate"))
    first = _channels_first(layer)
    spatial = shape[2:] if first else shape[1:-1]
    out = tuple(_same_or_valid(s, k, st, layer.arg("padding"), d) for s, k, st, d in zip(spatial, kernel, strides,
                                                                                          dilation))
    filters = as_dim(layer.arg("filters"))
    return tensor((shape[0], filters) + out if first else (shape[0],) + out + (filters,))


def _pool(layer, x, **kw):
    n = _nd(layer)
    shape = shape_of(x)
    if shape is None or len(shape) != n + 2:
        return unknown_tensor()
    size = ntuple(layer.arg("pool_size"), n)
    strides_arg = layer.arg("strides")
    strides = size if strides_arg is None else ntuple(strides_arg, n)
    first = _channels_first(layer)
    spatial = shape[2:] if first else shape[1:-1]
    out = tuple(_same_or_valid(s, k, st, layer.arg("padding")) for s, k, st in zip(spatial, size, strides))
    return tensor(shape[:2] + out if first else (shape[0],) + out + (shape[-1],))


keras_layer("MaxPooling1D MaxPooling2D MaxPooling3D AveragePooling1D AveragePooling2D AveragePooling3D "
            "MaxPool1D MaxPool2D MaxPool3D AvgPool1D AvgPool2D AvgPool3D",
            "pool_size, strides, padding, data_format", count=lambda lay, s: 0, pool_size=2, strides=None,
            padding="valid")(_pool)


@keras_layer("GlobalAveragePooling1D GlobalAveragePooling2D GlobalAveragePooling3D GlobalMaxPooling1D "
             "GlobalMaxPooling2D GlobalMaxPooling3D GlobalAvgPool1D GlobalAvgPool2D GlobalMaxPool1D GlobalMaxPool2D",
             "data_format, keepdims", count=lambda lay, s: 0, keepdims=False)
def _global_pool(layer, x, **kw):
    shape = shape_of(x)
    if shape is None or len(shape) < 3:
        return unknown_tensor()
    channels = shape[1] if _channels_first(layer) else shape[-1]
    if layer.arg("keepdims") is True:
        ones = (1,) * (len(shape) - 2)
        return tensor((shape[0], channels) + ones if _channels_first(layer) else (shape[0],) + ones + (channels,))
    return tensor((shape[0], channels))


@keras_layer("Flatten", "data_format", count=lambda lay, s: 0)
def _flatten(layer, x, **kw):
    shape = shape_of(x)
    return tensor((shape[0], D.product(shape[1:]))) if shape else unknown_tensor()


@keras_layer("Reshape", "target_shape", count=lambda lay, s: 0)
def _reshape(layer, x, **kw):
    shape, target = shape_of(x), layer.arg("target_shape")
    if shape is None or not isinstance(target, (list, tuple)):
        return unknown_tensor()
    dims = [as_dim(t) for t in target]
    if dims.count(-1) == 1:
        known = D.product(d for d in dims if d != -1)
        dims[dims.index(-1)] = D.exact_div(D.product(shape[1:]), known) if known else None
    return tensor((shape[0],) + tuple(dims))


@keras_layer("BatchNormalization", "axis, momentum, epsilon, center, scale",
             count=lambda lay, s: 4 * as_int(s[-1]) if s and as_int(s[-1]) is not None and lay.args.get(
                 "axis", -1) == -1 else None)
def _batchnorm(layer, x, **kw):
    return _identity(layer, x)


@keras_layer("LayerNormalization", "axis, epsilon, center, scale",
             count=lambda lay, s: 2 * as_int(s[-1]) if s and as_int(s[-1]) is not None and lay.args.get(
                 "axis", -1) == -1 else None)
def _layernorm(layer, x, **kw):
    return _identity(layer, x)


@keras_layer("Embedding", "input_dim, output_dim",
             count=lambda lay, s: as_int(lay.arg("input_dim")) * as_int(lay.arg("output_dim"))
             if as_int(lay.arg("input_dim")) is not None and as_int(lay.arg("output_dim")) is not None else None)
def _embedding(layer, x, **kw):
    shape = shape_of(x)
    return tensor(shape + (as_dim(layer.arg("output_dim")),), dtype="float") if shape is not None else unknown_tensor()


def _rnn_count(layer, s):
    units, width = as_int(layer.arg("units")), as_int(s[-1]) if s else None
    bias = _bias(layer)
    if None in (units, width, bias):
        return None
    if layer.type_name == "LSTM":
        return 4 * (units * (width + units) + bias * units)
    if layer.type_name == "GRU":
        reset_after = layer.args.get("reset_after", True)
        return 3 * (units * (width + units) + bias * units * (2 if reset_after else 1))
    return units * (width + units) + bias * units


@keras_layer("LSTM GRU SimpleRNN", "units, activation", count=_rnn_count, return_sequences=False,
             return_state=False)
def _rnn(layer, x, **kw):
    shape = shape_of(x)
    if shape is None or len(shape) != 3:
        return unknown_tensor()
    units = as_dim(layer.arg("units"))
    out = tensor(shape[:2] + (units,)) if layer.arg("return_sequences") is True else tensor((shape[0], units))
    if layer.arg("return_state") is True:
        states = 2 if layer.type_name == "LSTM" else 1
        return (out,) + tuple(tensor((shape[0], units)) for _ in range(states))
    return out


def _merge(layer, inputs, **kw):
    if not isinstance(inputs, (list, tuple)) or not inputs:
        return unknown_tensor()
    shapes = [shape_of(t) for t in inputs]
    if any(s is None for s in shapes):
        return unknown_tensor()
    if layer.type_name in ("Concatenate", "concatenate"):
        rank = len(shapes[0])
        axis = as_int(layer.args.get("axis", -1))
        if axis is None or any(len(s) != rank for s in shapes):
            return unknown_tensor()
        axis = axis + rank if axis < 0 else axis
        out = list(shapes[0])
        total = 0
        for s in shapes:
            total = D.add(total, s[axis])
        out[axis] = total
        return tensor(out)
    out = shapes[0]
    for s in shapes[1:]:
        out = broadcast(out, s)      # elementwise merges broadcast like numpy (SE blocks: (N, 1, 1, C) * (N, H, W, C))
    return tensor(out)


keras_layer("Concatenate Add Multiply Subtract Average Maximum Minimum", "axis", forward="inputs",
            count=lambda lay, s: 0, axis=-1)(_merge)


@keras_layer("UpSampling1D UpSampling2D UpSampling3D", "size", count=lambda lay, s: 0, size=2)
def _upsampling(layer, x, **kw):
    n = _nd(layer)
    shape = shape_of(x)
    if shape is None or len(shape) != n + 2 or _channels_first(layer):
        return unknown_tensor()
    size = ntuple(layer.arg("size"), n)
    return tensor((shape[0],) + tuple(D.mul(s, k) for s, k in zip(shape[1:-1], size)) + (shape[-1],))


@keras_layer("ZeroPadding1D ZeroPadding2D ZeroPadding3D", "padding", count=lambda lay, s: 0, padding=1)
def _zero_padding(layer, x, **kw):
    n = _nd(layer)
    shape = shape_of(x)
    pad = layer.arg("padding")
    if shape is None or len(shape) != n + 2 or _channels_first(layer):
        return unknown_tensor()
    if isinstance(pad, int):
        pairs = [(pad, pad)] * n
    elif isinstance(pad, (list, tuple)) and len(pad) == n:
        pairs = [(p, p) if isinstance(p, int) else tuple(p) for p in pad]
    else:
        return unknown_tensor()
    return tensor((shape[0],) + tuple(D.add(s, as_dim(a) + as_dim(b)) for s, (a, b) in zip(shape[1:-1], pairs))
                  + (shape[-1],))


# keras.layers.add([a, b]) and friends: a merge layer applied at once
MERGE_FUNCTIONS = {f"keras.layers.{f}": f"keras.layers.{f.capitalize()}" for f in
                   ("add", "multiply", "subtract", "average", "maximum", "minimum", "concatenate")}


def keras_parameter_count(layer, input_shape):
    fn = KERAS_PARAMS.get(layer.kind)
    if fn is None or layer.args.get("__unknown__"):
        return None
    try:
        return fn(layer, input_shape)
    except (TypeError, ValueError):
        return None

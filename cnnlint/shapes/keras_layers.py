"""Transfer functions and parameter counts of Keras 3 layers (channels_last unless data_format says otherwise),
in the same table style as torch_layers. Shapes include the batch axis first (Keras' None, here a symbol).

Parameter counts follow `layer.count_params()`, which needs the width of the input: `params(layer, input_shape)`.
A count is None whenever it is not certain (an argument not evaluated, an option not modelled).
"""

from __future__ import annotations

from math import prod

from . import dims as D
from .common import as_dim, as_int, norm_axis, ntuple, shape_of, tensor, unknown_tensor
from .functions import broadcast, parse_axes
from .torch_layers import registrar

KERAS_LAYERS: dict = {}
KERAS_PARAMS: dict = {}

# sub-layers a Keras layer creates, auto-named, when it is built on its first call: they take a name from the
# same counters as the user's layers (after a MultiHeadAttention has run, the next Dropout is `dropout_1`)
KERAS_BUILD_SUBLAYERS = {"keras.layers.MultiHeadAttention": ("Softmax", "Dropout")}


# methods of a Keras model that leave its layers as they are (a script compiles, fits and evaluates the model it
# built): what they return is not a layer of it
KERAS_MODEL_METHODS = set(
    "compile fit predict evaluate summary save save_weights load_weights count_params get_config to_json "
    "get_weights set_weights train_on_batch test_on_batch predict_on_batch fit_generator evaluate_generator "
    "predict_generator reset_states reset_metrics get_metrics_result export make_predict_function "
    "make_train_function make_test_function compute_loss compute_metrics stateless_call".split())


keras_layer = registrar(KERAS_LAYERS, "keras.layers.", default_forward="inputs", counts=KERAS_PARAMS)


def _no_params(layer, s):
    return 0


def _flag(layer, name, default=True):
    """A boolean constructor option as 1/0, None when not evaluated."""
    value = layer.args.get(name, default)
    return 1 if value is True else 0 if value is False else None


def _bias(layer):
    return _flag(layer, "use_bias")


def _channels_first(layer):
    return layer.args.get("data_format") == "channels_first"


def _nd(layer):
    for n in (1, 2, 3):
        if f"{n}D" in layer.type_name:
            return n
    return 2


def _spatial_input(layer, x):
    """(shape, spatial sizes, channels) of an (N, *spatial, C) input (channels first: (N, C, *spatial)), or Nones
    when the rank is not the layer's."""
    shape, n = shape_of(x), _nd(layer)
    if shape is None or len(shape) != n + 2:
        return None, None, None
    if _channels_first(layer):
        return shape, shape[2:], shape[1]
    return shape, shape[1:-1], shape[-1]


def _spatial_output(layer, batch, spatial, channels):
    if _channels_first(layer):
        return tensor((batch, channels) + tuple(spatial))
    return tensor((batch,) + tuple(spatial) + (channels,))


def _in_channels(layer, s):
    if not s:
        return None
    return as_int(s[1] if _channels_first(layer) else s[-1])


def _same_or_valid(size, kernel, stride, padding, dilation=1):
    """Keras' conv and pooling sizes: 'same' (and Conv1D's 'causal') give ceil(n / stride)."""
    padding = padding.lower() if isinstance(padding, str) else padding
    if None in (size, kernel, stride, dilation) or padding not in ("same", "valid", "causal"):
        return None
    if padding in ("same", "causal"):
        return D.ceildiv(size, stride)
    span = D.add(D.mul(dilation, D.sub(kernel, 1)), 1)
    return D.add(D.floordiv(D.sub(size, span), stride), 1)


def _transpose_size(size, kernel, stride, padding, output_padding, dilation):
    """Keras' Conv*Transpose size (backend_utils._get_output_shape_given_tf_padding)."""
    padding = padding.lower() if isinstance(padding, str) else padding
    if None in (size, kernel, stride, dilation) or padding not in ("same", "valid") or not (
            output_padding is None or isinstance(output_padding, int)):
        return None
    if not isinstance(kernel, int) or not isinstance(stride, int) or not isinstance(dilation, int):
        return None
    span = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(span, stride) - span if output_padding is None else output_padding
        return D.add(D.mul(D.sub(size, 1), stride), span + extra)
    if output_padding is None:
        return D.mul(size, stride)
    return D.add(D.mul(D.sub(size, 1), stride), span % 2 + output_padding)


def _identity(layer, x, *rest, **kw):
    return tensor(shape_of(x)) if shape_of(x) is not None else unknown_tensor()


# -- shape-preserving layers ----------------------------------------------------------------------------------
keras_layer("Dropout Activation ReLU LeakyReLU Softmax ELU GaussianNoise GaussianDropout AlphaDropout "
            "SpatialDropout1D SpatialDropout2D SpatialDropout3D ActivityRegularization Identity Masking Rescaling "
            "UnitNormalization RandomFlip RandomRotation RandomZoom RandomTranslation RandomContrast "
            "RandomBrightness", "rate", count=_no_params)(_identity)
for _name, _params in {"Activation": "activation", "Softmax": "axis", "Rescaling": "scale, offset",
                       "Masking": "mask_value", "UnitNormalization": "axis", "ReLU": "max_value",
                       "LeakyReLU": "negative_slope", "ELU": "alpha"}.items():
    KERAS_LAYERS[f"keras.layers.{_name}"].params = tuple(p.strip() for p in _params.split(","))


def _prelu_count(layer, s):
    shared = layer.args.get("shared_axes")
    if not s or any(as_int(d) is None for d in s[1:]):
        return None
    if shared is None:
        return prod(s[1:])
    shared = [shared] if isinstance(shared, int) else shared
    if not isinstance(shared, (list, tuple)) or any(as_int(a) is None or not 1 <= a < len(s) for a in shared):
        return None
    return prod(d for i, d in enumerate(s) if i and i not in shared)


keras_layer("PReLU", "alpha_initializer, alpha_regularizer, alpha_constraint, shared_axes",
            count=_prelu_count)(_identity)


def _axis_size(layer, s, default=-1):
    """The number of weights per parameter of a normalisation: the size of the axis it normalises, the product of
    the sizes of several (LayerNormalization(axis=[1, 2, 3]))."""
    if not s:
        return None
    given = layer.args.get("axis", default)
    axes = [norm_axis(a, len(s)) for a in (given if isinstance(given, (list, tuple)) else [given])]
    if not axes or any(a is None or a == 0 for a in axes):
        return None
    sizes = [as_int(s[a]) for a in axes]
    return None if None in sizes else prod(sizes)


def _norm_count(per_axis):
    """count_params of a normalisation: per_axis(layer) weights of the axis' size each."""
    def count(layer, s):
        size, k = _axis_size(layer, s), per_axis(layer)
        return None if size is None or k is None else k * size
    return count


def _affine(layer):
    center, scale = _flag(layer, "center"), _flag(layer, "scale")
    return None if None in (center, scale) else center + scale


def _batchnorm_weights(layer):
    affine = _affine(layer)
    return None if affine is None else affine + 2         # + moving mean and variance


keras_layer("BatchNormalization", "axis, momentum, epsilon, center, scale",
            count=_norm_count(_batchnorm_weights))(_identity)
keras_layer("LayerNormalization", "axis, epsilon, center, scale", count=_norm_count(_affine))(_identity)
keras_layer("GroupNormalization", "groups, axis, epsilon, center, scale", count=_norm_count(_affine))(_identity)
keras_layer("RMSNormalization", "axis, epsilon", count=_norm_count(lambda lay: 1))(_identity)


def _normalization_count(layer, s):
    """Normalization keeps mean, variance (per axis) and a count, unless mean and variance are given."""
    if layer.args.get("mean") is not None or layer.args.get("variance") is not None:
        return 0 if layer.args.get("mean") is not None and layer.args.get("variance") is not None else None
    if layer.args.get("axis", -1) is None:
        return 3
    size = _axis_size(layer, s)
    return None if size is None else 2 * size + 1


keras_layer("Normalization", "axis, mean, variance, invert", count=_normalization_count)(_identity)

# the axis arguments of Keras layers, for CNN111 (as torch_layers' axes=); the normalisations size their weights
# by that axis, so it must not be the batch axis, whose size Keras does not know when it builds them
WEIGHTED_AXIS = frozenset({"keras.layers.BatchNormalization", "keras.layers.LayerNormalization",
                           "keras.layers.GroupNormalization", "keras.layers.RMSNormalization"})
for _names, _axes in (("BatchNormalization GroupNormalization", "axis"),
                      ("LayerNormalization RMSNormalization UnitNormalization Softmax", "axis:many")):
    for _name in _names.split():
        KERAS_LAYERS[f"keras.layers.{_name}"].axes = parse_axes(_axes)


# -- dense and embeddings -------------------------------------------------------------------------------------
def _dense_count(layer, s):
    width, units, bias = as_int(s[-1]) if s else None, as_int(layer.arg("units")), _bias(layer)
    return None if None in (width, units, bias) else width * units + bias * units


@keras_layer("Dense", "units, activation, use_bias", count=_dense_count)
def _dense(layer, x, **kw):
    shape = shape_of(x)
    return tensor(shape[:-1] + (as_dim(layer.arg("units")),)) if shape else unknown_tensor()


@keras_layer("Embedding", "input_dim, output_dim",
             count=lambda lay, s: as_int(lay.arg("input_dim")) * as_int(lay.arg("output_dim"))
             if as_int(lay.arg("input_dim")) is not None and as_int(lay.arg("output_dim")) is not None else None)
def _embedding(layer, x, **kw):
    shape = shape_of(x)
    return tensor(shape + (as_dim(layer.arg("output_dim")),), dtype="float") if shape is not None else unknown_tensor()


# -- convolutions ---------------------------------------------------------------------------------------------
CONV = "filters, kernel_size, strides, padding, data_format, dilation_rate, groups, activation, use_bias"
CONV_TRANSPOSE = "filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate, activation, " \
                 "use_bias"
CONV3D_TRANSPOSE = "filters, kernel_size, strides, padding, data_format, output_padding, dilation_rate, " \
                   "activation, use_bias"
SEPARABLE = "filters, kernel_size, strides, padding, data_format, dilation_rate, depth_multiplier, activation, " \
            "use_bias"
DEPTHWISE = "kernel_size, strides, padding, depth_multiplier, data_format, dilation_rate, activation, use_bias"
CONV_DEFAULTS = dict(strides=1, padding="valid", dilation_rate=1)


def _kernel_weights(layer):
    """prod(kernel_size), None when not evaluated."""
    kernel = ntuple(layer.arg("kernel_size"), _nd(layer))
    return None if any(as_int(k) is None for k in kernel) else prod(kernel)


def _conv_count(layer, s):
    cin, filters, k, bias = _in_channels(layer, s), as_int(layer.arg("filters")), _kernel_weights(layer), _bias(layer)
    groups = as_int(layer.args.get("groups", 1))
    if None in (cin, filters, k, bias, groups) or groups <= 0:
        return None
    return k * (cin // groups) * filters + bias * filters


def _separable_count(layer, s):
    cin, filters, k, bias = _in_channels(layer, s), as_int(layer.arg("filters")), _kernel_weights(layer), _bias(layer)
    multiplier = as_int(layer.args.get("depth_multiplier", 1))
    if None in (cin, filters, k, bias, multiplier):
        return None
    return k * cin * multiplier + cin * multiplier * filters + bias * filters


def _depthwise_count(layer, s):
    cin, k, bias = _in_channels(layer, s), _kernel_weights(layer), _bias(layer)
    multiplier = as_int(layer.args.get("depth_multiplier", 1))
    if None in (cin, k, bias, multiplier):
        return None
    return k * cin * multiplier + bias * cin * multiplier


def _transpose_count(layer, s):
    cin, filters, k, bias = _in_channels(layer, s), as_int(layer.arg("filters")), _kernel_weights(layer), _bias(layer)
    return None if None in (cin, filters, k, bias) else k * cin * filters + bias * filters


def _conv_sizes(layer, spatial):
    n = _nd(layer)
    kernel, strides, dilation = (ntuple(layer.arg(p), n) for p in ("kernel_size", "strides", "dilation_rate"))
    return tuple(_same_or_valid(s, k, st, layer.arg("padding"), d) for s, k, st, d in zip(spatial, kernel, strides,
                                                                                          dilation))


def _out_filters(layer, channels):
    """The channels a convolution outputs: filters, or channels * depth_multiplier for a depthwise one."""
    if layer.type_name.startswith("DepthwiseConv"):
        return D.mul(channels, as_dim(layer.args.get("depth_multiplier", 1)))
    return as_dim(layer.arg("filters"))


@keras_layer("Conv1D Conv2D Conv3D Convolution1D Convolution2D Convolution3D", CONV, count=_conv_count,
             groups=1, **CONV_DEFAULTS)
def _conv(layer, x, **kw):
    shape, spatial, channels = _spatial_input(layer, x)
    if shape is None:
        return unknown_tensor()
    return _spatial_output(layer, shape[0], _conv_sizes(layer, spatial), _out_filters(layer, channels))


keras_layer("SeparableConv1D SeparableConv2D SeparableConvolution1D SeparableConvolution2D", SEPARABLE,
            count=_separable_count, depth_multiplier=1, **CONV_DEFAULTS)(_conv)
keras_layer("DepthwiseConv1D DepthwiseConv2D", DEPTHWISE, count=_depthwise_count, depth_multiplier=1,
            **CONV_DEFAULTS)(_conv)


def _conv_transpose(layer, x, **kw):
    shape, spatial, channels = _spatial_input(layer, x)
    if shape is None:
        return unknown_tensor()
    n = _nd(layer)
    kernel, strides, dilation = (ntuple(layer.arg(p), n) for p in ("kernel_size", "strides", "dilation_rate"))
    output_padding = layer.arg("output_padding")
    extra = (None,) * n if output_padding is None else ntuple(output_padding, n)
    if output_padding is not None and None in extra:
        return _spatial_output(layer, shape[0], (None,) * n, as_dim(layer.arg("filters")))
    sizes = tuple(_transpose_size(s, k, st, layer.arg("padding"), op, d)
                  for s, k, st, op, d in zip(spatial, kernel, strides, extra, dilation))
    return _spatial_output(layer, shape[0], sizes, as_dim(layer.arg("filters")))


keras_layer("Conv1DTranspose Conv2DTranspose Convolution1DTranspose Convolution2DTranspose", CONV_TRANSPOSE,
            count=_transpose_count, output_padding=None, **CONV_DEFAULTS)(_conv_transpose)
keras_layer("Conv3DTranspose Convolution3DTranspose", CONV3D_TRANSPOSE, count=_transpose_count, output_padding=None,
            **CONV_DEFAULTS)(_conv_transpose)


# -- pooling --------------------------------------------------------------------------------------------------
def _pool(layer, x, **kw):
    shape, spatial, channels = _spatial_input(layer, x)
    if shape is None:
        return unknown_tensor()
    n = _nd(layer)
    size = ntuple(layer.arg("pool_size"), n)
    strides_arg = layer.arg("strides")
    strides = size if strides_arg is None else ntuple(strides_arg, n)
    out = tuple(_same_or_valid(s, k, st, layer.arg("padding")) for s, k, st in zip(spatial, size, strides))
    return _spatial_output(layer, shape[0], out, channels)


keras_layer("MaxPooling1D MaxPooling2D MaxPooling3D AveragePooling1D AveragePooling2D AveragePooling3D "
            "MaxPool1D MaxPool2D MaxPool3D AvgPool1D AvgPool2D AvgPool3D",
            "pool_size, strides, padding, data_format", count=_no_params, pool_size=2, strides=None,
            padding="valid")(_pool)


@keras_layer("GlobalAveragePooling1D GlobalAveragePooling2D GlobalAveragePooling3D GlobalMaxPooling1D "
             "GlobalMaxPooling2D GlobalMaxPooling3D GlobalAvgPool1D GlobalAvgPool2D GlobalAvgPool3D GlobalMaxPool1D "
             "GlobalMaxPool2D GlobalMaxPool3D", "data_format, keepdims", count=_no_params, keepdims=False)
def _global_pool(layer, x, **kw):
    shape, spatial, channels = _spatial_input(layer, x)
    if shape is None:
        return unknown_tensor()
    if layer.arg("keepdims") is True:
        return _spatial_output(layer, shape[0], (1,) * len(spatial), channels)
    return tensor((shape[0], channels)) if layer.arg("keepdims") is False else unknown_tensor()


@keras_layer("AdaptiveAveragePooling1D AdaptiveAveragePooling2D AdaptiveAveragePooling3D AdaptiveMaxPooling1D "
             "AdaptiveMaxPooling2D AdaptiveMaxPooling3D", "output_size, data_format", count=_no_params)
def _adaptive_pool(layer, x, **kw):
    shape, spatial, channels = _spatial_input(layer, x)
    if shape is None:
        return unknown_tensor()
    return _spatial_output(layer, shape[0], ntuple(layer.arg("output_size"), len(spatial)), channels)


# -- reshaping ------------------------------------------------------------------------------------------------
@keras_layer("Flatten", "data_format", count=_no_params)
def _flatten(layer, x, **kw):
    shape = shape_of(x)
    return tensor((shape[0], D.product(shape[1:]))) if shape else unknown_tensor()


@keras_layer("Reshape", "target_shape", count=_no_params)
def _reshape(layer, x, **kw):
    shape, target = shape_of(x), layer.arg("target_shape")
    if shape is None or not isinstance(target, (list, tuple)):
        return unknown_tensor()
    dims = [as_dim(t) for t in target]
    if dims.count(-1) == 1:
        known = D.product(d for d in dims if d != -1)
        dims[dims.index(-1)] = D.exact_div(D.product(shape[1:]), known) if known else None
    return tensor((shape[0],) + tuple(dims))


@keras_layer("Permute", "dims", count=_no_params)
def _permute(layer, x, **kw):
    shape, dims = shape_of(x), layer.arg("dims")
    if shape is None or not isinstance(dims, (list, tuple)) or sorted(dims) != list(range(1, len(shape))):
        return unknown_tensor()
    return tensor((shape[0],) + tuple(shape[d] for d in dims))


@keras_layer("RepeatVector", "n", count=_no_params)
def _repeat_vector(layer, x, **kw):
    shape = shape_of(x)
    if shape is None or len(shape) != 2:
        return unknown_tensor()
    return tensor((shape[0], as_dim(layer.arg("n")), shape[1]))


def _pairs(value, n):
    """ZeroPadding / Cropping amounts as one (before, after) pair per spatial axis, None when not understood:
    an int for every side; for 1-D a pair (before, after); else one int or one pair per axis."""
    if as_int(value) is not None:
        return [(value, value)] * n
    if not isinstance(value, (list, tuple)):
        return None
    if n == 1 and len(value) == 2 and all(as_int(v) is not None for v in value):
        return [tuple(value)]
    if len(value) != n:
        return None
    out = []
    for v in value:
        if as_int(v) is not None:
            out.append((v, v))
        elif isinstance(v, (list, tuple)) and len(v) == 2 and all(as_int(p) is not None for p in v):
            out.append(tuple(v))
        else:
            return None
    return out


def _pad_or_crop(sign, argument):
    def transfer(layer, x, **kw):
        shape, spatial, channels = _spatial_input(layer, x)
        pairs = _pairs(layer.arg(argument), _nd(layer))
        if shape is None or pairs is None:
            return unknown_tensor()
        sizes = tuple(D.add(s, sign * (a + b)) for s, (a, b) in zip(spatial, pairs))
        return _spatial_output(layer, shape[0], sizes, channels)
    return transfer


keras_layer("ZeroPadding1D", "padding", count=_no_params, padding=1)(_pad_or_crop(1, "padding"))
keras_layer("ZeroPadding2D ZeroPadding3D", "padding, data_format", count=_no_params, padding=1)(
    _pad_or_crop(1, "padding"))
keras_layer("Cropping1D", "cropping", count=_no_params, cropping=(1, 1))(_pad_or_crop(-1, "cropping"))
keras_layer("Cropping2D", "cropping, data_format", count=_no_params, cropping=((0, 0), (0, 0)))(
    _pad_or_crop(-1, "cropping"))
keras_layer("Cropping3D", "cropping, data_format", count=_no_params, cropping=((1, 1), (1, 1), (1, 1)))(
    _pad_or_crop(-1, "cropping"))


@keras_layer("UpSampling1D", "size", count=_no_params, size=2)
@keras_layer("UpSampling2D UpSampling3D", "size, data_format", count=_no_params, size=2)
def _upsampling(layer, x, **kw):
    shape, spatial, channels = _spatial_input(layer, x)
    if shape is None:
        return unknown_tensor()
    sizes = tuple(D.mul(s, k) for s, k in zip(spatial, ntuple(layer.arg("size"), len(spatial))))
    return _spatial_output(layer, shape[0], sizes, channels)


@keras_layer("Resizing CenterCrop RandomCrop", "height, width", count=_no_params)
def _resize(layer, x, **kw):
    """Images to height x width: (N, H, W, C) or a single (H, W, C) image."""
    shape = shape_of(x)
    if shape is None or len(shape) not in (3, 4):
        return unknown_tensor()
    size = (as_dim(layer.arg("height")), as_dim(layer.arg("width")))
    if _channels_first(layer):
        return tensor(shape[:-2] + size)
    return tensor(shape[:-3] + size + shape[-1:])


@keras_layer("Lambda", "function, output_shape", count=_no_params)
def _lambda(layer, *args, **kw):
    return unknown_tensor()           # the function is the user's: what it returns is not read here


# -- recurrent layers -----------------------------------------------------------------------------------------
def _rnn_count(layer, s):
    units, width = as_int(layer.arg("units")), as_int(s[-1]) if s else None
    bias = _bias(layer)
    if None in (units, width, bias):
        return None
    if layer.type_name == "LSTM":
        return 4 * (units * (width + units) + bias * units)
    if layer.type_name == "GRU":
        reset_after = _flag(layer, "reset_after")
        return None if reset_after is None else 3 * (units * (width + units) + bias * units * (1 + reset_after))
    return units * (width + units) + bias * units


@keras_layer("LSTM GRU SimpleRNN", "units, activation", count=_rnn_count, return_sequences=False,
             return_state=False)
def _rnn(layer, x, *rest, **kw):
    shape = shape_of(x)
    if shape is None or len(shape) != 3:
        return unknown_tensor()
    units = as_dim(layer.arg("units"))
    out = tensor(shape[:2] + (units,)) if layer.arg("return_sequences") is True else tensor((shape[0], units))
    if layer.arg("return_state") is True:
        states = 2 if layer.type_name == "LSTM" else 1
        return (out,) + tuple(tensor((shape[0], units)) for _ in range(states))
    return out


# -- wrappers: a layer object passed as the argument ------------------------------------------------------------
def _inner(layer, name="layer"):
    """The wrapped layer, when it is a Keras layer of this table."""
    inner = layer.args.get(name)
    kind = getattr(inner, "kind", None)
    if kind not in KERAS_LAYERS or inner.args.get("__unknown__") or inner.args.get("__opaque__"):
        return None
    return inner


def _apply(inner, shape):
    try:
        return KERAS_LAYERS[inner.kind].transfer(inner, tensor(shape))
    except (TypeError, ValueError, ZeroDivisionError, IndexError, AttributeError, OverflowError):
        return unknown_tensor()


def _time_step(shape):
    return None if shape is None or len(shape) < 3 else (shape[0],) + tuple(shape[2:])


@keras_layer("TimeDistributed", "layer",
             count=lambda lay, s: keras_parameter_count(_inner(lay), _time_step(s)) if _inner(lay) else None)
def _time_distributed(layer, x, **kw):
    """The inner layer on every time step: (N, T, *rest) -> (N, T, *inner output without its batch axis)."""
    inner, shape = _inner(layer), shape_of(x)
    step = _time_step(shape)
    if inner is None or step is None:
        return unknown_tensor()
    out = shape_of(_apply(inner, step))
    return unknown_tensor() if out is None else tensor((shape[0], shape[1]) + tuple(out[1:]))


def _bidirectional_count(layer, s):
    forward = _inner(layer)
    backward = _inner(layer, "backward_layer") if layer.args.get("backward_layer") is not None else forward
    if forward is None or backward is None:
        return None
    counts = (keras_parameter_count(forward, s), keras_parameter_count(backward, s))
    return None if None in counts else sum(counts)


MERGE_MODES = ("concat", "sum", "mul", "ave", None)


@keras_layer("Bidirectional", "layer, merge_mode, weights, backward_layer", count=_bidirectional_count,
             merge_mode="concat")
def _bidirectional(layer, x, *rest, **kw):
    """The recurrent layer run both ways, merged: concat doubles the last axis, sum/mul/ave keep it, None
    returns both; with return_state the forward and then the backward states follow."""
    inner, mode = _inner(layer), layer.arg("merge_mode")
    if inner is None or mode not in MERGE_MODES or layer.args.get("backward_layer") is not None:
        return unknown_tensor()
    out = _apply(inner, shape_of(x))
    states = ()
    if isinstance(out, tuple):
        out, states = out[0], out[1:]
    shape = shape_of(out)
    if shape is None:
        return unknown_tensor()
    merged = (tensor(shape), tensor(shape)) if mode is None else (
        tensor(shape[:-1] + (D.mul(shape[-1], 2),)) if mode == "concat" else tensor(shape),)
    if not states and len(merged) == 1:
        return merged[0]
    return merged + tuple(tensor(shape_of(t)) for t in states) * 2


# -- attention ------------------------------------------------------------------------------------------------
MHA = "num_heads, key_dim, value_dim, dropout, use_bias, output_shape, attention_axes"


def _mha_count(layer, s):
    """Four projections: query and key to num_heads x key_dim, value to num_heads x value_dim, and back."""
    shapes = layer.args.get("__input_shapes__")
    heads, key_dim, bias = as_int(layer.arg("num_heads")), as_int(layer.arg("key_dim")), _bias(layer)
    value_dim = as_int(layer.arg("value_dim")) if layer.arg("value_dim") is not None else key_dim
    if shapes is None or None in (heads, key_dim, value_dim, bias) or layer.arg("attention_axes") is not None:
        return None
    widths = [as_int(sh[-1]) if sh else None for sh in shapes]      # query, value, key
    out = layer.arg("output_shape")
    out_dims = (widths[0],) if out is None else (out,) if isinstance(out, int) else tuple(out) if isinstance(
        out, (list, tuple)) else (None,)
    if None in widths or any(as_int(d) is None for d in out_dims):
        return None
    query, value, key = widths
    out_size = prod(out_dims)
    return ((query + bias) * heads * key_dim + (key + bias) * heads * key_dim + (value + bias) * heads * value_dim
            + heads * value_dim * out_size + bias * out_size)


@keras_layer("MultiHeadAttention", MHA, count=_mha_count,
             forward="query, value, key, query_mask, value_mask, key_mask, attention_mask, return_attention_scores, "
                     "training, use_causal_mask", value_dim=None, use_bias=True, output_shape=None,
             attention_axes=None)
def _multi_head_attention(layer, query, value=None, key=None, return_attention_scores=False, **kw):
    """(N, Tq, E) attending to (N, Tv, Ev) -> (N, Tq, output_shape or E); with return_attention_scores also the
    scores (N, num_heads, Tq, Tv)."""
    q, v = shape_of(query), shape_of(value)
    k = shape_of(key) if key is not None else v
    if "__input_shapes__" not in layer.args and None not in (q, v, k):
        layer.args["__input_shapes__"] = (q, v, k)        # Keras builds the projections on the first call
    if q is None or v is None or len(q) != 3 or len(v) != 3 or layer.arg("attention_axes") is not None:
        return unknown_tensor()
    out = layer.arg("output_shape")
    tail = (q[-1],) if out is None else (as_dim(out),) if isinstance(out, int) else tuple(
        as_dim(d) for d in out) if isinstance(out, (list, tuple)) else None
    output = unknown_tensor() if tail is None else tensor(q[:-1] + tail)
    if return_attention_scores is True:
        return output, tensor((q[0], as_dim(layer.arg("num_heads")), q[1], v[1]))
    return output if return_attention_scores is False else unknown_tensor()


def _attention_count(layer, s):
    if layer.type_name == "AdditiveAttention":
        scale = _flag(layer, "use_scale")
        width = as_int(s[-1]) if s else None
        return None if None in (scale, width) else scale * width
    scale, mode = _flag(layer, "use_scale", False), layer.args.get("score_mode", "dot")
    return None if scale is None or mode not in ("dot", "concat") else scale + (mode == "concat")


@keras_layer("Attention AdditiveAttention", "use_scale, score_mode", count=_attention_count)
def _attention(layer, inputs, *rest, **kw):
    """[query (N, Tq, D), value (N, Tv, D), key] -> (N, Tq, D of value)."""
    if not isinstance(inputs, (list, tuple)) or len(inputs) not in (2, 3):
        return unknown_tensor()
    q, v = shape_of(inputs[0]), shape_of(inputs[1])
    if q is None or v is None or len(q) != 3 or len(v) != 3:
        return unknown_tensor()
    return tensor(q[:-1] + v[-1:])


# -- merges ---------------------------------------------------------------------------------------------------
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
            count=_no_params, axis=-1)(_merge)

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


# -- Keras shapes as tensor shapes -----------------------------------------------------------------------------
KERAS_AXIS_NAMES = {1: ("C",), 2: ("L", "C"), 3: ("H", "W", "C"), 4: ("D", "H", "W", "C")}


def keras_shape(declared, solver, batch=None):
    """A Keras shape (batch axis left out, None for a size left open) as a tensor shape: the batch first, and a
    symbol of its own for each open size, so that checks reason about every size the model accepts."""
    names = KERAS_AXIS_NAMES.get(len(declared)) or tuple(f"d{i + 1}" for i in range(len(declared)))
    dims = tuple(d if isinstance(d, int) else solver.fresh(name) for d, name in zip(declared, names))
    return (batch if isinstance(batch, int) else solver.symbol("N"),) + dims

"""Parameter counts of torch.nn layers from their constructor arguments, as `sum(p.numel() for p in
layer.parameters())` would give them. None when an argument it needs is unknown."""

from __future__ import annotations

from math import prod

from .common import as_int, ntuple


def _b(layer, name="bias", default=True):
    value = layer.args.get(name, default)
    return 1 if value is True else 0 if value is False else None


def _known(*values):
    return all(v is not None for v in values)


def _linear(layer):
    i, o, b = as_int(layer.arg("in_features")), as_int(layer.arg("out_features")), _b(layer)
    return i * o + b * o if _known(i, o, b) else None


def _bilinear(layer):
    i1, i2, o = (as_int(layer.arg(k)) for k in ("in1_features", "in2_features", "out_features"))
    b = _b(layer)
    return i1 * i2 * o + b * o if _known(i1, i2, o, b) else None


def _conv(layer):
    n = int(layer.type_name[-2])
    cin, cout, groups, b = (as_int(layer.arg("in_channels")), as_int(layer.arg("out_channels")),
                            as_int(layer.arg("groups", 1)), _b(layer))
    kernel = ntuple(layer.arg("kernel_size"), n)
    if not _known(cin, cout, groups, b) or None in kernel or not groups:
        return None
    if layer.type_name.startswith("ConvTranspose"):
        return cin * (cout // groups) * prod(kernel) + b * cout
    return cout * (cin // groups) * prod(kernel) + b * cout


def _norm(layer):
    c = as_int(layer.arg("num_features"))
    affine = layer.args.get("affine", not layer.type_name.startswith("InstanceNorm"))
    if affine is False:
        return 0
    return 2 * c if c is not None and affine is True else None


def _groupnorm(layer):
    c = as_int(layer.arg("num_channels"))
    affine = layer.args.get("affine", True)
    return 0 if affine is False else (2 * c if c is not None and affine is True else None)


def _layernorm(layer):
    shape = layer.arg("normalized_shape")
    dims = [as_int(d) for d in (shape if isinstance(shape, (list, tuple)) else [shape])]
    affine = layer.args.get("elementwise_affine", True)
    if affine is False:
        return 0
    bias = _b(layer) if layer.type_name == "LayerNorm" else 0
    return prod(dims) * (1 + bias) if None not in dims and affine is True and bias is not None else None


def _embedding(layer):
    n, d = as_int(layer.arg("num_embeddings")), as_int(layer.arg("embedding_dim"))
    return n * d if _known(n, d) else None


def _rnn(layer):
    gates = {"LSTM": 4, "GRU": 3, "RNN": 1}[layer.type_name]
    i, h = as_int(layer.arg("input_size")), as_int(layer.arg("hidden_size"))
    layers, b = as_int(layer.arg("num_layers", 1)), _b(layer)
    bidir = layer.arg("bidirectional", False)
    proj = as_int(layer.args.get("proj_size", 0)) if layer.type_name == "LSTM" else 0
    if proj is None or not _known(i, h, layers, b) or bidir not in (True, False):
        return None
    dirs = 2 if bidir else 1
    out = proj or h                     # with proj_size, h_t is projected to proj_size by weight_hr (proj, h)
    total = 0
    for k in range(layers):
        width = i if k == 0 else out * dirs
        total += dirs * (gates * h * width + gates * h * out + b * 2 * gates * h + proj * h)
    return total


def _rnn_cell(layer):
    gates = {"LSTMCell": 4, "GRUCell": 3, "RNNCell": 1}[layer.type_name]
    i, h, b = as_int(layer.arg("input_size")), as_int(layer.arg("hidden_size")), _b(layer)
    return gates * h * (i + h) + b * 2 * gates * h if _known(i, h, b) else None


def _mha(layer):
    e, b = as_int(layer.arg("embed_dim")), _b(layer)
    if not _known(e, b) or layer.args.get("kdim") not in (None, e) or layer.args.get("vdim") not in (None, e):
        return None
    extra = 2 * e if layer.args.get("add_bias_kv") is True else 0
    return 3 * e * e + b * 3 * e + e * e + b * e + extra


def _encoder_layer(layer):
    e, f = as_int(layer.arg("d_model")), as_int(layer.arg("dim_feedforward", 2048))
    b = _b(layer)
    if not _known(e, f, b):
        return None
    attention = 4 * e * e + b * 4 * e
    feedforward = e * f + b * f + f * e + b * e
    norms = (2 if layer.type_name == "TransformerEncoderLayer" else 3) * (e + b * e)
    cross = attention if layer.type_name == "TransformerDecoderLayer" else 0
    return attention + cross + feedforward + norms


def _encoder_stack(layer):
    inner = layer.args.get("encoder_layer", layer.args.get("decoder_layer"))
    count = as_int(layer.arg("num_layers"))
    if not hasattr(inner, "args") or count is None:
        return None
    each = parameter_count(inner)
    norm = layer.args.get("norm")
    extra = parameter_count(norm) if hasattr(norm, "args") else 0
    return each * count + extra if each is not None and extra is not None else None


def _prelu(layer):
    return as_int(layer.arg("num_parameters", 1))


COUNTS = {"Linear": _linear, "Bilinear": _bilinear, "Embedding": _embedding, "EmbeddingBag": _embedding,
          "GroupNorm": _groupnorm, "LayerNorm": _layernorm, "RMSNorm": _layernorm, "LSTM": _rnn, "GRU": _rnn,
          "RNN": _rnn, "LSTMCell": _rnn_cell, "GRUCell": _rnn_cell, "RNNCell": _rnn_cell, "MultiheadAttention": _mha,
          "TransformerEncoderLayer": _encoder_layer, "TransformerDecoderLayer": _encoder_layer, "PReLU": _prelu,
          "TransformerEncoder": _encoder_stack, "TransformerDecoder": _encoder_stack}
for _n in ("Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"):
    COUNTS[_n] = _conv
for _n in ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm", "InstanceNorm1d", "InstanceNorm2d",
           "InstanceNorm3d"):
    COUNTS[_n] = _norm

# layers with no parameters of their own
PARAMETER_FREE_PREFIXES = ("ReLU", "ReLU6", "LeakyReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish", "Sigmoid", "Tanh",
                           "Hardtanh", "Hardswish", "Hardsigmoid", "Softplus", "Softsign", "Softmax", "LogSoftmax",
                           "Softmin", "Dropout", "AlphaDropout", "Identity", "Flatten", "Unflatten", "MaxPool",
                           "AvgPool", "AdaptiveAvgPool", "AdaptiveMaxPool", "LPPool", "Upsample", "PixelShuffle",
                           "PixelUnshuffle", "ZeroPad", "ConstantPad", "ReflectionPad", "ReplicationPad", "CircularPad",
                           "LogSigmoid", "Threshold", "GLU", "ChannelShuffle", "LocalResponseNorm", "CosineSimilarity",
                           "PairwiseDistance", "Tanhshrink", "Softshrink", "Hardshrink", "RReLU", "Unfold", "Fold",
                           "QuantStub", "DeQuantStub", "FloatFunctional")


def parameter_count(layer):
    """The number of parameters of one torch layer, or None when not known."""
    if layer.args.get("__unknown__"):
        return None
    fn = COUNTS.get(layer.type_name)
    if fn is not None:
        try:
            return fn(layer)
        except (TypeError, ValueError, ZeroDivisionError):
            return None
    if layer.type_name.startswith(PARAMETER_FREE_PREFIXES) or layer.type_name.endswith("Loss"):
        return 0
    return None

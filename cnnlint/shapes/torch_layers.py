"""Transfer functions of torch.nn layers: one table, keyed by the layer's canonical name.

Each entry knows the constructor's parameters (to bind positional arguments) and computes the output of a call
*assuming the layer accepts its input*: Linear replaces the last axis whatever arrived. Whether it does accept
is for the rules to judge (rules/), so that one bug gives one finding, not a cascade.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..values import UNKNOWN, Tensor
from . import dims as D
from .functions import parse_axes
from .common import (adaptive_spatial, as_dim, as_int, conv_spatial, conv_transpose_out, halve_axis, norm_axis,
                     ntuple, pad_shape, pixel_shuffle_shape, pool_spatial, shape_of, tensor, unknown_tensor)


@dataclass
class LayerSpec:
    kind: str
    params: tuple                      # constructor parameters in positional order
    defaults: dict = field(default_factory=dict)
    transfer: Callable = None          # (layer, *inputs, **kwargs) -> value
    forward_params: tuple = ("input",)
    axes: tuple = ()                   # constructor arguments that name an axis of the input (for CNN111)


LAYERS: dict = {}


def registrar(table, prefix, default_forward="input", counts=None):
    """A decorator that registers a transfer function under one or more layer names of a framework's table."""
    def register_layer(names, params="", forward=default_forward, count=None, **defaults):
        params_t = tuple(p.strip() for p in params.split(",") if p.strip())
        forward_t = tuple(p.strip() for p in forward.split(",") if p.strip())

        def register(fn):
            for name in names.split():
                kind = prefix + name
                table[kind] = LayerSpec(kind, params_t, dict(defaults), fn, forward_t)
                if count is not None and counts is not None:
                    counts[kind] = count
            return fn

        return register

    return register_layer


layer = registrar(LAYERS, "torch.nn.")


def _nd(layer_obj) -> int:
    """1, 2 or 3 from a layer name such as Conv2d or MaxPool3d."""
    name = layer_obj.type_name
    for n in (1, 2, 3):
        if f"{n}d" in name:
            return n
    return 2


# -- identity-shaped layers ---------------------------------------------------------------------------------
IDENTITY = """ReLU ReLU6 LeakyReLU PReLU RReLU ELU SELU CELU GELU SiLU Mish Sigmoid Tanh Hardtanh Hardswish
Hardsigmoid Hardshrink Softshrink Softplus Softsign Tanhshrink Threshold LogSigmoid Softmin Softmax LogSoftmax
Softmax2d Dropout Dropout1d Dropout2d Dropout3d AlphaDropout FeatureAlphaDropout Identity LocalResponseNorm
ChannelShuffle"""


# the identity-shaped layers that take a tensor of any shape (no channel axis, no dim): a probe for the model's input
# passes through them to the first layer that tells its shape (cnnlint.analysis)
PROBE_TRANSPARENT_LAYERS = {f"torch.nn.{n}" for n in IDENTITY.split()} - {
    f"torch.nn.{n}" for n in "PReLU Softmin Softmax LogSoftmax Softmax2d Dropout1d Dropout2d Dropout3d "
                             "LocalResponseNorm ChannelShuffle".split()} | {
    "torch.nn.QuantStub", "torch.nn.DeQuantStub"}


@layer(IDENTITY, "", dim=None, inplace=False, p=0.5)
def _identity(lay, x, *rest, **kw):
    if isinstance(x, Tensor):
        return Tensor(x.shape, dtype=x.dtype)
    return unknown_tensor()


# quantization-ready models: the stubs pass the float tensor on (until a model is converted), FloatFunctional's
# methods are the torch functions (extract/torch_calls.py), calling it itself raises in torch
@layer("QuantStub DeQuantStub", "qconfig", qconfig=None)
def _quant_stub(lay, x, *rest, **kw):
    return Tensor(x.shape, dtype=x.dtype) if isinstance(x, Tensor) else unknown_tensor()


@layer("FloatFunctional", "")
def _float_functional(lay, *args, **kw):
    return unknown_tensor()


FLOAT_FUNCTIONAL_METHODS = {"add": "torch.add", "cat": "torch.cat", "mul": "torch.mul", "add_relu": "torch.add",
                            "add_scalar": "torch.add", "mul_scalar": "torch.mul", "matmul": "torch.matmul"}


# the arguments of these matter to rules (dim) or are read positionally
for _name, _params in {"Softmax": "dim", "LogSoftmax": "dim", "Softmin": "dim", "Dropout": "p, inplace",
                       "Dropout1d": "p, inplace", "Dropout2d": "p, inplace", "Dropout3d": "p, inplace",
                       "LeakyReLU": "negative_slope, inplace", "ReLU": "inplace", "ReLU6": "inplace",
                       "ELU": "alpha, inplace", "Hardtanh": "min_val, max_val", "Threshold": "threshold, value",
                       "PReLU": "num_parameters, init", "GELU": "approximate", "SiLU": "inplace",
                       "ChannelShuffle": "groups", "LocalResponseNorm": "size"}.items():
    LAYERS[f"torch.nn.{_name}"].params = tuple(p.strip() for p in _params.split(","))


@layer("GLU", "dim", dim=-1)
def _glu(lay, x, **kw):
    return tensor(halve_axis(shape_of(x), lay.arg("dim", -1)))


# -- linear ---------------------------------------------------------------------------------------------------
@layer("Linear", "in_features, out_features, bias", bias=True)
def _linear(lay, x, **kw):
    shape = shape_of(x)
    if not shape:
        return unknown_tensor()
    return tensor(shape[:-1] + (as_dim(lay.arg("out_features")),))


@layer("LazyLinear", "out_features, bias", bias=True)
def _lazy_linear(lay, x, **kw):
    return _linear(lay, x)


@layer("Bilinear", "in1_features, in2_features, out_features, bias", forward="input1, input2", bias=True)
def _bilinear(lay, x1, x2=None, **kw):
    return _linear(lay, x1)


# -- embeddings ---------------------------------------------------------------------------------------------
@layer("Embedding", "num_embeddings, embedding_dim, padding_idx, max_norm", padding_idx=None)
def _embedding(lay, x, **kw):
    shape = shape_of(x)
    if shape is None:
        return unknown_tensor()
    return tensor(shape + (as_dim(lay.arg("embedding_dim")),), dtype="float")


@layer("EmbeddingBag", "num_embeddings, embedding_dim, max_norm, norm_type, scale_grad_by_freq, mode",
       forward="input, offsets")
def _embedding_bag(lay, x, offsets=None, **kw):
    shape = shape_of(x)
    if shape is None or len(shape) != 2:
        return unknown_tensor()
    return tensor((shape[0], as_dim(lay.arg("embedding_dim"))), dtype="float")


# -- convolution ----------------------------------------------------------------------------------------------
CONV_PARAMS = "in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode"


@layer("Conv1d Conv2d Conv3d", CONV_PARAMS, stride=1, padding=0, dilation=1, groups=1, bias=True)
def _conv(lay, x, **kw):
    n = _nd(lay)
    shape = shape_of(x)
    if shape is None or len(shape) not in (n + 1, n + 2):
        return unknown_tensor()
    out_spatial = conv_spatial(shape[-n:], n, lay.arg("kernel_size"), lay.arg("stride"), lay.arg("padding"),
                               lay.arg("dilation"))
    return tensor(shape[:-n - 1] + (as_dim(lay.arg("out_channels")),) + out_spatial)


@layer("LazyConv1d LazyConv2d LazyConv3d", "out_channels, kernel_size, stride, padding, dilation, groups, bias",
       stride=1, padding=0, dilation=1, groups=1, bias=True)
def _lazy_conv(lay, x, **kw):
    return _conv(lay, x)


CONVT_PARAMS = ("in_channels, out_channels, kernel_size, stride, padding, output_padding, groups, bias, dilation, "
                "padding_mode")


@layer("ConvTranspose1d ConvTranspose2d ConvTranspose3d", CONVT_PARAMS, forward="input, output_size",
       stride=1, padding=0, output_padding=0, groups=1, bias=True, dilation=1)
def _conv_transpose(lay, x, output_size=None, **kw):
    n = _nd(lay)
    shape = shape_of(x)
    if shape is None or len(shape) not in (n + 1, n + 2):
        return unknown_tensor()
    channels = (as_dim(lay.arg("out_channels")),)
    if output_size is not None:
        size = list(output_size) if isinstance(output_size, (list, tuple)) else None
        if size is None:
            return tensor(shape[:-n - 1] + channels + (None,) * n)
        return tensor(shape[:-n - 1] + channels + tuple(as_dim(s) for s in size[-n:]))
    params = [ntuple(lay.arg(p), n) for p in ("kernel_size", "stride", "padding", "dilation", "output_padding")]
    out = [conv_transpose_out(s, k, st, p, d, op) for s, k, st, p, d, op in zip(shape[-n:], *params)]
    return tensor(shape[:-n - 1] + channels + tuple(out))


# -- normalisation ------------------------------------------------------------------------------------------
@layer("BatchNorm1d BatchNorm2d BatchNorm3d InstanceNorm1d InstanceNorm2d InstanceNorm3d SyncBatchNorm",
       "num_features, eps, momentum, affine, track_running_stats")
def _batchnorm(lay, x, **kw):
    return _identity(lay, x)


@layer("LayerNorm", "normalized_shape, eps, elementwise_affine, bias")
def _layernorm(lay, x, **kw):
    return _identity(lay, x)


@layer("RMSNorm", "normalized_shape, eps, elementwise_affine")
def _rmsnorm(lay, x, **kw):
    return _identity(lay, x)


@layer("GroupNorm", "num_groups, num_channels, eps, affine")
def _groupnorm(lay, x, **kw):
    return _identity(lay, x)


# -- pooling --------------------------------------------------------------------------------------------------
@layer("MaxPool1d MaxPool2d MaxPool3d", "kernel_size, stride, padding, dilation, return_indices, ceil_mode",
       stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False)
def _maxpool(lay, x, **kw):
    out = _pool(lay, x, dilation=ntuple(lay.arg("dilation"), _nd(lay)))
    if lay.arg("return_indices") is True:
        return (out, Tensor(out.shape, dtype="long"))
    return out


@layer("AvgPool1d AvgPool2d AvgPool3d",
       "kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override",
       stride=None, padding=0, ceil_mode=False)
def _avgpool(lay, x, **kw):
    return _pool(lay, x, dilation=(1,) * _nd(lay))


@layer("LPPool1d LPPool2d LPPool3d", "norm_type, kernel_size, stride, ceil_mode", stride=None, ceil_mode=False)
def _lppool(lay, x, **kw):
    return _pool(lay, x, dilation=(1,) * _nd(lay))


def _pool(lay, x, dilation):
    n = _nd(lay)
    shape = shape_of(x)
    if shape is None or len(shape) not in (n + 1, n + 2):
        return unknown_tensor()
    return tensor(shape[:-n] + pool_spatial(shape[-n:], n, lay.arg("kernel_size"), lay.arg("stride"),
                                            lay.arg("padding", 0), dilation, lay.arg("ceil_mode", False)))


@layer("AdaptiveAvgPool1d AdaptiveAvgPool2d AdaptiveAvgPool3d AdaptiveMaxPool1d AdaptiveMaxPool2d AdaptiveMaxPool3d",
       "output_size, return_indices", return_indices=False)
def _adaptive_pool(lay, x, **kw):
    n = _nd(lay)
    shape = shape_of(x)
    if shape is None or len(shape) not in (n + 1, n + 2):
        return unknown_tensor()
    out = tensor(shape[:-n] + adaptive_spatial(shape[-n:], n, lay.arg("output_size")))
    if lay.arg("return_indices") is True:
        return (out, Tensor(out.shape, dtype="long"))
    return out


# -- reshaping ------------------------------------------------------------------------------------------------
@layer("Flatten", "start_dim, end_dim", start_dim=1, end_dim=-1)
def _flatten(lay, x, **kw):
    from .functions import flatten_shape
    return flatten_shape(x, lay.arg("start_dim"), lay.arg("end_dim"))


@layer("Unfold", "kernel_size, dilation, padding, stride", dilation=1, padding=0, stride=1)
def _unfold_layer(lay, x, **kw):
    from .functions import unfold_shape
    return unfold_shape(shape_of(x), lay.arg("kernel_size"), lay.arg("stride"), lay.arg("padding"),
                        lay.arg("dilation"))


@layer("Fold", "output_size, kernel_size, dilation, padding, stride", dilation=1, padding=0, stride=1)
def _fold_layer(lay, x, **kw):
    from .functions import fold_shape
    return fold_shape(shape_of(x), lay.arg("output_size"), lay.arg("kernel_size"), lay.arg("stride"),
                      lay.arg("padding"), lay.arg("dilation"))


@layer("Unflatten", "dim, unflattened_size")
def _unflatten(lay, x, **kw):
    shape = shape_of(x)
    size = lay.arg("unflattened_size")
    if shape is None or not isinstance(size, (list, tuple)):
        return unknown_tensor()
    axis = norm_axis(lay.arg("dim"), len(shape))
    if axis is None:
        return unknown_tensor()
    parts = [as_dim(s) for s in size]
    if -1 in parts and parts.count(-1) == 1:
        known = D.product(p for p in parts if p != -1)
        parts[parts.index(-1)] = D.exact_div(shape[axis], known)
    return tensor(shape[:axis] + tuple(parts) + shape[axis + 1:])


@layer("Upsample UpsamplingNearest2d UpsamplingBilinear2d", "size, scale_factor, mode, align_corners",
       size=None, scale_factor=None, mode="nearest")
def _upsample(lay, x, **kw):
    from .functions import interpolate_shape
    return interpolate_shape(x, lay.arg("size"), lay.arg("scale_factor"))


@layer("PixelShuffle", "upscale_factor")
def _pixel_shuffle(lay, x, **kw):
    return tensor(pixel_shuffle_shape(shape_of(x), lay.arg("upscale_factor")))


@layer("PixelUnshuffle", "downscale_factor")
def _pixel_unshuffle(lay, x, **kw):
    shape = shape_of(x)
    r = as_int(lay.arg("downscale_factor"))
    if shape is None or len(shape) < 3 or r is None:
        return unknown_tensor()
    c, h, w = shape[-3:]
    return tensor(shape[:-3] + (D.mul(c, r * r), D.exact_div(h, r), D.exact_div(w, r)))


PAD_LAYERS = ("ZeroPad1d ZeroPad2d ZeroPad3d ConstantPad1d ConstantPad2d ConstantPad3d ReflectionPad1d "
              "ReflectionPad2d ReflectionPad3d ReplicationPad1d ReplicationPad2d ReplicationPad3d CircularPad1d "
              "CircularPad2d CircularPad3d")


@layer(PAD_LAYERS, "padding, value")
def _pad(lay, x, **kw):
    n = _nd(lay)
    shape = shape_of(x)
    if shape is None or len(shape) < n:
        return unknown_tensor()
    pad = lay.arg("padding")
    if isinstance(pad, int) and not isinstance(pad, bool):
        pad = [pad] * (2 * n)
    if not isinstance(pad, (list, tuple)) or len(pad) != 2 * n:
        return tensor(shape[:-n] + (None,) * n)
    return tensor(pad_shape(shape, pad))


# -- recurrent ----------------------------------------------------------------------------------------------
RNN_PARAMS = "input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, proj_size"


@layer("LSTM GRU", RNN_PARAMS, forward="input, hx", num_layers=1, bias=True, batch_first=False, dropout=0.0,
       bidirectional=False, proj_size=0)
def _rnn(lay, x, hx=None, **kw):
    shape = shape_of(x)
    hidden = as_dim(lay.arg("hidden_size"))
    proj = as_int(lay.arg("proj_size", 0))
    out_size = proj if proj else hidden
    bidir = lay.arg("bidirectional")
    directions = 2 if bidir is True else 1 if bidir is False else None
    layers = as_dim(lay.arg("num_layers"))
    feat = D.mul(directions, out_size) if directions is not None else None
    if shape is None or len(shape) not in (2, 3):
        out = unknown_tensor()
        batch = None
        unbatched = None
    else:
        out = tensor(shape[:-1] + (feat,))
        unbatched = len(shape) == 2
        batch_first = lay.arg("batch_first")
        if unbatched:
            batch = None
        elif batch_first is True:
            batch = shape[0]
        elif batch_first is False:
            batch = shape[1]
        else:
            batch = None
    h_layers = D.mul(directions, layers) if directions is not None else None
    h_shape = (h_layers, out_size) if unbatched else (h_layers, batch, out_size)
    h = tensor(h_shape) if unbatched is not None else unknown_tensor()
    if lay.type_name == "LSTM":
        c_shape = (h_layers, hidden) if unbatched else (h_layers, batch, hidden)
        c = tensor(c_shape) if unbatched is not None else unknown_tensor()
        return (out, (h, c))
    return (out, h)


@layer("RNN", "input_size, hidden_size, num_layers, nonlinearity, bias, batch_first, dropout, bidirectional",
       forward="input, hx", num_layers=1, nonlinearity="tanh", bias=True, batch_first=False, dropout=0.0,
       bidirectional=False)
def _plain_rnn(lay, x, hx=None, **kw):
    return _rnn(lay, x, hx)


@layer("RNNCell GRUCell LSTMCell", "input_size, hidden_size, bias", forward="input, hx", bias=True)
def _rnn_cell(lay, x, hx=None, **kw):
    shape = shape_of(x)
    if shape is None or len(shape) not in (1, 2):
        return unknown_tensor() if lay.type_name != "LSTMCell" else (unknown_tensor(), unknown_tensor())
    h = tensor(shape[:-1] + (as_dim(lay.arg("hidden_size")),))
    if lay.type_name == "LSTMCell":
        return (h, tensor(h.shape))
    return h


# -- attention and transformers -------------------------------------------------------------------------------
@layer("MultiheadAttention",
       "embed_dim, num_heads, dropout, bias, add_bias_kv, add_zero_attn, kdim, vdim, batch_first",
       forward="query, key, value, key_padding_mask, need_weights, attn_mask, average_attn_weights, is_causal",
       dropout=0.0, bias=True, batch_first=False, kdim=None, vdim=None)
def _mha(lay, query, key=None, value=None, key_padding_mask=None, need_weights=True, **kw):
    shape = shape_of(query)
    if shape is None or len(shape) not in (2, 3):
        out = unknown_tensor()
    else:
        out = tensor(shape[:-1] + (as_dim(lay.arg("embed_dim")),))
    weights = None if need_weights is False else unknown_tensor()
    return (out, weights)


@layer("TransformerEncoderLayer",
       "d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first, norm_first, bias",
       forward="src, src_mask, src_key_padding_mask, is_causal", dim_feedforward=2048, batch_first=False)
def _encoder_layer(lay, src, *rest, **kw):
    return _identity(lay, src)


@layer("TransformerDecoderLayer",
       "d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first, norm_first, bias",
       forward="tgt, memory, tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask",
       dim_feedforward=2048, batch_first=False)
def _decoder_layer(lay, tgt, *rest, **kw):
    return _identity(lay, tgt)


@layer("TransformerEncoder", "encoder_layer, num_layers, norm, enable_nested_tensor, mask_check",
       forward="src, mask, src_key_padding_mask, is_causal")
def _encoder(lay, src, *rest, **kw):
    return _identity(lay, src)


@layer("TransformerDecoder", "decoder_layer, num_layers, norm",
       forward="tgt, memory, tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask")
def _decoder(lay, tgt, *rest, **kw):
    return _identity(lay, tgt)


@layer("Transformer", "d_model, nhead, num_encoder_layers, num_decoder_layers, dim_feedforward, dropout",
       forward="src, tgt", d_model=512, nhead=8)
def _transformer(lay, src, tgt=None, **kw):
    shape = shape_of(tgt)
    if shape is None:
        return unknown_tensor()
    return tensor(shape[:-1] + (as_dim(lay.arg("d_model")),))


# -- distances and losses ---------------------------------------------------------------------------------
@layer("CosineSimilarity PairwiseDistance", "dim, eps", forward="x1, x2", dim=1)
def _similarity(lay, x1, x2=None, **kw):
    shape = shape_of(x1)
    if shape is None:
        return unknown_tensor()
    if lay.type_name == "PairwiseDistance":
        return tensor(shape[:-1])
    axis = norm_axis(lay.arg("dim"), len(shape))
    return tensor(shape[:axis] + shape[axis + 1:]) if axis is not None else unknown_tensor()


LOSSES = ("CrossEntropyLoss NLLLoss MSELoss L1Loss BCELoss BCEWithLogitsLoss SmoothL1Loss HuberLoss KLDivLoss "
          "CTCLoss MarginRankingLoss HingeEmbeddingLoss CosineEmbeddingLoss TripletMarginLoss PoissonNLLLoss "
          "GaussianNLLLoss MultiLabelMarginLoss MultiLabelSoftMarginLoss MultiMarginLoss SoftMarginLoss")


@layer(LOSSES, "weight", forward="input, target", reduction="mean")
def _loss(lay, inp, target=None, *rest, **kw):
    if lay.arg("reduction") in ("mean", "sum"):
        return tensor(())
    return unknown_tensor()


for _name in LOSSES.split():
    if _name in ("MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "SoftMarginLoss"):
        LAYERS[f"torch.nn.{_name}"].params = ("size_average", "reduce", "reduction")
    elif _name in ("CrossEntropyLoss", "NLLLoss"):
        LAYERS[f"torch.nn.{_name}"].params = ("weight", "size_average", "ignore_index", "reduce", "reduction")


# the constructor arguments that name an axis of the input, as in the function table's axes=
for _names, _axes in (("Softmax LogSoftmax Softmin GLU Unflatten", "dim"), ("Flatten", "start_dim end_dim")):
    for _name in _names.split():
        LAYERS[f"torch.nn.{_name}"].axes = parse_axes(_axes)


# Containers are modules but have no transfer of their own: the evaluator runs Sequential's children.
# constructor parameters that are always a count of features or channels (a positive int): one the code does not
# pin down is a symbol, so that the layers after it are still followed and checked for every value it may take
SIZE_PARAMS = {"in_channels", "out_channels", "in_features", "out_features", "num_features", "num_channels",
               "embed_dim", "hidden_size", "input_size", "embedding_dim", "d_model", "in1_features", "in2_features"}

# Wrappers that run the module they are given, registered as their child `module`
WRAPPERS = {"torch.nn.DataParallel", "torch.nn.parallel.DataParallel", "torch.nn.parallel.DistributedDataParallel"}
CONTAINERS = {"torch.nn.Sequential", "torch.nn.ModuleList", "torch.nn.ModuleDict", "torch.nn.ParameterList",
              "torch.nn.ParameterDict", "keras.Sequential"} | WRAPPERS
# the public attributes every nn.Module has, and those torch's containers add (checked against torch in
# tests/test_module_state.py): `hasattr(nn.Sequential(...), "init_weights")` is False, and calling it raises
MODULE_ATTRS = frozenset("""add_module apply bfloat16 buffers call_super_init children compile cpu cuda double
dump_patches eval extra_repr float forward get_buffer get_extra_state get_parameter get_submodule half ipu
load_state_dict modules mtia named_buffers named_children named_modules named_parameters parameters
register_backward_hook register_buffer register_forward_hook register_forward_pre_hook register_full_backward_hook
register_full_backward_pre_hook register_load_state_dict_post_hook register_load_state_dict_pre_hook register_module
register_parameter register_state_dict_post_hook register_state_dict_pre_hook requires_grad_ set_extra_state
set_submodule share_memory state_dict to to_empty train type xpu zero_grad training T_destination""".split())
CONTAINER_ATTRS = {f"torch.nn.{k}": frozenset(v.split()) for k, v in {
    "Sequential": "append extend insert pop", "ModuleList": "append extend insert pop",
    "ModuleDict": "clear items keys pop update values", "ParameterList": "append extend",
    "ParameterDict": "clear copy fromkeys get items keys pop popitem setdefault update values"}.items()}


def container_has(kind: str, name: str, children=()):
    """hasattr(a torch container, name): True, False, or None (a private name: not said)."""
    if kind not in CONTAINER_ATTRS:
        return None
    if name in MODULE_ATTRS or name in CONTAINER_ATTRS[kind] or name in children:   # children are attributes
        return True
    return None if name.startswith("_") else False


# containers that run their children in order
SEQUENTIALS = {"torch.nn.Sequential", "keras.Sequential"} | WRAPPERS

# nn.Module methods that leave the module's layers as they are, and what a call returns: "self" for the ones that
# return the module (`Net().to(device)`, `nn.Conv1d(...).float()`), "none" or "value" (something else, unknown)
MODULE_METHODS = {
    **dict.fromkeys("to cuda cpu float double half bfloat16 train eval requires_grad_ apply type share_memory "
                    "to_empty xpu ipu mps".split(), "self"),
    **dict.fromkeys("zero_grad load_state_dict register_forward_hook register_forward_pre_hook "
                    "register_full_backward_hook register_backward_hook state_dict parameters named_parameters "
                    "buffers named_buffers modules named_modules children named_children extra_repr".split(),
                    "value"),
}


# the torch.nn classes of the tables that derive from another one of them (checked against torch in
# tests/test_probe_guess.py): every other pair is unrelated, so `isinstance(conv, nn.Identity)` is False
TORCH_SUBCLASSES = {f"torch.nn.{a}": f"torch.nn.{b}" for a, b in (
    ("LazyConv1d", "Conv1d"), ("LazyConv2d", "Conv2d"), ("LazyConv3d", "Conv3d"), ("LazyLinear", "Linear"),
    ("ReLU6", "Hardtanh"), ("UpsamplingBilinear2d", "Upsample"), ("UpsamplingNearest2d", "Upsample"),
    ("ZeroPad1d", "ConstantPad1d"), ("ZeroPad2d", "ConstantPad2d"), ("ZeroPad3d", "ConstantPad3d"))}


def layer_is_a(kind: str, name: str):
    """isinstance(a layer of `kind`, the torch class `name`): True, False, or None when it cannot be said."""
    if name in (kind, "torch.nn.Module") or TORCH_SUBCLASSES.get(kind) == name:
        return True
    tabled = {kind, name} <= (LAYERS.keys() | CONTAINERS)
    return False if tabled and kind.startswith("torch.nn.") and name.startswith("torch.nn.") and not any(
        ".parallel." in k or "DataParallel" in k for k in (kind, name)) else None


def spec_for(kind: str):
    return LAYERS.get(kind)


def unknown_output(*args, **kwargs):
    return UNKNOWN

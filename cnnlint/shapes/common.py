"""Helpers shared by the transfer-function tables: reading evaluated arguments and building output tensors."""

from __future__ import annotations

from ..values import UNKNOWN, Tensor
from . import dims as D


def as_dim(v):
    """An evaluated value as a dimension: int or symbolic Expr, else None (unknown)."""
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, D.Expr)):
        return v
    return None


def as_int(v):
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def ntuple(v, n):
    """kernel_size=3 -> (3, 3); (3, 5) -> (3, 5); anything not evaluable -> (None,) * n."""
    if isinstance(v, (list, tuple)):
        if len(v) == n:
            return tuple(as_dim(x) for x in v)
        if len(v) == 1:
            return (as_dim(v[0]),) * n
        return (None,) * n
    return (as_dim(v),) * n


def unknown_tensor(dtype=None):
    return Tensor(None, dtype=dtype)


def tensor(shape, dtype=None):
    return Tensor(tuple(shape) if shape is not None else None, dtype=dtype)


def shape_of(x):
    """The shape of a value if it is a tensor with a known rank, else None."""
    if isinstance(x, Tensor):
        return x.shape
    return None


def norm_axis(axis, rank):
    """A possibly negative axis into [0, rank), or None when out of range or unknown."""
    axis = as_int(axis)
    if axis is None or rank is None:
        return None
    if axis < 0:
        axis += rank
    return axis if 0 <= axis < rank else None


def is_known(value) -> bool:
    return value is not UNKNOWN


def conv_out(size, kernel, stride, padding, dilation):
    """floor((L + 2p - d(k-1) - 1) / s) + 1, the size formula of conv and max-pool layers."""
    if None in (size, kernel, stride, padding, dilation):
        return None
    span = D.add(D.mul(dilation, D.sub(kernel, 1)), 1)
    return D.add(D.floordiv(D.sub(D.add(size, D.mul(2, padding)), span), stride), 1)


def pool_out(size, kernel, stride, padding, dilation, ceil_mode):
    if not ceil_mode:
        return conv_out(size, kernel, stride, padding, dilation)
    if None in (size, kernel, stride, padding, dilation):
        return None
    span = D.add(D.mul(dilation, D.sub(kernel, 1)), 1)
    numer = D.sub(D.add(size, D.mul(2, padding)), span)
    out = D.add(D.ceildiv(numer, stride), 1)
    if isinstance(out, int) and isinstance(size, int):
        # torch: the last window must start inside the input or the left padding
        if (out - 1) * stride >= size + padding:
            out -= 1
        return out
    if isinstance(stride, int) and isinstance(kernel, int) and isinstance(padding, int) and stride <= kernel - padding:
        return out   # the correction can never apply
    return None


def conv_transpose_out(size, kernel, stride, padding, dilation, output_padding):
    if None in (size, kernel, stride, padding, dilation, output_padding):
        return None
    out = D.mul(D.sub(size, 1), stride)
    out = D.sub(out, D.mul(2, padding))
    out = D.add(out, D.mul(dilation, D.sub(kernel, 1)))
    return D.add(D.add(out, output_padding), 1)


# -- shape formulas shared by a layer and its functional form (nn.Conv2d and F.conv2d, ...) --------------------
def conv_spatial(spatial, n, kernel, stride, padding, dilation):
    """Output sizes of a convolution; padding may be "same", "valid", an int or a tuple."""
    if padding == "same":
        return tuple(spatial)
    kernel, stride, dilation = ntuple(kernel, n), ntuple(stride, n), ntuple(dilation, n)
    pads = (0,) * n if padding == "valid" else ntuple(padding, n)
    return tuple(conv_out(s, k, st, p, d) for s, k, st, p, d in zip(spatial, kernel, stride, pads, dilation))


def pool_spatial(spatial, n, kernel, stride, padding, dilation, ceil_mode):
    """Output sizes of max/avg/LP pooling; stride None (or empty) means the kernel size."""
    if ceil_mode not in (True, False):
        return (None,) * n
    kernel = ntuple(kernel, n)
    stride = kernel if stride is None or stride == () or stride == [] else ntuple(stride, n)
    padding, dilation = ntuple(padding, n), ntuple(dilation, n)
    return tuple(pool_out(s, k, st, p, d, ceil_mode) for s, k, st, p, d in zip(spatial, kernel, stride, padding,
                                                                               dilation))


def adaptive_spatial(spatial, n, output_size):
    """Output sizes of adaptive pooling: an int, or a tuple in which None keeps the input size."""
    if isinstance(output_size, (list, tuple)):
        if len(output_size) != n:
            return (None,) * n
        return tuple(spatial[i] if s is None else as_dim(s) for i, s in enumerate(output_size))
    return (as_dim(output_size),) * n


def pixel_shuffle_shape(shape, r):
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r); None when unknown."""
    if shape is None or len(shape) < 3 or as_int(r) is None:
        return None
    c, h, w = shape[-3:]
    return shape[:-3] + (D.exact_div(c, r * r), D.mul(h, r), D.mul(w, r))


def halve_axis(shape, dim):
    """GLU: the axis `dim` halved; None when unknown."""
    axis = norm_axis(dim, None if shape is None else len(shape))
    if axis is None:
        return None
    out = list(shape)
    out[axis] = D.floordiv(out[axis], 2)
    return tuple(out)


def pad_shape(shape, pads):
    """F.pad / nn.*Pad: pads run from the last axis backwards (left, right, top, bottom, ...)."""
    if shape is None or not isinstance(pads, (list, tuple)) or len(pads) % 2 or len(pads) // 2 > len(shape):
        return None
    out = list(shape)
    for i in range(len(pads) // 2):
        axis = len(shape) - 1 - i
        out[axis] = D.add(D.add(out[axis], as_dim(pads[2 * i])), as_dim(pads[2 * i + 1]))
    return tuple(out)

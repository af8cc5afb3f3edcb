"""Random Keras model *source code* for differential tests against Keras itself.

`keras_models()` is a hypothesis strategy producing `GeneratedKerasModel`s: the text of a module that defines one
model, `model`, either as `keras.Sequential([keras.Input(...), ...])` or as a functional chain
`x1 = layers.Conv2D(...)(x0)` ending in `keras.Model(inputs, x, name="model")`, with an occasional residual
`layers.add([...])` / `layers.Concatenate()([...])` in the functional ones. Images (H, W, C), sequences (T, C),
token ids (T,) through an Embedding, and flat vectors.

The generator follows the shape (without the batch axis) only to choose layers that fit, and says whether it
believes Keras will build the model (`expect_build`: sizes stay >= 1). What the layers output is not claimed
here: Keras, building the same text, is the oracle (tests/test_keras_random.py).
"""
from __future__ import annotations

import dataclasses
import math

from hypothesis import strategies as st

IMPORT_STYLES = (
    ("import keras\nfrom keras import layers\n", "keras"),
    ("from tensorflow import keras\nfrom tensorflow.keras import layers\n", "keras"),
)


@dataclasses.dataclass
class GeneratedKerasModel:
    source: str
    style: str                 # "sequential" | "functional"
    family: str                # "image" | "sequence" | "tokens" | "flat"
    expect_build: bool         # the generator's belief: Keras builds it (no size below 1)


def _conv_size(n, k, s, padding, d=1):
    if padding in ("same", "causal"):
        return math.ceil(n / s)
    return (n - d * (k - 1) - 1) // s + 1


def _transpose_size(n, k, s, padding, output_padding):
    if padding == "valid":
        extra = max(k, s) - k if output_padding is None else output_padding
        return (n - 1) * s + k + extra
    return n * s if output_padding is None else (n - 1) * s + k % 2 + output_padding


class _Builder:
    def __init__(self, style):
        self.style = style
        self.layers = []            # source of each layer expression, in order
        self.lines = []             # functional: the assignment lines
        self.var = "x0"
        self.count = 0
        self.ok = True
        self.saved = None           # (variable, shape) kept for a residual

    def add(self, expr, shape, call_args=None):
        """A layer applied to the current tensor; `call_args` replaces `(x)` (functional only)."""
        if any(d < 1 for d in shape):
            self.ok = False
        self.count += 1
        if self.style == "sequential":
            self.layers.append(expr)
        else:
            new = f"x{self.count}"
            self.lines.append(f"{new} = {expr}({call_args or self.var})")
            self.var = new
        return tuple(shape)


def _image_step(draw, b, shape):
    h, w, c = shape
    kind = draw(st.sampled_from(["conv", "conv", "depthwise", "separable", "transpose", "pool", "zeropad", "crop",
                                 "upsample", "identity", "time_distributed", "end"]))
    small = min(h, w)
    if kind == "conv":
        f, k = draw(st.sampled_from([4, 8, 12])), draw(st.integers(1, min(5, max(1, small))))
        s, padding = draw(st.sampled_from([1, 1, 2])), draw(st.sampled_from(["valid", "same"]))
        d = draw(st.sampled_from([1, 1, 2])) if s == 1 else 1
        groups = draw(st.sampled_from([g for g in (1, 1, 2, 4) if c % g == 0 and f % g == 0]))
        extra = (f", strides={s}" if s != 1 else "") + (f", dilation_rate={d}" if d != 1 else "") + (
            f", groups={groups}" if groups != 1 else "")
        expr = f"layers.Conv2D({f}, {k}{extra}, padding={padding!r}, activation='relu')"
        return b.add(expr, (_conv_size(h, k, s, padding, d), _conv_size(w, k, s, padding, d), f))
    if kind == "depthwise":
        k, s = draw(st.integers(1, min(3, max(1, small)))), draw(st.sampled_from([1, 2]))
        padding, m = draw(st.sampled_from(["valid", "same"])), draw(st.sampled_from([1, 2]))
        expr = f"layers.DepthwiseConv2D({k}, strides={s}, padding={padding!r}, depth_multiplier={m})"
        return b.add(expr, (_conv_size(h, k, s, padding), _conv_size(w, k, s, padding), c * m))
    if kind == "separable":
        f, k = draw(st.sampled_from([4, 8])), draw(st.integers(1, min(3, max(1, small))))
        s, padding, m = draw(st.sampled_from([1, 2])), draw(st.sampled_from(["valid", "same"])), draw(
            st.sampled_from([1, 2]))
        use_bias = draw(st.booleans())
        expr = f"layers.SeparableConv2D({f}, ({k}, {k}), strides={s}, padding={padding!r}, depth_multiplier={m}, " \
               f"use_bias={use_bias})"
        return b.add(expr, (_conv_size(h, k, s, padding), _conv_size(w, k, s, padding), f))
    if kind == "transpose":
        if max(h, w) > 24:
            return shape
        f, k, s = draw(st.sampled_from([4, 8])), draw(st.integers(1, 4)), draw(st.sampled_from([1, 2]))
        padding = draw(st.sampled_from(["valid", "same"]))
        op = draw(st.sampled_from([None] + list(range(s))))
        extra = "" if op is None else f", output_padding={op}"
        expr = f"layers.Conv2DTranspose({f}, {k}, strides={s}, padding={padding!r}{extra})"
        return b.add(expr, (_transpose_size(h, k, s, padding, op), _transpose_size(w, k, s, padding, op), f))
    if kind == "pool":
        name = draw(st.sampled_from(["MaxPooling2D", "AveragePooling2D"]))
        p, padding = draw(st.integers(2, 3)), draw(st.sampled_from(["valid", "same"]))
        s = draw(st.sampled_from([None, 1, 2]))
        stride = p if s is None else s
        extra = "" if s is None else f", strides={s}"
        return b.add(f"layers.{name}({p}{extra}, padding={padding!r})",
                     (_conv_size(h, p, stride, padding), _conv_size(w, p, stride, padding), c))
    if kind == "zeropad":
        (t, bo), (le, r) = draw(st.tuples(st.tuples(st.integers(0, 2), st.integers(0, 2)),
                                          st.tuples(st.integers(0, 2), st.integers(0, 2))))
        return b.add(f"layers.ZeroPadding2D((({t}, {bo}), ({le}, {r})))", (h + t + bo, w + le + r, c))
    if kind == "crop":
        t, bo, le, r = (draw(st.integers(0, 2)) for _ in range(4))
        return b.add(f"layers.Cropping2D((({t}, {bo}), ({le}, {r})))", (h - t - bo, w - le - r, c))
    if kind == "upsample":
        if max(h, w) > 24:
            return shape
        sh, sw = draw(st.sampled_from([(2, 2), (2, 1), (1, 3)]))
        return b.add(f"layers.UpSampling2D(({sh}, {sw}))", (h * sh, w * sw, c))
    if kind == "identity":
        expr = draw(st.sampled_from(["layers.BatchNormalization()", "layers.ReLU()", "layers.Dropout(0.2)",
                                     "layers.Activation('tanh')", "layers.LayerNormalization()"]))
        return b.add(expr, shape)
    if kind == "time_distributed":     # the rows as time steps: a Conv1D or a Dense on each
        if draw(st.booleans()):
            f, k = draw(st.sampled_from([4, 6])), draw(st.integers(1, min(3, w)))
            return b.add(f"layers.TimeDistributed(layers.Conv1D({f}, {k}))", (h, w - k + 1, f))
        f = draw(st.sampled_from([3, 5]))
        return b.add(f"layers.TimeDistributed(layers.Dense({f}))", (h, w, f))
    # end of the image part: to a vector
    how = draw(st.sampled_from(["flatten", "gap", "gmp_keep"]))
    if how == "flatten":
        return b.add("layers.Flatten()", (h * w * c,))
    if how == "gap":
        return b.add("layers.GlobalAveragePooling2D()", (c,))
    return b.add("layers.GlobalMaxPooling2D(keepdims=True)", (1, 1, c))


def _sequence_step(draw, b, shape):
    t, c = shape
    kinds = ["conv", "separable", "depthwise", "transpose", "pool", "pad_crop", "rnn", "rnn", "bidirectional",
             "time_distributed", "dense", "identity", "permute", "end"]
    if b.style == "functional":
        kinds.append("attention")
    kind = draw(st.sampled_from(kinds))
    if kind == "conv":
        f, k = draw(st.sampled_from([4, 8])), draw(st.integers(1, min(5, t)))
        s, padding = draw(st.sampled_from([1, 2])), draw(st.sampled_from(["valid", "same", "causal"]))
        return b.add(f"layers.Conv1D({f}, {k}, strides={s}, padding={padding!r})", (_conv_size(t, k, s, padding), f))
    if kind == "separable":
        f, k, m = draw(st.sampled_from([4, 8])), draw(st.integers(1, min(3, t))), draw(st.sampled_from([1, 3]))
        return b.add(f"layers.SeparableConv1D({f}, {k}, depth_multiplier={m})", (t - k + 1, f))
    if kind == "depthwise":
        k, m, padding = draw(st.integers(1, min(3, t))), draw(st.sampled_from([1, 2])), draw(
            st.sampled_from(["valid", "same"]))
        return b.add(f"layers.DepthwiseConv1D({k}, depth_multiplier={m}, padding={padding!r})",
                     (_conv_size(t, k, 1, padding), c * m))
    if kind == "transpose":
        if t > 40:
            return shape
        f, k, s = draw(st.sampled_from([4, 8])), draw(st.integers(1, 4)), draw(st.sampled_from([1, 2, 3]))
        padding = draw(st.sampled_from(["valid", "same"]))
        op = draw(st.sampled_from([None] + list(range(s))))
        extra = "" if op is None else f", output_padding={op}"
        return b.add(f"layers.Conv1DTranspose({f}, {k}, strides={s}, padding={padding!r}{extra})",
                     (_transpose_size(t, k, s, padding, op), f))
    if kind == "pool":
        p = draw(st.integers(2, 3))
        return b.add(f"layers.MaxPooling1D({p})", (_conv_size(t, p, p, "valid"), c))
    if kind == "pad_crop":
        a, z = draw(st.integers(0, 3)), draw(st.integers(0, 3))
        if draw(st.booleans()):
            return b.add(f"layers.ZeroPadding1D(({a}, {z}))", (t + a + z, c))
        return b.add(f"layers.Cropping1D(({a}, {z}))", (t - a - z, c))
    if kind == "rnn":
        name, units = draw(st.sampled_from(["LSTM", "GRU", "SimpleRNN"])), draw(st.sampled_from([4, 6, 8]))
        if draw(st.booleans()):
            return b.add(f"layers.{name}({units}, return_sequences=True)", (t, units))
        return b.add(f"layers.{name}({units})", (units,))
    if kind == "bidirectional":
        name, units = draw(st.sampled_from(["LSTM", "GRU"])), draw(st.sampled_from([4, 6]))
        mode = draw(st.sampled_from(["concat", "sum", "mul", "ave"]))
        width = units * 2 if mode == "concat" else units
        if draw(st.booleans()):
            return b.add(f"layers.Bidirectional(layers.{name}({units}, return_sequences=True), merge_mode={mode!r})",
                         (t, width))
        return b.add(f"layers.Bidirectional(layers.{name}({units}), merge_mode={mode!r})", (width,))
    if kind == "time_distributed":
        units = draw(st.sampled_from([3, 5, 8]))
        return b.add(f"layers.TimeDistributed(layers.Dense({units}, activation='relu'))", (t, units))
    if kind == "dense":
        units = draw(st.sampled_from([4, 8]))
        return b.add(f"layers.Dense({units})", (t, units))
    if kind == "identity":
        expr = draw(st.sampled_from(["layers.LayerNormalization()", "layers.Dropout(0.1)",
                                     "layers.BatchNormalization()", "layers.Masking()"]))
        return b.add(expr, shape)
    if kind == "permute":
        return b.add("layers.Permute((2, 1))", (c, t))
    if kind == "attention":
        heads, key_dim = draw(st.integers(1, 3)), draw(st.sampled_from([2, 4]))
        out = draw(st.sampled_from([None, 6]))
        extra = "" if out is None else f", output_shape={out}"
        return b.add(f"layers.MultiHeadAttention({heads}, {key_dim}{extra})", (t, out or c),
                     call_args=f"{b.var}, {b.var}")
    how = draw(st.sampled_from(["gap", "gmp", "flatten"]))
    if how == "gap":
        return b.add("layers.GlobalAveragePooling1D()", (c,))
    if how == "gmp":
        return b.add("layers.GlobalMaxPooling1D()", (c,))
    return b.add("layers.Flatten()", (t * c,))


def _flat_step(draw, b, shape):
    (d,) = shape
    kind = draw(st.sampled_from(["dense", "dense", "identity", "repeat", "reshape"]))
    if kind == "dense":
        units = draw(st.sampled_from([4, 8, 16]))
        use_bias = draw(st.sampled_from([True, True, False]))
        return b.add(f"layers.Dense({units}, activation='relu', use_bias={use_bias})", (units,))
    if kind == "identity":
        return b.add(draw(st.sampled_from(["layers.Dropout(0.5)", "layers.BatchNormalization()",
                                           "layers.LayerNormalization()"])), shape)
    if kind == "repeat":
        n = draw(st.integers(2, 6))
        return b.add(f"layers.RepeatVector({n})", (n, d))
    divisors = [k for k in (2, 3, 4) if d % k == 0]
    if not divisors:
        return shape
    k = draw(st.sampled_from(divisors))
    return b.add(f"layers.Reshape(({k}, -1))", (k, d // k))


STEPS = {1: _flat_step, 2: _sequence_step, 3: _image_step}


@st.composite
def keras_models(draw):
    style = draw(st.sampled_from(["sequential", "functional"]))
    family = draw(st.sampled_from(["image", "sequence", "tokens", "flat"]))
    header, _ = draw(st.sampled_from(IMPORT_STYLES))
    b = _Builder(style)
    if family == "image":
        shape = (draw(st.integers(6, 20)), draw(st.integers(6, 20)), draw(st.sampled_from([1, 3, 4])))
    elif family == "sequence":
        shape = (draw(st.integers(4, 24)), draw(st.sampled_from([2, 5, 8])))
    elif family == "tokens":
        shape = (draw(st.integers(4, 24)),)
    else:
        shape = (draw(st.sampled_from([6, 12, 20])),)
    input_shape = shape
    if family == "tokens":
        vocab, dim = draw(st.sampled_from([50, 100])), draw(st.sampled_from([4, 8]))
        shape = b.add(f"layers.Embedding({vocab}, {dim})", shape + (dim,))
    for _ in range(draw(st.integers(1, 7))):
        if not b.ok:
            break                   # a size below 1: Keras will refuse it here, nothing to add after it
        if style == "functional" and b.saved is None and draw(st.sampled_from([False, False, True])):
            b.saved = (b.var, shape)
        shape = STEPS[len(shape)](draw, b, shape)
        if style == "functional" and b.saved is not None and b.saved[0] != b.var:
            var, saved = b.saved
            if saved == shape and draw(st.booleans()):
                merge = draw(st.sampled_from(["layers.add", "layers.Add()", "layers.Multiply()"]))
                shape = b.add(merge, shape, call_args=f"[{b.var}, {var}]")
                b.saved = None
            elif len(saved) == len(shape) and saved[:-1] == shape[:-1] and draw(st.booleans()):
                shape = b.add("layers.Concatenate()", shape[:-1] + (shape[-1] + saved[-1],),
                              call_args=f"[{b.var}, {var}]")
                b.saved = None
    if len(shape) != 1:
        shape = b.add("layers.Flatten()", (math.prod(shape),))
    b.add(f"layers.Dense({draw(st.sampled_from([1, 3, 10]))})", (1,))
    dims = "".join(f"{d}, " for d in input_shape).rstrip(" ")
    source = header + "\n"
    if style == "sequential":
        body = "".join(f"    {expr},\n" for expr in b.layers)
        source += f"model = keras.Sequential([\n    keras.Input(shape=({dims})),\n{body}], name=\"model\")\n"
    else:
        source += f"x0 = keras.Input(shape=({dims}))\n" + "".join(line + "\n" for line in b.lines)
        source += f"model = keras.Model(x0, {b.var}, name=\"model\")\n"
    return GeneratedKerasModel(source, style, family, b.ok)

"""Random PyTorch model *source code* for differential tests against torch.

`models()` is a hypothesis strategy producing `GeneratedModel`s: the text of a
module holding one ``class Net(nn.Module)`` (constructible without arguments)
whose ``__init__`` defines a random stack of layers and whose ``forward`` calls
them in order, with ``# cnnlint: input=(...)`` on the line above the class.

While generating, the true tensor shape is tracked with torch's own size
formulas, so the generator knows which leaf-module calls happen and with which
output shapes, and whether torch will raise. Layer arguments that depend on the
incoming shape (in_channels, num_features, in_features, input_size, view sizes)
are correct most of the time and deliberately off some of the time; spatial
sizes may collapse below 1. `run_in_torch` executes a generated model in torch
and records what really happened, so the generator itself can be checked.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import math
import uuid
import warnings
from pathlib import Path

from hypothesis import strategies as st

# sampled_from shrinks towards the first element: failures shrink towards "correct".
WRONG = st.sampled_from([False] * 8 + [True])
RARELY = st.sampled_from([False] * 4 + [True])
OFTEN = st.sampled_from([True, True, False])

FAMILIES = ("conv2d", "conv1d", "seq", "mlp")


@dataclasses.dataclass
class GeneratedModel:
    source: str
    family: str  # one of FAMILIES
    input_shape: tuple[int, ...]
    dtype: str  # "float" or "long"
    expect_error: bool  # the generator's claim: torch raises (construction or forward)
    error_reason: str | None  # first reason the generator knows of
    # (dotted module name, output shape) per leaf call, in order; for an erroring
    # model only the calls before the failing one.
    expected_calls: list[tuple[str, tuple[int, ...]]]

    def input_comment(self) -> str:
        dims = ", ".join(str(d) for d in self.input_shape)
        return f"# cnnlint: input=({dims})" + (" dtype=long" if self.dtype == "long" else "")


@dataclasses.dataclass
class TorchRun:
    raised: bool
    error: str | None  # "ExcType: message" when raised
    calls: list[tuple[str, tuple[int, ...]]]  # (leaf name, output shape) per leaf call
    output_shape: tuple[int, ...] | None
    params: int | None = None  # sum(p.numel() for p in model.parameters()) when the model was built


# --------------------------------------------------------------------------- torch side


def make_input(input_shape, dtype):
    import torch

    torch.manual_seed(0)
    if dtype == "long":
        return torch.randint(0, 2, tuple(input_shape), dtype=torch.long)
    return torch.randn(*input_shape)


def run_in_torch(source: str, path, input_shape, dtype) -> TorchRun:
    """Write `source` to `path`, import it, build ``Net()`` and run it on an input.

    Every leaf module (no child modules) gets a forward hook recording
    (name from named_modules(), output shape); a tuple output records element 0.
    """
    import torch

    path = Path(path)
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(f"cnnlint_gen_{uuid.uuid4().hex}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # a failure here is a generator bug: let it propagate

    calls: list[tuple[str, tuple[int, ...]]] = []

    def hook_for(name):
        def hook(_module, _inputs, output):
            out = output[0] if isinstance(output, (tuple, list)) else output
            calls.append((name, tuple(int(d) for d in out.shape)))

        return hook

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model = mod.Net()
            for name, sub in model.named_modules():
                if next(iter(sub.children()), None) is None:
                    sub.register_forward_hook(hook_for(name))
            model.eval()
            out = model(make_input(input_shape, dtype))
        except Exception as exc:  # torch raises RuntimeError, ValueError, IndexError...
            return TorchRun(True, f"{type(exc).__name__}: {exc}", calls, None)
    out = out[0] if isinstance(out, (tuple, list)) else out
    return TorchRun(False, None, calls, tuple(int(d) for d in out.shape),
                    sum(p.numel() for p in model.parameters()))


# --------------------------------------------------------------------------- shape formulas (torch's)


def conv_out(size, k, s, p, d):
    """Conv output length, or None when torch raises (dilated kernel larger than padded input)."""
    if p == "same":
        return size
    if p == "valid":
        p = 0
    if size + 2 * p < d * (k - 1) + 1:
        return None
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def pool_out(size, k, s, p, d, ceil_mode):
    """aten's pooling_output_shape; None when the output would be < 1 (torch raises)."""
    out = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out if out >= 1 else None


# --------------------------------------------------------------------------- generation helpers


class _Tracker:
    """The shape the source intends. After an error it keeps going (clamped) so the
    rest of the model can still be generated, but `error` stays set."""

    def __init__(self, shape):
        self.shape = tuple(shape)
        self.error: str | None = None

    @property
    def ok(self):
        return self.error is None

    def fail(self, why):
        if self.error is None:
            self.error = why


class _Builder:
    def __init__(self, tracker: _Tracker):
        self.t = tracker
        self.init_lines: list[str] = []
        self.fwd_lines: list[str] = []
        self.calls: list[tuple[str, tuple[int, ...]]] = []
        self.counts: dict[str, int] = {}
        self.defined: set[str] = set()
        self._seq: tuple[str, list[str]] | None = None

    def fresh(self, base):
        n = self.counts.get(base, 0) + 1
        self.counts[base] = n
        return f"{base}{n}"

    def open_seq(self, attr):
        self.close_seq()
        self._seq = (attr, [])

    def close_seq(self):
        if self._seq is None:
            return
        attr, items = self._seq
        self._seq = None
        if not items:
            return
        body = "".join(f"            {c},\n" for c in items)
        self.init_lines.append(f"        self.{attr} = nn.Sequential(\n{body}        )")
        self.fwd_lines.append(f"        x = self.{attr}(x)")

    @property
    def in_seq(self):
        return self._seq is not None

    def add(self, base, ctor, *, shared=False, call="x = self.{attr}(x)"):
        """Register one leaf module and one call of it. The caller has already
        updated the tracker to the module's output (or failed it)."""
        if self._seq is not None and call == "x = self.{attr}(x)":
            attr, items = self._seq
            name = f"{attr}.{len(items)}"
            items.append(ctor)
        else:
            self.close_seq()
            if shared:
                name = base
                if name not in self.defined:
                    self.defined.add(name)
                    self.init_lines.append(f"        self.{name} = {ctor}")
            else:
                name = self.fresh(base)
                self.init_lines.append(f"        self.{name} = {ctor}")
            self.fwd_lines.append("        " + call.format(attr=name))
        if self.t.ok:
            self.calls.append((name, self.t.shape))

    def stmt(self, line):
        self.close_seq()
        self.fwd_lines.append("        " + line)

    def render(self, input_comment, draw):
        self.close_seq()
        sup = draw(st.sampled_from(["super().__init__()", "super(Net, self).__init__()"]))
        lines = [
            "import torch",
            "import torch.nn as nn",
            "",
            "",
            input_comment,
            "class Net(nn.Module):",
            "    def __init__(self):",
            f"        {sup}",
            *self.init_lines,
            "",
            "    def forward(self, x):",
            *self.fwd_lines,
            "        return x",
            "",
        ]
        return "\n".join(lines)


def _ctor(draw, fn, params, max_pos=None):
    """Render ``fn(...)``. params: [(kwname, value, default)], required ones have
    default=_REQ. A random number of leading params is positional, the rest are
    keywords, shown when not default (and now and then when default)."""
    n_req = sum(1 for _, _, dflt in params if dflt is _REQ)
    hi = len(params) if max_pos is None else max_pos
    npos = draw(st.sampled_from([n_req] * 3 + list(range(0, hi + 1))))
    parts = []
    for i, (name, value, dflt) in enumerate(params):
        if i < npos:
            parts.append(repr(value))
        elif dflt is _REQ or value != dflt or (dflt is not None and draw(RARELY) and draw(RARELY)):
            parts.append(f"{name}={value!r}")
    return f"{fn}({', '.join(parts)})"


_REQ = object()


def _off(draw, true):
    """A deliberately wrong positive value != true."""
    modes = ["plus", "double"] + (["minus", "half"] if true > 1 else [])
    mode = draw(st.sampled_from(modes))
    if mode == "plus":
        return true + draw(st.integers(1, 32))
    if mode == "minus":
        return true - draw(st.integers(1, min(true - 1, 32)))
    if mode == "double":
        return true * 2
    return max(1, true // 2) if true // 2 != true else true + 1


def _maybe_wrong(draw, true, what, tracker):
    if draw(WRONG):
        tracker.fail(f"wrong {what}")
        return _off(draw, true)
    return true


def _per_dim(draw, nd, tuple_form, strat):
    if tuple_form:
        return tuple(draw(strat) for _ in range(nd))
    v = draw(strat)
    return (v,) * nd


def _fmt(vals, tuple_form):
    return tuple(vals) if tuple_form else vals[0]


# --------------------------------------------------------------------------- layers


def _conv(draw, b: _Builder, nd):
    t = b.t
    n, c_true, *spatial = t.shape
    cin = _maybe_wrong(draw, c_true, "in_channels", t)
    groups = 1
    if draw(RARELY):
        divs = [g for g in range(2, cin + 1) if cin % g == 0]
        if divs:
            groups = draw(st.sampled_from(divs))
    if groups > 1:
        cout = groups * draw(st.integers(1, 3))
    else:
        cout = draw(st.integers(1, 24))
    tuple_form = nd == 2 and draw(RARELY)
    k = _per_dim(draw, nd, tuple_form, st.integers(1, 5))
    s = _per_dim(draw, nd, tuple_form, st.sampled_from([1, 1, 1, 2, 2, 3]))
    d = _per_dim(draw, nd, tuple_form, st.sampled_from([1, 1, 1, 2]))
    if all(x == 1 for x in s) and draw(st.sampled_from([False, False, True])):
        pad = "same"
        pads = ("same",) * nd
    elif draw(st.sampled_from([False] * 9 + [True])):
        pad = "valid"
        pads = ("valid",) * nd
    else:
        pads = _per_dim(draw, nd, tuple_form, st.integers(0, 2))
        pad = _fmt(pads, tuple_form)
    bias = draw(st.sampled_from([True, True, False]))
    params = [
        ("in_channels", cin, _REQ),
        ("out_channels", cout, _REQ),
        ("kernel_size", _fmt(k, tuple_form), _REQ),
        ("stride", _fmt(s, tuple_form), 1),
        ("padding", pad, 0),
        ("dilation", _fmt(d, tuple_form), 1),
        ("groups", groups, 1),
        ("bias", bias, True),
    ]
    ctor = _ctor(draw, f"nn.Conv{nd}d", params, max_pos=5)
    new_spatial = []
    for size, kk, ss, pp, dd in zip(spatial, k, s, pads, d):
        o = conv_out(size, kk, ss, pp, dd)
        if o is None:
            t.fail("spatial collapse (conv)")
            o = 1
        new_spatial.append(o)
    t.shape = (n, cout, *new_spatial)
    b.add("conv", ctor)


def _pool(draw, b: _Builder, nd):
    t = b.t
    n, c, *spatial = t.shape
    kind = draw(st.sampled_from(["max", "avg"]))
    k = draw(st.sampled_from([2, 2, 2, 3, 3, 1, 4, 5]))
    stride = draw(st.sampled_from([None, None, 1, 2, 2, 3]))
    p = draw(st.integers(0, k // 2)) if draw(RARELY) else 0
    ceil = draw(st.sampled_from([False, False, True]))
    dil = draw(st.sampled_from([1] * 5 + [2])) if kind == "max" else 1
    params = [("kernel_size", k, _REQ), ("stride", stride, None), ("padding", p, 0)]
    if kind == "max":
        params.append(("dilation", dil, 1))
    params.append(("ceil_mode", ceil, False))
    ctor = _ctor(draw, f"nn.{'Max' if kind == 'max' else 'Avg'}Pool{nd}d", params,
                 max_pos=1 if stride is None else 3)
    s = k if stride is None else stride
    new_spatial = []
    for size in spatial:
        o = pool_out(size, k, s, p, dil, ceil)
        if o is None:
            t.fail("spatial collapse (pool)")
            o = 1
        new_spatial.append(o)
    t.shape = (n, c, *new_spatial)
    b.add("pool", ctor)


def _adaptive(draw, b: _Builder, nd):
    t = b.t
    n, c, *spatial = t.shape
    if nd == 1:
        o = draw(st.sampled_from([1, 1, 2, 4]))
        arg = o
        new = [o]
    else:
        form = draw(st.sampled_from(["int", "int", "tuple", "none"]))
        if form == "int":
            o = draw(st.sampled_from([1, 1, 2, 3]))
            arg, new = o, [o, o]
        elif form == "tuple":
            new = [draw(st.integers(1, 4)), draw(st.integers(1, 4))]
            arg = tuple(new)
        else:
            o = draw(st.integers(1, 3))
            arg = (None, o)
            new = [spatial[0], o]
    ctor = _ctor(draw, f"nn.AdaptiveAvgPool{nd}d", [("output_size", arg, _REQ)])
    t.shape = (n, c, *new)
    b.add("gap", ctor)


def _batchnorm(draw, b: _Builder, nd):
    t = b.t
    c = _maybe_wrong(draw, t.shape[1], "num_features", t)
    params = [("num_features", c, _REQ), ("eps", 1e-05, 1e-05), ("momentum", 0.1, 0.1),
              ("affine", draw(st.sampled_from([True, True, True, False])), True)]
    b.add("bn", _ctor(draw, f"nn.BatchNorm{nd}d", params, max_pos=1))


def _relu(draw, b: _Builder, shared, ctor):
    b.add("relu", ctor, shared=shared and not b.in_seq)


def _dropout(draw, b: _Builder, allow_2d):
    kind = "nn.Dropout2d" if allow_2d and draw(RARELY) else "nn.Dropout"
    p = draw(st.sampled_from([0.5, 0.5, 0.1, 0.25]))
    b.add("drop", _ctor(draw, kind, [("p", p, 0.5)]))


def _flatten(draw, b: _Builder, allow_module=True, allow_view=True):
    """allow_view=False: x may be non-contiguous (batch_first RNN output), where .view raises."""
    t = b.t
    n = t.shape[0]
    feat = math.prod(t.shape[1:])
    kinds = ["torch.flatten", "reshape", "method", "view_k"] + (["view"] if allow_view else [])
    if allow_module:
        kinds += ["module", "module"]
    kind = draw(st.sampled_from(kinds))
    if kind == "view_k":
        k = feat
        if draw(st.sampled_from([False, False, True])):
            k = draw(st.sampled_from([feat + 1, feat * 2] + ([feat // 2] if feat % 2 == 0 else [])))
        numel = n * feat
        if numel % k:
            t.fail("view numel mismatch")
            t.shape = (n, k)
        else:
            t.shape = (numel // k, k)
        forms = ["x = x.reshape(-1, {k})"] + (["x = x.view(-1, {k})"] if allow_view else [])
        form = draw(st.sampled_from(forms))
        b.stmt(form.format(k=k))
        return
    t.shape = (n, feat)
    if kind == "module":
        ctor = draw(st.sampled_from(["nn.Flatten()", "nn.Flatten(1)", "nn.Flatten(start_dim=1)"]))
        b.add("flatten", ctor)
    else:
        line = {
            "torch.flatten": "x = torch.flatten(x, 1)",
            "view": "x = x.view(x.size(0), -1)",
            "reshape": "x = x.reshape(x.size(0), -1)",
            "method": "x = x.flatten(1)",
        }[kind]
        b.stmt(line)


def _linear(draw, b: _Builder, out=None):
    t = b.t
    fin = _maybe_wrong(draw, t.shape[-1], "in_features", t)
    fout = draw(st.integers(1, 64)) if out is None else out
    params = [("in_features", fin, _REQ), ("out_features", fout, _REQ),
              ("bias", draw(st.sampled_from([True, True, True, False])), True)]
    t.shape = t.shape[:-1] + (fout,)
    b.add("fc", _ctor(draw, "nn.Linear", params))


def _head(draw, b: _Builder, n_linear, relu_ctor, shared_relu):
    for i in range(n_linear):
        last = i == n_linear - 1
        _linear(draw, b, out=draw(st.integers(1, 20)) if last else None)
        if last:
            break
        if len(b.t.shape) == 2 and b.t.shape[0] >= 2 and draw(RARELY):
            _batchnorm(draw, b, 1)
        if draw(OFTEN):
            _relu(draw, b, shared_relu, relu_ctor)
        if draw(RARELY):
            _dropout(draw, b, allow_2d=False)


# --------------------------------------------------------------------------- families


def _conv_model(draw, nd):
    n = draw(st.integers(2, 4))
    c = draw(st.integers(1, 8))
    small = draw(RARELY)
    size = st.integers(1, 8) if small else (st.integers(4, 40) if nd == 2 else st.integers(4, 96))
    if nd == 2:
        h = draw(size)
        w = h if draw(OFTEN) else draw(size)
        spatial = (h, w)
    else:
        spatial = (draw(size),)
    shape = (n, c, *spatial)
    t = _Tracker(shape)
    b = _Builder(t)
    style = draw(st.sampled_from(["attr", "blocks", "features"]))
    shared_relu = style == "attr" and draw(st.booleans())
    relu_ctor = draw(st.sampled_from(["nn.ReLU()", "nn.ReLU(inplace=True)"]))
    if style == "features":
        b.open_seq("features")
    for _ in range(draw(st.integers(1, 4))):
        if style == "blocks":
            b.open_seq(b.fresh("block"))
        _conv(draw, b, nd)
        if draw(st.booleans()):
            _batchnorm(draw, b, nd)
        if draw(OFTEN):
            _relu(draw, b, shared_relu, relu_ctor)
        if draw(st.booleans()):
            _pool(draw, b, nd)
        if draw(RARELY):
            _dropout(draw, b, allow_2d=nd == 2)
    ending = draw(st.sampled_from(["gap", "gap", "flatten", "flatten", "linear_last", "none"]))
    if ending == "none":
        return b, shape
    if ending == "gap":
        _adaptive(draw, b, nd)
    if ending in ("gap", "flatten"):
        if style != "attr" and draw(st.booleans()):
            b.open_seq("classifier")
        _flatten(draw, b)
        if style != "attr" and not b.in_seq and draw(st.booleans()):
            b.open_seq("classifier")
    _head(draw, b, draw(st.integers(1, 3)), relu_ctor, shared_relu)
    return b, shape


def _seq_model(draw):
    n = draw(st.integers(2, 4))
    length = draw(st.integers(1, 20))
    shape = (n, length)
    t = _Tracker(shape)
    b = _Builder(t)
    vocab = draw(st.integers(2, 50))
    emb = draw(st.integers(1, 32))
    params = [("num_embeddings", vocab, _REQ), ("embedding_dim", emb, _REQ),
              ("padding_idx", draw(st.sampled_from([None, None, 0])), None)]
    t.shape = (n, length, emb)
    b.add("embed", _ctor(draw, "nn.Embedding", params))
    for _ in range(draw(st.integers(1, 2))):
        kind = draw(st.sampled_from(["LSTM", "GRU"]))
        fin = _maybe_wrong(draw, t.shape[-1], "input_size", t)
        hidden = draw(st.integers(1, 32))
        layers = draw(st.sampled_from([1, 1, 2, 3]))
        bidir = draw(st.booleans())
        batch_first = draw(st.sampled_from([True, True, True, False]))
        dropout = draw(st.sampled_from([0.0, 0.0, 0.1])) if layers > 1 else 0.0
        params = [("input_size", fin, _REQ), ("hidden_size", hidden, _REQ),
                  ("num_layers", layers, 1), ("bias", True, True),
                  ("batch_first", batch_first, False), ("dropout", dropout, 0.0),
                  ("bidirectional", bidir, False)]
        ctor = _ctor(draw, f"nn.{kind}", params, max_pos=2)
        calls = ["x, _ = self.{attr}(x)", "x, _ = self.{attr}(x)", "x = self.{attr}(x)[0]"]
        if kind == "LSTM":
            calls.append("x, (h, c) = self.{attr}(x)")
        # batch_first=False reads (N, L, E) as (seq=N, batch=L): the shape passes through alike.
        t.shape = t.shape[:2] + (hidden * (2 if bidir else 1),)
        b.add(kind.lower(), ctor, call=draw(st.sampled_from(calls)))
    red = draw(st.sampled_from(["last", "last3", "first", "none", "flatten"]))
    if red == "flatten":
        _flatten(draw, b, allow_module=False, allow_view=False)
    elif red != "none":
        b.stmt({"last": "x = x[:, -1]", "last3": "x = x[:, -1, :]", "first": "x = x[:, 0]"}[red])
        t.shape = (t.shape[0],) + t.shape[2:]
    if draw(RARELY):
        _dropout(draw, b, allow_2d=False)
    # no inplace ReLU here: x may be a view of an RNN output
    _head(draw, b, draw(st.integers(1, 2)), "nn.ReLU()", False)
    return b, shape


def _mlp_model(draw):
    n = draw(st.integers(2, 4))
    shape = (n, draw(st.integers(1, 64)))
    t = _Tracker(shape)
    b = _Builder(t)
    if draw(st.booleans()):
        b.open_seq("net")
    relu_ctor = draw(st.sampled_from(["nn.ReLU()", "nn.ReLU(inplace=True)"]))
    _head(draw, b, draw(st.integers(1, 4)), relu_ctor, draw(st.booleans()))
    return b, shape


@st.composite
def models(draw, family=None):
    family = family or draw(st.sampled_from(["conv2d", "conv2d", "conv1d", "seq", "mlp"]))
    if family == "conv2d":
        b, shape = _conv_model(draw, 2)
    elif family == "conv1d":
        b, shape = _conv_model(draw, 1)
    elif family == "seq":
        b, shape = _seq_model(draw)
    elif family == "mlp":
        b, shape = _mlp_model(draw)
    else:
        raise ValueError(family)
    dtype = "long" if family == "seq" else "float"
    gm = GeneratedModel(
        source="",
        family=family,
        input_shape=tuple(shape),
        dtype=dtype,
        expect_error=not b.t.ok,
        error_reason=b.t.error,
        expected_calls=list(b.calls),
    )
    gm.source = b.render(gm.input_comment(), draw)
    return gm

"""Which source axes each axis of a tensor is made of, followed through the annotated graph (a side table, computed
by the rules that need it, never stored on the Tensor values).

An axis is a tuple of *atoms*, major first. An atom is a piece of one source axis: the batch of a model's input,
a sequence, the features a Linear made, the num_layers x directions axis of an RNN state, ... A view that merges
two axes gives an axis of two atoms; a view that splits one gives axes holding pieces of one atom (the same `uid`,
another `stride`); merged back in order they are whole again. Size-1 axes hold no atom (they can go anywhere).

What is not understood is unknown (None), never a guess: an op this table does not know gives fresh atoms when its
output is a torch layer that keeps the batch axis, else None, and the rules that read atoms stay silent.
"""

from __future__ import annotations

from dataclasses import dataclass

from cnnlint.shapes import dims as D
from cnnlint.shapes.common import as_int, norm_axis
from cnnlint.values import Tensor


@dataclass(frozen=True)
class Atom:
    role: tuple          # what the axis is: ("in", input node, axis), ("new", node, k), ("state", node), ...
    uid: tuple           # the whole axis this is a piece of
    total: object        # the whole axis' size
    stride: object       # elements of the whole axis per step of this piece
    size: object         # the piece's size

    @property
    def whole(self) -> bool:
        return _eq(self.stride, 1) and _eq(self.size, self.total)


def _eq(a, b) -> bool:
    if a is None or b is None:
        return False
    return D.sub(a, b) == 0


def _is_one(d) -> bool:
    return isinstance(d, int) and d == 1


def fresh(role, uid, size):
    return (Atom(role, uid, size, 1, size),) if not _is_one(size) else ()


def fresh_axes(nid, shape, tag="new"):
    return tuple(fresh((tag, nid, k), (nid, tag, k), d) for k, d in enumerate(shape))


def resized(axis, size, nid, k):
    """An axis whose size a layer changed (a conv's spatial axis): the same role, a new whole atom."""
    if axis is None:
        return None
    if _eq(_size(axis), size):
        return axis
    roles = {a.role for a in axis}
    role = roles.pop() if len(roles) == 1 else ("new", nid, k)
    return fresh(role, (nid, "resized", k), size)


def _size(axis):
    return D.product(a.size for a in axis)


def normalize(axis):
    """Adjacent pieces of one axis in order (major, then the minor right below it) become one piece."""
    out = []
    for a in axis:
        if _is_one(a.size):
            continue
        if out:
            prev = out[-1]
            if prev.uid == a.uid and _eq(prev.stride, D.mul(a.stride, a.size)):
                out[-1] = Atom(prev.role, prev.uid, prev.total, a.stride, D.mul(prev.size, a.size))
                continue
        out.append(a)
    return tuple(out)


def regroup(axes, target):
    """The axes of a view of a tensor with these axes to the sizes `target`; None when the grouping cannot be
    decided (a symbolic size that may or may not divide another) or is irregular."""
    stream = [a for axis in axes for a in axis]
    out = []
    for t in target:
        if t is None:
            return None
        if _is_one(t):
            out.append(())
            continue
        r, axis = t, []
        while not _is_one(r):
            if not stream:
                return None
            a = stream.pop(0)
            if _eq(a.size, r):
                axis.append(a)
                r = 1
                continue
            q = D.exact_div(r, a.size)
            if q is not None and not (isinstance(q, int) and q < 1):
                axis.append(a)
                r = q
                continue
            rest = D.exact_div(a.size, r)
            if rest is None or (isinstance(rest, int) and rest < 1):
                return None
            axis.append(Atom(a.role, a.uid, a.total, D.mul(a.stride, rest), r))
            stream.insert(0, Atom(a.role, a.uid, a.total, a.stride, rest))
            r = 1
        out.append(normalize(axis))
    if any(not _is_one(a.size) for a in stream):
        return None
    return tuple(out)


# -- what each op does to the axes of its input -----------------------------------------------------------------------
KEEP_LAYERS = {"ReLU", "ReLU6", "LeakyReLU", "PReLU", "RReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish",
               "Sigmoid", "Tanh", "Hardtanh", "Hardswish", "Hardsigmoid", "Hardshrink", "Softshrink", "Softplus",
               "Softsign", "Tanhshrink", "Threshold", "LogSigmoid", "Softmin", "Softmax", "LogSoftmax", "Softmax2d",
               "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout", "Identity",
               "LocalResponseNorm", "ChannelShuffle", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm",
               "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "LayerNorm", "RMSNorm", "GroupNorm", "GLU",
               "TransformerEncoderLayer", "TransformerDecoderLayer", "TransformerEncoder", "TransformerDecoder"}
LINEAR_LAYERS = {"Linear", "LazyLinear", "Bilinear", "RNNCell", "LSTMCell", "GRUCell"}
RNN_LAYERS = {"RNN", "LSTM", "GRU"}
# channels-first layers that keep axis 0 (the batch) and axis 1 (the channels) and resize the spatial axes
SPATIAL_KEEP = ("MaxPool", "AvgPool", "LPPool", "AdaptiveAvgPool", "AdaptiveMaxPool", "Upsample", "UpsamplingNearest",
                "UpsamplingBilinear", "ZeroPad", "ConstantPad", "ReflectionPad", "ReplicationPad", "CircularPad")
CONV_PREFIX = ("Conv1d", "Conv2d", "Conv3d", "ConvTranspose", "LazyConv")

REARRANGING = {"Tensor.view", "torch.reshape", "torch.flatten", "Tensor.permute", "Tensor.transpose", "Tensor.t",
               "Tensor.view_as", "Tensor.expand", "Tensor.repeat", "Tensor.__getitem__", "Tensor.squeeze",
               "Tensor.unsqueeze", "torch.cat", "torch.stack", "operator.matmul", "module.subclass_forward"}
REDUCING = {"torch.mean", "torch.prod", "torch.norm", "torch.max", "torch.argmax"}
SPATIAL_FUNCTIONS = ("torch.nn.functional.max_pool", "torch.nn.functional.avg_pool", "torch.nn.functional.lp_pool",
                     "torch.nn.functional.adaptive_", "torch.nn.functional.interpolate", "torch.nn.functional.pad")


class AxisTable:
    """Atoms of every tensor of one run, computed in graph order on demand."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.run = ctx.run
        self.graph = ctx.run.graph
        self.nodes: dict = {}                # node id -> the atoms of its output, shaped like the output
        self.done = -1
        self.batch_roles = set()
        self.input_roles = set()             # the roles of the axes of the models' inputs
        self.weak_roles = set()              # batch roles of (N, features) float inputs: rows, maybe not samples
        self.batch_roles = self._batch_roles()

    # -- reading ----------------------------------------------------------------------------------------------------
    def of(self, value):
        """The axes of a tensor (a tuple with one tuple of atoms per axis), or None when not known."""
        if not isinstance(value, Tensor) or value.shape is None or value.node is None or value.node not in self.graph:
            return None
        nid = value.node
        self._compute_to(nid)
        found = _find(self.graph.nodes[nid].get("output"), self.nodes.get(nid), value)
        if found is None or len(found) != len(value.shape):
            return None
        return found

    def is_batch(self, atom) -> bool:
        return atom.role in self.batch_roles

    def model_outputs(self):
        """The graph nodes whose outputs the models return."""
        return {n for model in self.run.model_runs for n in model.output_nodes}

    def batch_in(self, axis) -> list:
        return [a for a in axis if a.role in self.batch_roles] if axis is not None else []

    # -- the batch of each model run ----------------------------------------------------------------------------------
    def model_inputs(self, model):
        """The tensors a model run received, in order: the `input` nodes recorded for it, else the tensors made
        before it that its first ops consume."""
        out = []
        for nid in range(model.first_node, min(model.last_node, self.graph.number_of_nodes())):
            data = self.graph.nodes[nid]
            if data["op"] in ("input", "keras.Input"):
                out.append(data["output"])
                continue
            for pred in sorted(self.graph.predecessors(nid)):
                if pred < model.first_node:
                    value = self.graph.nodes[pred].get("output")
                    if isinstance(value, Tensor) and all(value is not o for o in out):
                        out.append(value)
        shapes = [tuple(s) if s is not None else None for s in model.input_shapes]
        return [t for t in out if t.shape is not None and tuple(t.shape) in shapes][:len(shapes)]

    def _batch_roles(self):
        """The role of the batch axis of each model run's first input: axis 0 of a batched input (batch-first, as a
        DataLoader stacks samples), axis 1 when the model feeds it to a sequence-first RNN or attention layer that
        reads axis 1 as the batch; none for an unbatched input (a conv given (C, H, W))."""
        roles = set()
        self._inputs = {}
        for model in self.run.model_runs:
            inputs = self.model_inputs(model)
            if not inputs:
                continue
            first = inputs[0]
            if first.node is not None:
                self._inputs[first.node] = model
            first_axes = self.of(first)
            if first_axes is not None:
                self.input_roles |= {a.role for axis in first_axes for a in axis}
            if first.rank is None or first.rank < 2:
                continue
            role = self._input_role(first, model)
            roles.add(role)
            if first.rank == 2 and first.dtype != "long" and role is not None:
                # (N, features) rows may be a batch, or the nodes of a graph, the elements of one set: a reading
                # across them is a bug only where the model answers with it (a classifier's softmax)
                self.weak_roles.add(role)
        roles.discard(None)
        return roles

    def _input_role(self, first, model):
        # axis 0, unless the layers that read the input say otherwise
        axes = self.of(first)
        if axes is None or not axes[0] or len(axes[0]) != 1:
            return None
        role = axes[0][0].role
        second = axes[1][0].role if len(axes[1]) == 1 else None
        for nid in range(model.first_node, min(model.last_node, self.graph.number_of_nodes())):
            data = self.graph.nodes[nid]
            layer = data.get("layer")
            if layer is None or not data["op"].startswith("torch.nn."):
                continue
            x = _first_tensor(data)
            if not isinstance(x, Tensor) or x.shape is None:
                continue
            name = layer.type_name
            seq_first = (name in RNN_LAYERS or name in ("MultiheadAttention", "TransformerEncoderLayer",
                                                        "TransformerDecoderLayer", "TransformerEncoder",
                                                        "TransformerDecoder", "Transformer")) and \
                x.rank == 3 and _batch_first(layer, name) is False
            conv_unbatched = name.startswith(CONV_PREFIX) and name[-2:] in ("1d", "2d", "3d") and \
                x.rank == int(name[-2]) + 1
            if not (seq_first or conv_unbatched):
                continue
            xa = self.of(x)
            if xa is None:
                continue
            if seq_first and second is not None and any(a.role == second for a in xa[1]):
                return second           # a time-major model: the input is (L, N, ...)
            if conv_unbatched and any(a.role == role for a in xa[0]):
                return None             # (C, H, W): no batch
        return role

    # -- computing ------------------------------------------------------------------------------------------------------
    def _compute_to(self, nid):
        while self.done < nid:
            self.done += 1
            n = self.done
            try:
                self.nodes[n] = self._transfer(n, self.graph.nodes[n])
            except (TypeError, ValueError, IndexError, ZeroDivisionError, AttributeError, KeyError):
                self.nodes[n] = None

    def _transfer(self, nid, data):
        out = data["output"]
        op = data["op"]
        args = data["args"] if isinstance(data["args"], dict) else {}
        layer = data.get("layer")
        x = _first_tensor(data)
        if op in ("input", "keras.Input") or (not args and isinstance(out, Tensor)):
            return fresh_axes(nid, out.shape, "in") if isinstance(out, Tensor) and out.shape is not None else None
        xa = self.of(x) if isinstance(x, Tensor) else None
        if layer is not None and op.startswith("torch.nn."):
            return self._layer(nid, layer, x, xa, out, args)
        if op.startswith("keras.layers."):
            return self._keras(nid, layer, x, xa, out)
        return self._function(nid, op, data.get("called", op), args, x, xa, out)

    def _layer(self, nid, layer, x, xa, out, args):
        name = layer.type_name
        shape = out.shape if isinstance(out, Tensor) else None
        if name in KEEP_LAYERS:
            return xa if _same_shape(x, out) else None
        if name in LINEAR_LAYERS:
            return self._replace_last(nid, xa, out)
        if name == "Embedding":
            return (xa + (fresh(("new", nid, 0), (nid, "emb"), shape[-1]),)) if xa is not None and shape else None
        if name in RNN_LAYERS:
            return self._rnn(nid, layer, x, xa, out)
        if name == "MultiheadAttention":
            first = out[0] if isinstance(out, tuple) and out else None
            return (self._replace_last(nid, xa, first), None)
        if name.startswith(CONV_PREFIX) and name[-2:] in ("1d", "2d", "3d"):
            return self._spatial(nid, xa, x, shape, int(name[-2]), new_channels=True)
        if name.startswith(SPATIAL_KEEP):
            n = int(name[-2]) if name[-2:] in ("1d", "2d", "3d") else (x.rank - 2 if x is not None and x.rank else 2)
            first = out[0] if isinstance(out, tuple) and out else out
            result = self._spatial(nid, xa, x, getattr(first, "shape", None), n, new_channels=False)
            return (result, result) if isinstance(out, tuple) else result
        if name in ("Flatten", "Unflatten"):
            return regroup(xa, shape) if xa is not None and shape is not None else None
        if isinstance(out, Tensor) and shape and x is not None and x.shape and xa is not None and \
                _eq(x.shape[0], shape[0]):
            # a torch layer not in this table that keeps the batch size: axis 0 is kept, the rest is new
            return (xa[0],) + fresh_axes(nid, shape)[1:]
        return None

    def _replace_last(self, nid, xa, out):
        if xa is None or not isinstance(out, Tensor) or not out.shape or len(out.shape) != len(xa):
            return None
        return xa[:-1] + (fresh(("new", nid, 0), (nid, "last"), out.shape[-1]),)

    def _spatial(self, nid, xa, x, shape, n, new_channels):
        if xa is None or shape is None or x is None or x.rank not in (n + 1, n + 2) or len(shape) != x.rank:
            return None
        batched = x.rank == n + 2
        lead = xa[:1] if batched else ()
        channel_pos = 1 if batched else 0
        channels = fresh(("new", nid, "c"), (nid, "c"), shape[channel_pos]) if new_channels else \
            resized(xa[channel_pos], shape[channel_pos], nid, channel_pos)
        spatial = tuple(resized(xa[k], shape[k], nid, k) for k in range(channel_pos + 1, len(shape)))
        if None in spatial or channels is None:
            return None
        return lead + (channels,) + spatial

    def _rnn(self, nid, layer, x, xa, out):
        if not isinstance(out, tuple) or len(out) != 2 or xa is None or x.rank not in (2, 3):
            return None
        seq, state = out
        seq_axes = self._replace_last(nid, xa, seq)
        batch_first = _batch_first(layer, layer.type_name)
        if x.rank == 3:
            if batch_first is None:
                return (seq_axes, None)
            batch = xa[0] if batch_first else xa[1]
        else:
            batch = None

        def state_axes(t, k):
            if not isinstance(t, Tensor) or t.shape is None:
                return None
            layers = fresh(("state", nid), (nid, "state", k), t.shape[0])
            last = fresh(("new", nid, "h", k), (nid, "h", k), t.shape[-1])
            if batch is None:
                return (layers, last) if len(t.shape) == 2 else None
            return (layers, batch, last) if len(t.shape) == 3 else None

        if isinstance(state, tuple):
            return (seq_axes, tuple(state_axes(t, k) for k, t in enumerate(state)))
        return (seq_axes, state_axes(state, 0))

    def _keras(self, nid, layer, x, xa, out):
        if not isinstance(out, Tensor) or out.shape is None:
            return None
        if _same_shape(x, out):
            return xa
        if xa is not None and x.shape and _eq(x.shape[0], out.shape[0]):
            return (xa[0],) + fresh_axes(nid, out.shape)[1:]
        return None

    def _function(self, nid, op, called, args, x, xa, out):
        shape = out.shape if isinstance(out, Tensor) else None
        if op in ("Tensor.view", "torch.reshape", "torch.flatten", "Tensor.view_as"):
            return regroup(xa, shape) if xa is not None and shape is not None else None
        if op == "Tensor.permute":
            order = args.get("dims")
            axes = [norm_axis(o, len(xa)) for o in order] if xa is not None and isinstance(order, (list, tuple)) \
                else None
            return tuple(xa[i] for i in axes) if axes and None not in axes and len(axes) == len(xa) else None
        if op == "Tensor.transpose":
            if xa is None:
                return None
            i, j = norm_axis(args.get("dim0"), len(xa)), norm_axis(args.get("dim1"), len(xa))
            if i is None or j is None:
                return None
            axes = list(xa)
            axes[i], axes[j] = axes[j], axes[i]
            return tuple(axes)
        if op == "Tensor.t":
            return tuple(reversed(xa)) if xa is not None else None
        if op == "Tensor.squeeze":
            return self._squeeze(args, xa, x, shape)
        if op == "Tensor.unsqueeze":
            if xa is None or shape is None:
                return None
            axis = norm_axis(args.get("dim"), len(xa) + 1)
            return xa[:axis] + ((),) + xa[axis:] if axis is not None else None
        if op == "Tensor.__getitem__":
            return self._index(nid, xa, x, shape, args.get("index"))
        if op in ("torch.cat",):
            return self._cat(nid, args, shape)
        if op == "torch.stack":
            parts = args.get("tensors")
            first = self.of(parts[0]) if isinstance(parts, (list, tuple)) and parts else None
            axis = norm_axis(args.get("dim", 0), len(shape)) if shape is not None else None
            if first is None or axis is None:
                return None
            return first[:axis] + (fresh(("new", nid, 0), (nid, "stack"), shape[axis]),) + first[axis:]
        if op == "operator.matmul":
            return self._matmul(nid, args, shape)
        if op in ("torch.chunk", "torch.split", "torch.unbind", "torch.narrow", "torch.select",
                  "torch.index_select"):
            return self._slice_like(nid, op, args, xa, x, out)
        if op in REDUCING or op in ("torch.max", "torch.min", "torch.argmax", "torch.topk", "torch.sort"):
            return self._reduce(nid, op, args, xa, x, out)
        if op in ("torch.nn.functional.linear",):
            return self._replace_last(nid, xa, out)
        if op == "torch.nn.functional.embedding":
            return (xa + (fresh(("new", nid, 0), (nid, "emb"), shape[-1]),)) if xa is not None and shape else None
        if op.startswith("torch.nn.functional.conv"):
            n = int(op[-2]) if op[-2].isdigit() else None
            return self._spatial(nid, xa, x, shape, n, new_channels=True) if n else None
        if op.startswith(SPATIAL_FUNCTIONS):
            first = out[0] if isinstance(out, tuple) and out else out
            fshape = getattr(first, "shape", None)
            n = int(op[-2]) if op[-2].isdigit() else (x.rank - 2 if x is not None and x.rank else None)
            result = self._spatial(nid, xa, x, fshape, n, new_channels=False) if n else None
            return (result, result) if isinstance(out, tuple) else result
        if op in ("Tensor.expand", "Tensor.repeat"):
            if xa is None or shape is None:
                return None
            lead = len(shape) - len(xa)
            if lead < 0:
                return None
            return fresh_axes(nid, shape[:lead]) + tuple(
                a if _eq(_size(a) if a else 1, d) else fresh(("new", nid, k), (nid, "rep", k), d)
                for k, (a, d) in enumerate(zip(xa, shape[lead:])))
        if op in ("operator.add", "torch.where") or op.startswith("operator.") or op == "torch.atan2":
            return self._broadcast(nid, args, shape)
        if op.startswith("torch.randn") or op.startswith("torch.full") or op in ("torch.arange", "torch.eye",
                                                                                  "torch.tensor", "torch.randint"):
            return fresh_axes(nid, shape) if shape is not None else None
        if isinstance(out, Tensor) and op not in REARRANGING and _same_shape(x, out):
            return xa       # elementwise, softmax, normalisation, dropout, casts: the layout is kept
        if isinstance(out, tuple) and out and all(_same_shape(x, o) for o in out if isinstance(o, Tensor)):
            return tuple(xa for _ in out)
        return None

    def _squeeze(self, args, xa, x, shape):
        if xa is None or shape is None or x is None or x.shape is None:
            return None
        dim = args.get("dim")
        if dim is None:
            drop = {k for k, d in enumerate(x.shape) if _is_one(d)}
        else:
            dims = dim if isinstance(dim, (list, tuple)) else [dim]
            drop = {norm_axis(d, len(xa)) for d in dims}
            drop = {k for k in drop if k is not None and _is_one(x.shape[k])}
        kept = tuple(a for k, a in enumerate(xa) if k not in drop)
        return kept if len(kept) == len(shape) else None

    def _index(self, nid, xa, x, shape, index):
        if xa is None or shape is None or not isinstance(index, tuple):
            return None
        out, k = [], 0
        for item in index:
            if item == "keep":
                if k >= len(xa):
                    return None
                out.append(xa[k])
                k += 1
            elif item == "slice":
                if k >= len(xa):
                    return None
                out.append(None)      # resized below, once the output size is known
                k += 1
            elif item == "drop":
                k += 1
            elif item == "new":
                out.append(())
            elif isinstance(item, tuple) and item[0] == "gather":
                out.extend([None] * item[1])
                k += 1
            else:
                return None
        if len(out) != len(shape):
            return None
        result = []
        for i, (a, d) in enumerate(zip(out, shape)):
            result.append(a if a is not None else fresh(("new", nid, i), (nid, "idx", i), d))
        return tuple(result)

    def _cat(self, nid, args, shape):
        parts = args.get("tensors")
        if not isinstance(parts, (list, tuple)) or not parts or shape is None:
            return None
        first = self.of(parts[0])
        axis = norm_axis(args.get("dim", 0), len(shape))
        if first is None or axis is None or len(first) != len(shape):
            return None
        out = list(first)
        out[axis] = resized(first[axis], shape[axis], nid, axis)
        return tuple(out)

    def _matmul(self, nid, args, shape):
        a, b = args.get("input"), args.get("other")
        aa, ba = self.of(a), self.of(b)
        if aa is None or ba is None or shape is None or len(aa) < 2 or len(ba) < 2:
            return None
        batch = self._broadcast_axes([aa[:-2], ba[:-2]], [a.shape[:-2], b.shape[:-2]], shape[:-2], nid)
        return batch + (aa[-2], ba[-1]) if batch is not None else None

    def _broadcast(self, nid, args, shape):
        if shape is None:
            return None
        operands = [v for v in args.values() if isinstance(v, Tensor)]
        axes = [self.of(v) for v in operands]
        if any(a is None for a in axes):
            return None
        return self._broadcast_axes(axes, [v.shape for v in operands], shape, nid)

    def _broadcast_axes(self, axes_list, shapes, shape, nid):
        out = []
        for i in range(1, len(shape) + 1):
            d = shape[-i]
            chosen = None
            for axes, s in zip(axes_list, shapes):
                if i <= len(s) and not _is_one(s[-i]) and _eq(s[-i], d):
                    chosen = axes[-i]
                    break
            if chosen is None:
                if _is_one(d):
                    chosen = ()
                else:
                    return None
            out.append(chosen)
        return tuple(reversed(out))

    def _slice_like(self, nid, op, args, xa, x, out):
        if xa is None or x is None:
            return None
        axis = norm_axis(args.get("dim", 0), len(xa))
        if axis is None:
            return None

        def one(t):
            if not isinstance(t, Tensor) or t.shape is None:
                return None
            if len(t.shape) == len(xa) - 1:
                return xa[:axis] + xa[axis + 1:]
            if len(t.shape) == len(xa):
                return xa[:axis] + (resized(xa[axis], t.shape[axis], nid, axis),) + xa[axis + 1:]
            return None
        if isinstance(out, tuple):
            return tuple(one(t) for t in out)
        return one(out)

    def _reduce(self, nid, op, args, xa, x, out):
        if xa is None:
            return None
        first = out[0] if isinstance(out, tuple) and out else out
        if not isinstance(first, Tensor) or first.shape is None:
            return None
        dim = args.get("dim")
        if op in ("torch.topk", "torch.sort"):
            result = xa if len(first.shape) == len(xa) else None
            if result is not None and op == "torch.topk":
                axis = norm_axis(dim, len(xa))
                result = xa[:axis] + (resized(xa[axis], first.shape[axis], nid, axis),) + xa[axis + 1:] \
                    if axis is not None else None
        elif dim is None:
            result = tuple(() for _ in first.shape)
        elif isinstance(dim, Tensor):
            result = None
        else:
            dims = dim if isinstance(dim, (list, tuple)) else [dim]
            axes = {norm_axis(d, len(xa)) for d in dims}
            if None in axes:
                return None
            if len(first.shape) == len(xa):
                result = tuple(() if k in axes else a for k, a in enumerate(xa))
            else:
                result = tuple(a for k, a in enumerate(xa) if k not in axes)
        if isinstance(out, tuple):
            return tuple(result for _ in out)
        return result


def _find(output, axes, value, depth=0):
    """The atoms of `value` inside a node's output structure (a tensor, or tuples of them)."""
    if output is value:
        return axes
    if isinstance(output, tuple) and depth < 3:
        subs = axes if isinstance(axes, tuple) and len(axes) == len(output) else (None,) * len(output)
        for item, sub in zip(output, subs):
            found = _find(item, sub, value, depth + 1)
            if found is not None:
                return found
        return None
    if isinstance(output, Tensor) and depth == 0:
        return axes             # the same tensor, copied on its way (sizes made safe after a collapse)
    return None


def _first_tensor(data):
    args = data["args"]
    if not isinstance(args, dict):
        return None
    for v in args.values():
        if isinstance(v, Tensor):
            return v
        if isinstance(v, (list, tuple)) and v and isinstance(v[0], Tensor):
            return v[0]
    return None


def _same_shape(x, out) -> bool:
    if not isinstance(x, Tensor) or not isinstance(out, Tensor) or x.shape is None or out.shape is None:
        return False
    return len(x.shape) == len(out.shape) and all(_eq(a, b) or (a is b) for a, b in zip(x.shape, out.shape))


def _batch_first(layer, name):
    value = layer.arg("batch_first", False if name in RNN_LAYERS or name == "MultiheadAttention" else None)
    if name.startswith("Transformer"):
        value = layer.arg("batch_first", False)
    return value if value in (True, False) else None


def table(ctx) -> AxisTable:
    """The axis table of the run a rule context reads (one per run, shared by the rules)."""
    found = getattr(ctx, "_axis_table", None)
    if found is None:
        found = AxisTable(ctx)
        ctx._axis_table = found
    return found

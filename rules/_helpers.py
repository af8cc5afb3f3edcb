"""Small helpers several rules share."""

from __future__ import annotations

from cnnlint.rulekit import shape_text
from cnnlint.values import Tensor

# ops that keep the layout of their input: looking through them finds where a tensor really came from
LAYOUT_KEEPING = {"torch.nn.ReLU", "torch.nn.Dropout", "torch.nn.GELU", "torch.nn.Tanh", "torch.nn.Sigmoid",
                  "torch.nn.LeakyReLU", "torch.nn.functional.relu", "torch.nn.functional.dropout",
                  "torch.nn.functional.gelu", "Tensor.contiguous", "Tensor.float", "torch.nn.LayerNorm",
                  "torch.nn.BatchNorm1d", "torch.nn.BatchNorm2d", "torch.nn.ELU", "torch.nn.SiLU"}


def origin(ctx, tensor, through=LAYOUT_KEEPING, limit=8):
    """The graph node data that produced a tensor, looking through layout-keeping ops."""
    data = ctx.run.producer(tensor)
    for _ in range(limit):
        if data is None or data["op"] not in through:
            return data
        args = data["args"]
        first = next(iter(args.values()), None) if args else None
        data = ctx.run.producer(first) if isinstance(first, Tensor) else None
    return data


def arrives(tensor) -> str:
    return shape_text(tensor)


CHANNEL_FIRST = {"Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "MaxPool1d",
                 "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d", "BatchNorm2d", "BatchNorm3d"}


def channel_first_source(ctx, tensor):
    """The layer whose output this is when that output is a channels-first map (N, C, *spatial), else None."""
    data = origin(ctx, tensor, through=LAYOUT_KEEPING - {"torch.nn.BatchNorm2d"})
    layer = data.get("layer") if data is not None else None
    return layer if layer is not None and layer.type_name in CHANNEL_FIRST else None


def sequence_source(ctx, tensor):
    """The layer whose output this is when it is a batch-first sequence (N, L, E): an Embedding or a
    batch_first RNN; else None."""
    data = origin(ctx, tensor)
    layer = data.get("layer") if data is not None else None
    if layer is None:
        return None
    if layer.type_name == "Embedding":
        return layer
    if layer.type_name in ("LSTM", "GRU", "RNN") and layer.arg("batch_first") is True:
        return layer
    return None


# nn.*Loss classes and the F.* function each one calls
LOSS_FUNCTIONS = {"CrossEntropyLoss": "cross_entropy", "NLLLoss": "nll_loss", "MSELoss": "mse_loss",
                  "L1Loss": "l1_loss", "SmoothL1Loss": "smooth_l1_loss", "HuberLoss": "huber_loss",
                  "BCELoss": "binary_cross_entropy", "BCEWithLogitsLoss": "binary_cross_entropy_with_logits"}
LOSS_OPS = {f"torch.nn.{c}" for c in LOSS_FUNCTIONS} | {"torch.nn.functional.cross_entropy",
                                                      "torch.nn.functional.binary_cross_entropy",
                                                      "torch.nn.functional.mse_loss"}


def loss_calls(ctx, functions):
    """(graph node data, F.* name, input, target, weight, label) for calls of these losses, as nn.*Loss modules
    (`criterion(out, target)`) or as F.* functions; weight is the class weight tensor or None."""
    for nid, data in ctx.nodes(LOSS_OPS):
        layer = data.get("layer")
        name = LOSS_FUNCTIONS.get(layer.type_name) if layer is not None else data["called"].rsplit(".", 1)[-1]
        if name not in functions:
            continue
        args = data["args"]
        weight = layer.args.get("weight") if layer is not None else args.get("weight")
        label = ctx.layer_label(layer) if layer is not None else f"F.{name}"
        yield data, name, args.get("input"), args.get("target"), weight if isinstance(weight, Tensor) else None, label
def annotation_conflict(ctx, data):
    """What makes a tensor contradict the shape annotation it passed (a graph node of cnnlint.extract.
    annotated_calls) for every input consistent with what is known, as text ("axis 1 is 20, not 10"); None when
    some input makes them agree."""
    from cnnlint.rulekit import show
    binding = data["args"].get("binding")
    if binding is None or not isinstance(data["args"].get("input"), Tensor):
        return None
    if binding.rank is not None:
        has, wanted = binding.rank
        return f"it has {has} axes, the annotation {wanted}"
    for req in binding.requirements:
        if req.broadcastable and ctx.solver.can_be_one(req.got):
            continue
        if ctx.differs(req.got, req.expected):
            expected, name = show(req.expected), req.written.lstrip("#")
            if name == expected:
                said = req.written
            elif name.isidentifier():
                said = f"{req.written} = {expected}"
            else:
                said = f"{expected} ({req.written})"
            return f"axis {req.axis} is {show(req.got)}, not {said}"
    return None


def written(data, limit=48):
    """The code of an op as written (`out[:, -1, :]`), shortened; its description when the code is elsewhere."""
    from cnnlint.rulekit import describe_op
    node = data.get("cst")
    try:
        import libcst as cst
        if isinstance(node, cst.CSTNode):
            text = " ".join(cst.Module(body=[]).code_for_node(node).split())
            return f"`{text}`" if len(text) <= limit else f"`{text[:limit - 3]}...`"
    except Exception:           # a place in another module, or code LibCST cannot print: describe the op
        pass
    return describe_op(data)


def _same(a, b) -> bool:
    from cnnlint.shapes import dims as D
    return a is not None and b is not None and D.sub(a, b) == 0


def axis_advice(ctx, x, axis, expected, keep=(0,), ranks=None):
    """When the size a layer reads on `axis` of x sits on another axis (features on axis 1 of (N, C, L) for an RNN
    or a Linear, channels last for a norm) or behind an extra axis of size 1 ((N, 1, C) for BatchNorm1d), what to
    apply to the input instead of changing the layer: (text, the axis that holds it); None when no other axis
    certainly holds it (or several do). Axes in `keep` (the batch) are never moved."""
    from cnnlint.shapes.common import norm_axis
    shape = x.shape
    rank = len(shape)
    reads = axis                      # as the layer counts it: -1 is the last axis whatever the rank
    axis = norm_axis(axis, rank)
    if axis is None or expected is None:
        return None
    keep = {norm_axis(k, rank) for k in keep}
    holders = [k for k, d in enumerate(shape) if k != axis and k not in keep and _same(d, expected)]
    if len(holders) != 1 or _same(shape[axis], expected):
        return None
    k = holders[0]
    # an extra axis of size 1 in the way: squeezing it brings the size to where the layer reads it
    for j, d in enumerate(shape):
        if j in keep or j == k or not (isinstance(d, int) and d == 1):
            continue
        rest = shape[:j] + shape[j + 1:]
        where = norm_axis(reads, len(rest))
        if (ranks is None or len(rest) in ranks) and where is not None and _same(rest[where], expected):
            return f"squeeze the extra axis {j} of size 1 (x.squeeze({j}))", k
    if ranks is not None and rank not in ranks:
        return None
    if rank == 3 or {axis, k} == {rank - 2, rank - 1}:
        return f"transpose it to axis {axis} (x.transpose({min(axis, k)}, {max(axis, k)}))", k
    order = [j for j in range(rank) if j != k]
    order.insert(axis if axis >= 0 else rank + axis, k)
    return f"move it to axis {axis} (x.permute({', '.join(map(str, order))}))", k


def last_rearrangement(ctx, tensor, limit=12):
    """The permute/transpose/movedim that last moved the axes of a tensor (looking back through the layers and
    ops that keep the axes where they are), as graph node data; None when there is none."""
    moving = {"Tensor.permute", "Tensor.transpose", "Tensor.t"}
    data = ctx.run.producer(tensor)
    for _ in range(limit):
        if data is None:
            return None
        if data.get("op") in moving:
            return data
        args = data.get("args") if isinstance(data.get("args"), dict) else {}
        first = next((v for v in args.values() if isinstance(v, Tensor)), None)
        if first is None or first.shape is None or data.get("op") in ("Tensor.view", "torch.reshape",
                                                                      "torch.flatten"):
            return None
        data = ctx.run.producer(first)
    return None

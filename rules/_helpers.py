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

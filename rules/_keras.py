"""What several Keras rules share: the input shapes a Keras model declares, the layers that read them, and the
ranks each Keras layer accepts."""

from __future__ import annotations

from cnnlint.values import Tensor

ANY_RANK_FROM = 16     # "at least k axes" is written as range(k, ANY_RANK_FROM)

# layers that work on the last axis alone or on every element: they read no axis of their input as space or time
POINTWISE = {f"keras.layers.{n}" for n in (
    "Dense", "Dropout", "Activation", "ReLU", "LeakyReLU", "ELU", "PReLU", "Softmax", "BatchNormalization",
    "LayerNormalization", "GaussianNoise", "GaussianDropout", "ActivityRegularization", "Rescaling")}


# Keras merge layers (keras.layers.add(...) and friends are recorded as the layer): the elementwise ones
# broadcast like numpy (Merge._compute_elemwise_op_output_shape), Concatenate needs equal sizes off its axis
ELEMENTWISE_MERGES = {f"keras.layers.{n}" for n in ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum")}
CONCATENATE = "keras.layers.Concatenate"


def merge_inputs(data):
    """The tensors a merge layer's graph node received, when there are two or more and all have a shape."""
    parts = data["args"].get("inputs")
    if not isinstance(parts, (list, tuple)) or len(parts) < 2:
        return None
    if not all(isinstance(p, Tensor) and p.shape is not None for p in parts):
        return None
    return parts


def keras_ranks(name):
    """The ranks a Keras layer accepts (the batch axis included): conv and pooling n+2 (the conv op checks the
    kernel against the input), Dense at least 2 (InputSpec min_ndim), recurrent layers 3."""
    n = int(name[-2]) if name[-2:] in ("1D", "2D", "3D") else None
    if n is not None and name.startswith(("Conv", "SeparableConv", "DepthwiseConv", "MaxPool", "AveragePool",
                                          "AvgPool", "GlobalAveragePool", "GlobalMaxPool", "GlobalAvgPool",
                                          "UpSampling", "ZeroPadding", "Cropping")):
        return (n + 2,)
    if name == "Dense":
        return tuple(range(2, ANY_RANK_FROM))
    if name in ("LSTM", "GRU", "SimpleRNN"):
        return (3,)
    return None


class DeclaredInput:
    """An input shape as the user wrote it (batch left out), where it was written, and the tensor it became."""

    def __init__(self, declared, node, tensor):
        self.declared = tuple(declared)
        self.node = node
        self.tensor = tensor


def declared_inputs(ctx):
    """keras.Input(shape=...) calls and Sequential input_shape= keywords of one run."""
    for nid, data in ctx.nodes({"keras.Input"}):
        shape = data["args"].get("shape")
        if isinstance(shape, tuple) and isinstance(data["output"], Tensor):
            yield DeclaredInput(shape, data["cst"], data["output"])
    for model in ctx.run.model_runs:
        root = model.root
        start = ctx.run.graph.nodes.get(model.first_node)
        if getattr(root, "kind", None) != "keras.Sequential" or start is None:
            continue
        given = root.args.get("__input__")
        if isinstance(given, Tensor) and given.shape:
            # Sequential([keras.Input(shape=...), ...]): the open sizes of the Input are its symbols
            node = _first_item(root.call)
            declared = tuple(d if isinstance(d, int) else None for d in given.shape[1:])
        else:
            first = next(iter(root.children.values()), None)
            declared = getattr(first, "args", {}).get("input_shape")
            node = _keyword(first.call, "input_shape") if first is not None else None
        if isinstance(declared, (list, tuple)) and node is not None:
            yield DeclaredInput(declared, node, start["output"])


def _first_item(call):
    """The first element of the list a Sequential([...]) call is given."""
    args = getattr(call, "args", ())
    elements = getattr(args[0].value, "elements", None) if args else None
    return elements[0].value if elements else None


def _keyword(call, name):
    for arg in getattr(call, "args", ()):
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def consumers(ctx, tensor):
    """Graph node data of the layers that read a tensor directly, in the order they ran."""
    if not isinstance(tensor, Tensor) or tensor.node not in ctx.run.graph:
        return []
    return [ctx.run.graph.nodes[n] for n in sorted(ctx.run.graph.successors(tensor.node))
            if ctx.run.graph.nodes[n].get("layer") is not None]


def downstream_ops(ctx, tensor):
    """The ops of every graph node that depends on a tensor."""
    if not isinstance(tensor, Tensor) or tensor.node not in ctx.run.graph:
        return set()
    return {ctx.run.graph.nodes[n]["op"] for n in ctx.descendants(tensor.node)}


def channels_last(layer) -> bool:
    return layer.args.get("data_format") in (None, "channels_last")

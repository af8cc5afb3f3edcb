"""CNN115 keras-built-width: a Keras layer called again on inputs of another width than it was built for."""

from cnnlint.rulekit import Rule, shape_text, show
from cnnlint.values import Tensor

RULE = Rule(
    code="CNN115",
    name="keras-built-width",
    severity="error",
    summary="A Keras layer (shared, or inside a model called on a new tensor) receives another input width than "
            "its first call built its weights for; a built Sequential or functional model is called on another "
            "input shape than it declares",
    why="A Keras layer creates its weights on its first call, sized by the width that arrives (the last axis for "
        "Dense and recurrent layers, the channel axis for convolutions and BatchNormalization). A later call — a "
        "shared layer, or `model(x)` on a tensor of another shape — must bring the same width; Keras raises "
        "'Input 0 of layer ... is incompatible with the layer: expected axis -1 of input shape to have value ...'.",
    fix="Give the later call the width of the first (Flatten, a projection Dense), or use a separate layer.",
    fires=("""
import keras
from keras import layers
inputs = keras.Input(shape=(784,))
mlp = keras.Model(inputs, layers.Dense(10)(layers.Dense(64)(inputs)))
images = keras.Input(shape=(28, 28))
model = keras.Model(images, mlp(images))
""",),
    silent=("""
import keras
from keras import layers
inputs = keras.Input(shape=(784,))
mlp = keras.Model(inputs, layers.Dense(10)(layers.Dense(64)(inputs)))
images = keras.Input(shape=(28, 28))
model = keras.Model(images, mlp(layers.Flatten()(images)))
""",),
)

# the axis each layer sizes its weights by (channels_last), and what to call it
WEIGHT_AXIS = {"Dense": "features", "LSTM": "features", "GRU": "features", "SimpleRNN": "features",
               "Conv1D": "channels", "Conv2D": "channels", "Conv3D": "channels", "SeparableConv1D": "channels",
               "SeparableConv2D": "channels", "DepthwiseConv1D": "channels", "DepthwiseConv2D": "channels",
               "Conv1DTranspose": "channels", "Conv2DTranspose": "channels", "Conv3DTranspose": "channels",
               "BatchNormalization": "features", "LayerNormalization": "features"}


def declared_input(ctx, model):
    """The input shape a Keras model was built for (batch first): a functional model's keras.Input, a Sequential's
    leading keras.Input or input_shape=; None when it has none (a Sequential built by its first call)."""
    if model.kind == "keras.Model":
        graph = model.args.get("__graph__")
        if not graph or len(graph[0]) != 1 or graph[0][0] not in ctx.run.graph:
            return None
        out = ctx.run.graph.nodes[graph[0][0]]["output"]
        return out.shape if isinstance(out, Tensor) else None
    if model.kind == "keras.Sequential":
        from cnnlint.inputs import keras_input
        given = model.args.get("__input__")
        if isinstance(given, Tensor):
            return given.shape
        first = next(iter(model.children.values()), None)
        shape = getattr(first, "args", {}).get("input_shape")
        if isinstance(shape, (list, tuple)) and all(isinstance(d, int) or d is None for d in shape):
            return (None,) + tuple(shape)
    return None


def check_model_inputs(ctx):
    """A built Sequential or functional model called on a tensor whose fixed sizes differ from its input's: Keras
    checks a call against the model's input before any layer runs ('Input 0 ... is incompatible with the layer:
    expected shape=(None, 784), found shape=(None, 512)')."""
    from cnnlint.values import Layer
    for comp in ctx.run.composite_calls:
        model = comp.layer
        if not isinstance(model, Layer) or model.kind not in ("keras.Model", "keras.Sequential"):
            continue
        declared = declared_input(ctx, model)
        if declared is None or comp.start >= comp.end:
            continue
        x = _argument(ctx, comp)
        if not isinstance(x, Tensor) or x.shape is None or x is model.args.get("__input__"):
            continue
        if len(x.shape) != len(declared):
            # another rank: Keras squeezes or expands a last axis of 1, and refuses anything else
            if not _rank_refused(x.shape, declared):
                continue
            detail = f"{len(x.shape)} axes, not {len(declared)}"
        else:
            detail = next((f"axis {axis} is {show(x.shape[axis])}, not {show(declared[axis])}"
                           for axis in range(1, len(declared))
                           if isinstance(declared[axis], int) and ctx.differs(x.shape[axis], declared[axis])), None)
            if detail is None:
                continue
        shown = "(None, " + ", ".join(str(d) if isinstance(d, int) else "None" for d in declared[1:]) + ")"
        ctx.report("CNN115", comp.cst,
                   f"{ctx.layer_label(model)} was built for inputs of shape {shown}, but here it is called on "
                   f"{shape_text(x)}: {detail}; Keras checks a model's input before its layers run and raises "
                   f"'Input 0 ... is incompatible with the layer: expected shape={shown}'", ctx.chain(x, 3),
                   gid=comp.start)


def _rank_refused(shape, declared):
    """Whether Keras refuses an input of another rank than the model's: it squeezes an extra last axis of size 1
    and adds a missing one, when the model's is 1; a size we do not know may be that 1."""
    if len(shape) == len(declared) + 1:
        return isinstance(shape[-1], int) and shape[-1] != 1
    if len(shape) == len(declared) - 1:
        return isinstance(declared[-1], int) and declared[-1] != 1
    return True


def _argument(ctx, comp):
    """The tensor a model call received: the first tensor its first op reads that was made before the call."""
    for nid in range(comp.start, comp.end):
        data = ctx.run.graph.nodes[nid]
        if data["op"] == "module.weight" or not isinstance(data["args"], dict):
            continue
        for value in data["args"].values():
            values = value if isinstance(value, (list, tuple)) else [value]
            for v in values:
                if isinstance(v, Tensor) and (v.node is None or v.node < comp.start):
                    return v
        return None
    return None


def check(ctx):
    check_model_inputs(ctx)
    first_call = {}
    for nid, data in ctx.nodes(prefix="keras.layers."):
        layer = data.get("layer")
        if layer is None or WEIGHT_AXIS.get(layer.type_name) is None:
            continue
        x = data["args"].get("inputs")
        if not isinstance(x, Tensor) or not x.shape:
            continue
        axis = 1 if layer.args.get("data_format") == "channels_first" else -1
        if layer.type_name in ("BatchNormalization", "LayerNormalization"):
            if layer.args.get("axis", -1) != -1:
                continue
        if id(layer) not in first_call:
            first_call[id(layer)] = (x, data)
            continue
        built, built_data = first_call[id(layer)]
        if len(built.shape) != len(x.shape) and layer.type_name != "Dense":
            continue           # another rank is CNN110's
        if ctx.differs(built.shape[axis], x.shape[axis]):
            what = WEIGHT_AXIS[layer.type_name]
            ctx.report("CNN115", data["cst"],
                       f"{ctx.layer_label(layer)} was built by its first call for {show(built.shape[axis])} input "
                       f"{what} ({shape_text(built)}), but here it receives {shape_text(x)} with "
                       f"{show(x.shape[axis])}",
                       [(built_data["cst"], f"first call: {shape_text(built)}")] + ctx.chain(x, 3))

"""CNN115 keras-built-width: a Keras layer called again on inputs of another width than it was built for."""

from cnnlint.rulekit import Rule, shape_text, show
from cnnlint.values import Tensor

RULE = Rule(
    code="CNN115",
    name="keras-built-width",
    severity="error",
    summary="A Keras layer (shared, or inside a model called on a new tensor) receives another input width than "
            "its first call built its weights for",
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


def check(ctx):
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

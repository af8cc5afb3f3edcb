"""CNN211 keras-dense-on-feature-map: a Keras Dense head applied to an image map where a Flatten was meant."""

from cnnlint.rulekit import Rule, shape_text
from cnnlint.rules._helpers import origin
from cnnlint.rules._keras import POINTWISE
from cnnlint.values import Tensor

RULE = Rule(
    code="CNN211",
    name="keras-dense-on-feature-map",
    severity="warning",
    summary="Keras Dense fed a feature map of rank > 3 that goes on to the model's output: a Flatten is missing",
    why="Dense acts on the last axis only: on (batch, 13, 13, 32) Dense(10) gives (batch, 13, 13, 10), one "
        "prediction per pixel, not one per image. The model builds, and then fails against (batch, 10) labels or "
        "trains on a loss averaged over pixels.",
    fix="Add layers.Flatten() or layers.GlobalAveragePooling2D() before the Dense head.",
    fires=("""
import keras
from keras import layers
model = keras.Sequential([keras.Input(shape=(28, 28, 1)), layers.Conv2D(32, 3, activation="relu"),
                          layers.MaxPooling2D(), layers.Dense(10, activation="softmax")])
""",),
    silent=("""
import keras
from keras import layers
model = keras.Sequential([keras.Input(shape=(28, 28, 1)), layers.Conv2D(32, 3, activation="relu"),
                          layers.MaxPooling2D(), layers.Flatten(), layers.Dense(10, activation="softmax")])
""", """
import keras
from keras import layers
inputs = keras.Input(shape=(14, 14, 64))
x = layers.Dense(256)(inputs)               # a pointwise projection inside the network (ConvNeXt style)
x = layers.DepthwiseConv2D(7, padding="same")(x)
model = keras.Model(inputs, layers.GlobalAveragePooling2D()(x))
"""),
)


def check(ctx):
    graph = ctx.run.graph
    outputs = {n for model in ctx.run.model_runs for n in model.output_nodes}
    for nid, data in ctx.nodes({"keras.layers.Dense"}):
        x = data["args"].get("inputs")
        if not isinstance(x, Tensor) or x.shape is None or len(x.shape) < 4:
            continue
        # the first Dense of the head: no Dense on the same map feeds it through pointwise layers
        feeder = origin(ctx, x, through=POINTWISE - {"keras.layers.Dense"})
        if feeder is not None and feeder["op"] == "keras.layers.Dense":
            continue
        # the head runs from this Dense to a model output through pointwise layers only
        after = ctx.descendants(nid)
        reached = ({nid} | after) & outputs
        if not reached or any(graph.nodes[n]["op"] not in POINTWISE for n in after):
            continue
        last = graph.nodes[max(reached)]["output"]
        ctx.report("CNN211", ctx.where_built(data["layer"], data),
                   f"{ctx.layer_label(data['layer'])} receives the feature map {shape_text(x)} and acts on its last "
                   f"axis only: the model's output is {shape_text(last)}, one prediction per position; add "
                   f"Flatten() or GlobalAveragePooling before it",
                   ctx.chain(x, 4))


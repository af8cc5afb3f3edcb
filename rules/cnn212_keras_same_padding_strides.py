"""CNN212 keras-same-padding-strides: padding='same' with strides > 1, merged later with a map it only matches
for some input sizes."""

from cnnlint.rulekit import Rule, shape_text, show
from cnnlint.rules._keras import CONCATENATE, ELEMENTWISE_MERGES, merge_inputs
from cnnlint.shapes.common import ntuple

RULE = Rule(
    code="CNN212",
    name="keras-same-padding-strides",
    severity="warning",
    summary="padding='same' with strides > 1 upstream of a merge whose sizes agree only for some input sizes",
    why="padding='same' keeps the size only at strides=1; with strides s the output is ceil(n / s). Upsampled "
        "back by s it is n only when s divides n, so a skip connection that adds or concatenates it with the "
        "original map fails for odd sizes (Keras raises 'Inputs have incompatible shapes').",
    fix="Make the input size a multiple of the total stride (pad or crop to it, or declare it), or crop the "
        "upsampled map to the skip's size (layers.Cropping2D) before merging.",
    fires=("""
import keras
from keras import layers
inputs = keras.Input(shape=(None, None, 3))
skip = layers.Conv2D(16, 3, padding="same")(inputs)
x = layers.Conv2D(16, 3, strides=2, padding="same")(skip)
x = layers.UpSampling2D()(x)
model = keras.Model(inputs, layers.Concatenate()([x, skip]))
""",),
    silent=("""
import keras
from keras import layers
inputs = keras.Input(shape=(64, 64, 3))
skip = layers.Conv2D(16, 3, padding="same")(inputs)
x = layers.Conv2D(16, 3, strides=2, padding="same")(skip)
x = layers.UpSampling2D()(x)
model = keras.Model(inputs, layers.Concatenate()([x, skip]))
""",),
)

def check(ctx):
    for nid, data in ctx.nodes(ELEMENTWISE_MERGES | {CONCATENATE}):
        parts = merge_inputs(data)
        if parts is None:
            continue
        strided = _same_strided_layers(ctx, nid)
        if not strided:
            continue
        first = parts[0]
        for p in parts[1:]:
            if len(p.shape) != len(first.shape):
                continue
            for axis, (a, b) in enumerate(zip(first.shape, p.shape)):
                if axis == 0 or a is None or b is None or ctx.differs(a, b):
                    continue          # the batch, unknown sizes, and certain mismatches (an error: CNN107)
                example = ctx.solver.differing_example(a, b)
                if example is None:
                    continue
                sizes = ", ".join(f"{k}={v}" for k, v in sorted(example.items()))
                layer = strided[-1]
                ctx.report("CNN212", ctx.call_site(data),
                           f"{ctx.layer_label(data['layer'])} merges {shape_text(first)} and {shape_text(p)}: axis "
                           f"{axis} agrees ({show(a)} vs {show(b)}) only for some input sizes and fails for "
                           f"{sizes}; {ctx.layer_label(layer)} uses padding='same' with strides="
                           f"{layer.arg('strides')}, which gives ceil(n / stride)",
                           [(layer.call, f"{ctx.layer_label(layer)}: padding='same', strides={layer.arg('strides')}")])
                return


def _same_strided_layers(ctx, nid):
    found = []
    for n in sorted(ctx.ancestors(nid)):
        layer = ctx.run.graph.nodes[n].get("layer")
        if layer is None or not layer.kind.startswith("keras.") or layer.args.get("padding") != "same":
            continue
        strides = ntuple(layer.args.get("strides", 1), 3)
        if any(isinstance(s, int) and s > 1 for s in strides):
            found.append(layer)
    return found

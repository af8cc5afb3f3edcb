"""CNN210 keras-channels-first-input: an image input shape written channels-first for channels_last layers."""

from cnnlint.rulekit import Rule, shape_text
from cnnlint.rules._keras import channels_last, consumers, declared_inputs

RULE = Rule(
    code="CNN210",
    name="keras-channels-first-input",
    severity="warning",
    summary="Keras image input shape that looks channels-first, e.g. (3, 256, 256), read by channels_last layers",
    why="Keras layers are channels_last unless data_format says otherwise: (3, 256, 256) is read as a 3-pixel-high "
        "image with 256 channels. Convolutions then shrink the 3 rows to nothing or run with the wrong kernel "
        "sizes, and the parameter count explodes.",
    fix="Write the shape channels last, (256, 256, 3), and transpose the data; or set data_format="
        "'channels_first' on the layers.",
    fires=("""
import keras
from keras import layers
model = keras.Sequential([keras.Input(shape=(3, 64, 64)), layers.Conv2D(16, 3, padding="same"),
                          layers.GlobalAveragePooling2D(), layers.Dense(10)])
""",),
    silent=("""
import keras
from keras import layers
model = keras.Sequential([keras.Input(shape=(64, 64, 3)), layers.Conv2D(16, 3, padding="same"),
                          layers.GlobalAveragePooling2D(), layers.Dense(10)])
""", """
import keras
from keras import layers
model = keras.Sequential([keras.Input(shape=(3, 64, 64)),
                          layers.Conv2D(16, 3, padding="same", data_format="channels_first")])
"""),
)

CHANNEL_COUNTS = (1, 3, 4)      # grey, RGB, RGBA
SPATIAL = ("Conv", "SeparableConv", "DepthwiseConv", "MaxPool", "AveragePool", "AvgPool")


def check(ctx):
    if "image_data_format" in ctx.run.file.source:     # the file sets the default layout itself
        return
    for given in declared_inputs(ctx):
        d = given.declared
        if len(d) not in (3, 4) or not all(isinstance(v, int) for v in d):
            continue
        if d[0] not in CHANNEL_COUNTS or any(v <= max(CHANNEL_COUNTS) for v in d[1:]):
            continue
        readers = consumers(ctx, given.tensor)
        first = readers[0]["layer"] if readers else None
        if first is None or not first.type_name.startswith(SPATIAL) or not channels_last(first):
            continue
        ctx.report("CNN210", given.node,
                   f"input shape {d} looks channels-first, but {ctx.layer_label(first)} is channels_last: it reads "
                   f"{shape_text(given.tensor)} as {d[-1]} channels of {' x '.join(map(str, d[:-1]))} pixels; "
                   f"write {d[1:] + d[:1]} or set data_format='channels_first'",
                   [(readers[0]["cst"], f"{ctx.layer_label(first)} reads it")])

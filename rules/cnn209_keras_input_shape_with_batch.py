"""CNN209 keras-input-shape-with-batch: an input shape that starts with the batch axis Keras adds itself."""

from cnnlint.rulekit import Rule, shape_text
from cnnlint.rules._keras import POINTWISE, consumers, declared_inputs, downstream_ops, keras_ranks

RULE = Rule(
    code="CNN209",
    name="keras-input-shape-with-batch",
    severity="warning",
    summary="Keras input_shape= / Input(shape=) that includes the batch dimension, e.g. (None, 784)",
    why="Keras adds the batch axis itself: input_shape=(None, 784) declares inputs of shape (batch, None, 784), "
        "a sequence of 784-vectors. A Dense stack then keeps the extra axis and every output gains it; a Conv2D "
        "given (None, 28, 28, 1) receives 5-D input and fails.",
    fix="Leave the batch out: input_shape=(784,), or pass batch_input_shape=(None, 784) / "
        "keras.Input(shape=(784,), batch_size=...).",
    fires=("""
import keras
from keras import layers
model = keras.Sequential([layers.Dense(64, activation="relu", input_shape=(None, 784)), layers.Dense(10)])
""",),
    silent=("""
import keras
from keras import layers
model = keras.Sequential([layers.Dense(64, activation="relu", input_shape=(784,)), layers.Dense(10)])
""", """
import keras
from keras import layers
inputs = keras.Input(shape=(None, 64))      # a sequence of any length
outputs = layers.LSTM(32)(inputs)
model = keras.Model(inputs, outputs)
"""),
)


def check(ctx):
    for given in declared_inputs(ctx):
        if not given.declared or given.declared[0] is not None or len(given.declared) < 2:
            continue
        readers = consumers(ctx, given.tensor)
        first = readers[0]["layer"] if readers else None
        ranks = keras_ranks(first.type_name) if first is not None else None
        rank = len(given.declared) + 1
        # the first layer rejects the rank as written and accepts it one axis shorter: the None is the batch
        batch_written = ranks is not None and rank not in ranks and rank - 1 in ranks
        # a stack of Dense layers reads no axis but the last: the leading None can only be a batch
        pointwise_only = len(given.declared) == 2 and readers and downstream_ops(ctx, given.tensor) <= POINTWISE
        if batch_written or pointwise_only:
            leave = tuple(given.declared[1:])
            ctx.report("CNN209", given.node,
                       f"input shape {_tuple(given.declared)} includes a leading None, but Keras adds the batch axis "
                       f"itself: the model receives {shape_text(given.tensor)}; write {_tuple(leave)}",
                       [(readers[0]["cst"], f"{ctx.layer_label(first)} reads it")] if readers else [])


def _tuple(values):
    inner = ", ".join("None" if v is None else str(v) for v in values)
    return f"({inner},)" if len(values) == 1 else f"({inner})"

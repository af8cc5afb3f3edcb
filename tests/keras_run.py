"""Running Keras model source in Keras 3 itself (torch backend) and reading back what Keras built, next to what
`cnnlint shapes` computes from the same source: shared by the fixture oracle and the random-model test."""

from __future__ import annotations

import importlib.util
import os
import sys
import types

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
from keras.src.utils import module_utils  # noqa: E402

from cnnlint.lint import lint_text  # noqa: E402
from cnnlint.positions import Positions  # noqa: E402
from cnnlint.summary import summarize  # noqa: E402


def load(path, module_name=None):
    """Import a source file with tf.keras-style imports mapped onto Keras 3 (no TensorFlow here), in a fresh Keras
    session so that automatic layer names (conv2d, conv2d_1, ...) count from zero as in a fresh program."""
    keras.backend.clear_session(free_memory=False)     # the names; a garbage collection would take 0.4 s
    # Keras looks TensorFlow up lazily (serializing a layer, as Bidirectional does): let it find out that there is
    # none before the stand-in below exists, so it never takes the stand-in for TensorFlow
    module_utils.tensorflow.available
    tensorflow = types.ModuleType("tensorflow")
    tensorflow.keras = keras
    mapped = {"tensorflow": tensorflow, "tensorflow.keras": keras, "tensorflow.keras.layers": keras.layers,
              "tensorflow.keras.models": keras.models}
    saved = {k: sys.modules.get(k) for k in mapped}
    sys.modules.update(mapped)
    data_format = keras.config.image_data_format()      # a file may switch it (set_image_data_format)
    try:
        spec = importlib.util.spec_from_file_location(module_name or f"keras_source_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        keras.config.set_image_data_format(data_format)
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v
    return module


def models_in(module):
    """The keras.Model values a module defines at its top level, by variable name."""
    return {name: value for name, value in vars(module).items() if isinstance(value, keras.Model)}


def keras_rows(model):
    """{layer name: (output shape with "N" for the batch and None for a size left open, count_params())} for
    every layer but the inputs."""
    rows = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        output = layer.output[0] if isinstance(layer.output, (list, tuple)) else layer.output   # cnnlint: the first
        rows[layer.name] = (tuple("N" if d is None and i == 0 else d for i, d in enumerate(output.shape)),
                            layer.count_params())
    return rows


def cnnlint_summaries(source, path):
    """(lint result, {model name: cnnlint's summary of it}) for a source text."""
    result = lint_text(source, path, keep_analysis=True)
    return result, {s.name: s for s in summarize(result, Positions(result.module))}


def assert_agrees(model, summaries):
    """cnnlint's rows for the model equal Keras' layer for layer (Keras lists a functional model's layers by graph
    depth, cnnlint in the order they run: compared per layer name), and so does the total."""
    assert model.name in summaries, f"cnnlint did not run {model.name}: {sorted(summaries)}"
    ours = summaries[model.name]
    if not isinstance(model, (keras.Sequential, keras.src.models.functional.Functional)):
        return _assert_subclassed_agrees(model, ours)
    theirs = keras_rows(model)
    # a size Keras leaves open (None) is a symbol for cnnlint (H, W, L); cnnlint has a row per call, Keras one
    # per layer: a layer called twice (shared) must have given the same row both times
    rows = {}
    for r in ours.rows:
        if not r.layer:
            continue        # a tensor operation cnnlint lists where a check fails (here a warning): no Keras layer
        rows.setdefault(r.name, set()).add((_open_sizes(r.output_shape), r.params))
    assert {name: next(iter(found)) for name, found in rows.items()} == theirs
    assert all(len(found) == 1 for found in rows.values()), rows
    assert ours.total_params == model.count_params()


def _assert_subclassed_agrees(model, ours):
    """A subclassed model has no graph to read shapes from: its leaf layers' parameters and the total must agree;
    layers made inside call() (keras.layers.add, ...) are not tracked by Keras and hold no weights."""
    leaves = {layer.name: layer.count_params() for layer in model._flatten_layers(include_self=False)
              if not layer._layers}
    rows = {r.name: r.params for r in ours.rows if r.layer}
    assert {name: rows.get(name) for name in leaves} == leaves
    assert all(params == 0 for name, params in rows.items() if name not in leaves)
    assert ours.total_params == model.count_params()


def _open_sizes(shape):
    return None if shape is None else tuple(d if isinstance(d, int) or (i == 0 and d == "N") else None
                                            for i, d in enumerate(shape))

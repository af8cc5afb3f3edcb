"""Keras models against Keras itself (Keras 3 on the torch backend): every layer's name, output shape and
count_params(), and the model's total, must equal what `cnnlint shapes` computes from the source."""

import importlib.util
import os
import sys
import types
from pathlib import Path

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")   # part of the test extras: in CI this always imports
from keras.src.utils import module_utils  # noqa: E402

from cnnlint.lint import lint_text  # noqa: E402
from cnnlint.positions import Positions  # noqa: E402
from cnnlint.summary import summarize  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted((ROOT / "fixtures" / "keras").rglob("*.py"))


def load(path):
    """Import a fixture with tf.keras-style imports mapped onto Keras 3 (no TensorFlow here), in a fresh Keras
    session so that automatic layer names (conv2d, conv2d_1, ...) count from zero as in a fresh program."""
    keras.backend.clear_session()
    # Keras looks TensorFlow up lazily (serializing a layer, as Bidirectional does): let it find out that there is
    # none before the stand-in below exists, so it never takes the stand-in for TensorFlow
    module_utils.tensorflow.available
    tensorflow = types.ModuleType("tensorflow")
    tensorflow.keras = keras
    mapped = {"tensorflow": tensorflow, "tensorflow.keras": keras, "tensorflow.keras.layers": keras.layers,
              "tensorflow.keras.models": keras.models}
    saved = {k: sys.modules.get(k) for k in mapped}
    sys.modules.update(mapped)
    try:
        spec = importlib.util.spec_from_file_location(f"keras_fixture_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v
    return module


def keras_rows(model):
    rows = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        output = layer.output[0] if isinstance(layer.output, (list, tuple)) else layer.output   # cnnlint: the first
        shape = tuple("N" if d is None else d for d in output.shape)
        rows.append((layer.name, shape, layer.count_params()))
    return rows


MODELS = [(path, name) for path in FILES for name, value in vars(load(path)).items()
          if isinstance(value, keras.Model)]


def test_there_are_keras_models():
    assert len(MODELS) >= 3


@pytest.mark.parametrize("path,name", MODELS, ids=[f"{p.stem}::{n}" for p, n in MODELS])
def test_shapes_and_parameters_agree_with_keras(path, name):
    model = getattr(load(path), name)
    result = lint_text(path.read_text(), path, keep_analysis=True)
    summaries = {s.name: s for s in summarize(result, Positions(result.module))}
    assert model.name in summaries, f"cnnlint did not run {model.name}: {sorted(summaries)}"
    ours = summaries[model.name]
    # Keras lists a functional model's layers by graph depth, cnnlint in the order they run: compare per layer
    assert {r.name: (r.output_shape, r.params) for r in ours.rows} == \
        {name: (shape, params) for name, shape, params in keras_rows(model)}
    assert len(ours.rows) == len(keras_rows(model))
    assert ours.total_params == model.count_params()
    assert result.diagnostics == []

"""Keras models against Keras itself (Keras 3 on the torch backend): every layer's name, output shape and
count_params(), and the model's total, must equal what `cnnlint shapes` computes from the source; the models
of fixtures/keras/errors must really fail in Keras, at a line cnnlint flags."""

import ast
import importlib.util
import os
import sys
import types
from pathlib import Path

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")   # part of the test extras: in CI this always imports

from cnnlint.lint import lint_text  # noqa: E402
from cnnlint.positions import Positions  # noqa: E402
from cnnlint.summary import summarize  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted((ROOT / "fixtures" / "keras" / "clean").rglob("*.py")) + \
    sorted((ROOT / "fixtures" / "keras" / "warnings").rglob("*.py"))
ERROR_FILES = sorted((ROOT / "fixtures" / "keras" / "errors").rglob("*.py"))


def load(path):
    """Import a fixture with tf.keras-style imports mapped onto Keras 3 (no TensorFlow here), in a fresh Keras
    session so that automatic layer names (conv2d, conv2d_1, ...) count from zero as in a fresh program."""
    keras.backend.clear_session()
    tensorflow = types.ModuleType("tensorflow")
    tensorflow.keras = keras
    saved = {k: sys.modules.get(k) for k in ("tensorflow", "tensorflow.keras", "tensorflow.keras.layers")}
    sys.modules.update({"tensorflow": tensorflow, "tensorflow.keras": keras, "tensorflow.keras.layers": keras.layers})
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
        shape = tuple("N" if d is None and i == 0 else d for i, d in enumerate(layer.output.shape))
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
    if not isinstance(model, (keras.Sequential, keras.src.models.functional.Functional)):
        _compare_subclassed(model, ours)
        assert [d for d in result.diagnostics if d.severity == "error"] == []
        return
    # Keras lists a functional model's layers by graph depth, cnnlint in the order they run: compare per layer
    # a size Keras leaves open (None) is a symbol for cnnlint (H, W, L)
    assert {r.name: (_open_sizes(r.output_shape), r.params) for r in ours.rows} == \
        {name: (shape, params) for name, shape, params in keras_rows(model)}
    assert len(ours.rows) == len(keras_rows(model))
    assert ours.total_params == model.count_params()
    assert [d for d in result.diagnostics if d.severity == "error"] == []


def _compare_subclassed(model, ours):
    """A subclassed model has no graph to read shapes from: its leaf layers' parameters and the total must agree;
    layers made inside call() (keras.layers.add, ...) are not tracked by Keras and hold no weights."""
    leaves = {layer.name: layer.count_params() for layer in model._flatten_layers(include_self=False)
              if not layer._layers}
    rows = {r.name: r.params for r in ours.rows}
    assert {name: rows.get(name) for name in leaves} == leaves
    assert all(params == 0 for name, params in rows.items() if name not in leaves)
    assert ours.total_params == model.count_params()


def _open_sizes(shape):
    return None if shape is None else tuple(d if isinstance(d, int) or (i == 0 and d == "N") else None
                                            for i, d in enumerate(shape))


def test_there_are_keras_error_fixtures():
    assert len(ERROR_FILES) >= 5


@pytest.mark.parametrize("path", ERROR_FILES, ids=[p.stem for p in ERROR_FILES])
def test_error_fixtures_fail_in_keras_where_cnnlint_says(path):
    flagged = {n for n, line in enumerate(path.read_text().splitlines(), 1) if "# expect: CNN1" in line}
    with pytest.raises(Exception) as failure:
        load(path)
    # the fixture's statement in the traceback is where Keras gave up (a whole Sequential([...]) for a layer in
    # its list): the line cnnlint flags must lie inside it
    lines = {entry.lineno + 1 for entry in failure.traceback if Path(str(entry.path)) == path}
    spans = [range(stmt.lineno, stmt.end_lineno + 1) for stmt in ast.parse(path.read_text()).body
             if stmt.lineno in lines]
    assert any(line in span for span in spans for line in flagged), \
        f"Keras failed at {sorted(lines)}, cnnlint flags {sorted(flagged)}: {failure.value}"

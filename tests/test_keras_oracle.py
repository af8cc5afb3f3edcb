"""Keras models against Keras itself (Keras 3 on the torch backend): every layer's name, output shape and
count_params(), and the model's total, must equal what `cnnlint shapes` computes from the source; the models
of fixtures/keras/errors must really fail in Keras, in the statement cnnlint flags."""

import ast
import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
pytest.importorskip("keras")   # part of the test extras: in CI this always imports
sys.path.insert(0, str(Path(__file__).resolve().parent))

from keras_run import assert_agrees, cnnlint_summaries, load, models_in  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted((ROOT / "fixtures" / "keras" / "clean").rglob("*.py")) + \
    sorted((ROOT / "fixtures" / "keras" / "warnings").rglob("*.py"))
ERROR_FILES = sorted((ROOT / "fixtures" / "keras" / "errors").rglob("*.py"))

MODELS = [(path, name) for path in FILES for name in models_in(load(path))]


def test_there_are_keras_models():
    assert len(MODELS) >= 3


@pytest.mark.parametrize("path,name", MODELS, ids=[f"{p.stem}::{n}" for p, n in MODELS])
def test_shapes_and_parameters_agree_with_keras(path, name):
    model = models_in(load(path))[name]
    result, summaries = cnnlint_summaries(path.read_text(), path)
    assert_agrees(model, summaries)
    assert [d for d in result.diagnostics if d.severity == "error"] == []


FUNCTIONAL = [(path, name) for path, name in MODELS
              if type(models_in(load(path))[name]).__name__ == "Functional"]


@pytest.mark.parametrize("path,name", FUNCTIONAL, ids=[f"{p.stem}::{n}" for p, n in FUNCTIONAL])
def test_connected_to_agrees_with_keras(path, name):
    """The "Connected to" of each row is what Keras' model.summary() lists: the layers whose outputs the call
    reads, in argument order (a model input is `input`); a shared layer's k-th call is its k-th node."""
    import keras
    model = models_in(load(path))[name]
    layers = {layer.name for layer in model.layers}
    theirs = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        theirs[layer.name] = [["input" if isinstance(t._keras_history.operation, keras.layers.InputLayer)
                               else t._keras_history.operation.name for t in node.arguments.keras_tensors]
                              for node in layer._inbound_nodes]
    _, summaries = cnnlint_summaries(path.read_text(), path)
    ours = {}
    for row in summaries[model.name].rows:
        if row.layer:
            ours.setdefault(row.name, []).append(row.connected_to)
    compared = 0
    for name, calls in ours.items():
        for k, connected in enumerate(calls):
            # Keras names the operations between layers too (`x + y` is an op `add_2`, a mask an op `any`):
            # cnnlint looks through them to the layers, so such a call is not compared
            if all(source in layers or source == "input" for source in theirs[name][k]):
                assert connected == theirs[name][k], (name, k)
                compared += 1
    assert compared >= len(ours) / 2


def test_there_are_keras_error_fixtures():
    assert len(ERROR_FILES) >= 5


@pytest.mark.parametrize("path", ERROR_FILES, ids=[p.stem for p in ERROR_FILES])
def test_error_fixtures_fail_in_keras_where_cnnlint_says(path):
    flagged = {n for n, line in enumerate(path.read_text().splitlines(), 1) if "# expect: CNN1" in line}
    with pytest.raises(Exception) as failure:
        load(path)
    # the fixture's statement in the traceback is where Keras gave up (a whole Sequential([...]) for a layer in
    # its list): the line cnnlint flags must lie inside it, or inside the class whose call() failed (a subclassed
    # model's layer is flagged where __init__ builds it)
    lines = {entry.lineno + 1 for entry in failure.traceback if Path(str(entry.path)) == path}
    tree = ast.parse(path.read_text())
    spans = [range(stmt.lineno, stmt.end_lineno + 1) for stmt in tree.body if stmt.lineno in lines]
    spans += [range(cls.lineno, cls.end_lineno + 1) for cls in tree.body if isinstance(cls, ast.ClassDef)
              and any(cls.lineno <= line <= cls.end_lineno for line in lines)]
    assert any(line in span for span in spans for line in flagged), \
        f"Keras failed at {sorted(lines)}, cnnlint flags {sorted(flagged)}: {failure.value}"

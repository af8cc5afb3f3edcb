"""Keras models against Keras itself (Keras 3 on the torch backend): every layer's name, output shape and
count_params(), and the model's total, must equal what `cnnlint shapes` computes from the source."""

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
pytest.importorskip("keras")   # part of the test extras: in CI this always imports
sys.path.insert(0, str(Path(__file__).resolve().parent))

from keras_run import assert_agrees, cnnlint_summaries, load, models_in  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted((ROOT / "fixtures" / "keras").rglob("*.py"))

MODELS = [(path, name) for path in FILES for name in models_in(load(path))]


def test_there_are_keras_models():
    assert len(MODELS) >= 3


@pytest.mark.parametrize("path,name", MODELS, ids=[f"{p.stem}::{n}" for p, n in MODELS])
def test_shapes_and_parameters_agree_with_keras(path, name):
    model = models_in(load(path))[name]
    result, summaries = cnnlint_summaries(path.read_text(), path)
    assert_agrees(model, summaries)
    assert result.diagnostics == []

"""Differential fuzzing of cnnlint's Keras analysis against Keras itself (Keras 3, torch backend).

tests/keras_modelgen.py writes random Keras models as source (Sequential lists and functional chains with an
occasional residual merge). Each text is written to a file, linted by cnnlint, and executed by Keras (the test
runs the code it generated itself). When Keras builds the model, every layer's name, output shape and
count_params(), and the total, must equal cnnlint's, and cnnlint must report nothing. When Keras refuses it,
cnnlint must report an error. When Keras builds a model in which a size reaches 0, cnnlint must not crash.

Derandomized with a fixed example count, so CI sees the same models every run.
"""
from __future__ import annotations

import os
import sys
import tempfile
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, find, given, note, settings

os.environ.setdefault("KERAS_BACKEND", "torch")
pytest.importorskip("keras")   # part of the test extras: in CI this always imports
sys.path.insert(0, str(Path(__file__).resolve().parent))

from keras_modelgen import keras_models  # noqa: E402
from keras_run import assert_agrees, cnnlint_summaries, keras_rows, load, models_in  # noqa: E402

fuzz_settings = settings(
    max_examples=int(os.environ.get("CNNLINT_KERAS_FUZZ_EXAMPLES", "100")),
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def build(source, path):
    """The model Keras builds from the source, or the exception it raises."""
    path.write_text(source)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")      # masks a layer drops, and the like: not errors
            return models_in(load(path, "keras_random_model"))["model"], None
    except Exception as exc:   # noqa: BLE001 - any refusal by Keras is an outcome to record
        return None, exc


@fuzz_settings
@given(gm=keras_models())
def test_cnnlint_matches_keras(gm):
    note(gm.source)
    with tempfile.TemporaryDirectory() as tmpdir:
        path = Path(tmpdir) / "generated_keras_model.py"
        model, error = build(gm.source, path)
        result, summaries = cnnlint_summaries(gm.source, path)      # must not raise, whatever Keras said
    if error is not None:
        event(f"keras raised {type(error).__name__}")
        note(f"keras: {type(error).__name__}: {error}")
        assert not gm.expect_build, f"the generator expected a model Keras builds: {error}"
        # every refusal the generator makes is a shape error cnnlint knows: it must say so
        assert [d for d in result.diagnostics if d.severity == "error"], f"Keras refused it, cnnlint is silent: {error}"
        return
    if any(0 in shape for shape, _ in keras_rows(model).values()):
        # Keras' symbolic build lets a size reach 0 (a transposed conv over one step); cnnlint makes such a size
        # unknown on purpose (it is a collapse, for the rules to judge): nothing to compare
        event("keras built a model with a zero-size axis")
        return
    event(f"keras built a {gm.style} {gm.family} model")
    note("cnnlint: " + repr({n: [(r.name, r.output_shape, r.params) for r in s.rows] for n, s in summaries.items()}))
    assert_agrees(model, summaries)
    assert result.diagnostics == []


def test_generator_makes_residual_functional_models():
    found = find(keras_models(), lambda m: m.style == "functional" and "[x" in m.source,
                 settings=settings(database=None, derandomize=True, max_examples=2000))
    assert "keras.Model(" in found.source

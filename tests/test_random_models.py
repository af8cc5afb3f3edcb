"""Differential fuzzing: cnnlint's static shape inference against real torch runs.

Random model sources come from tests/modelgen.py. For each one torch is the
oracle: cnnlint must report an error-severity diagnostic iff torch raised, and
for models that run, its per-leaf-call output shapes must equal torch's.

Environment:
  CNNLINT_FUZZ_EXAMPLES  examples per test (default 150)
  CI                     when set, load the derandomized "ci" hypothesis profile
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, find, given, note, settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from modelgen import FAMILIES, models, run_in_torch  # noqa: E402

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
if os.environ.get("CI"):
    settings.load_profile("ci")

MAX_EXAMPLES = int(os.environ.get("CNNLINT_FUZZ_EXAMPLES", "150"))

fuzz_settings = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _torch_run(gm, tmpdir):
    path = os.path.join(tmpdir, "generated_model.py")
    return path, run_in_torch(gm.source, path, gm.input_shape, gm.dtype)


@fuzz_settings
@given(gm=models())
def test_generator_torch_side(gm):
    """The generator is honest: its error claim and tracked shapes match torch."""
    note(gm.source)
    with tempfile.TemporaryDirectory() as tmpdir:
        _, run = _torch_run(gm, tmpdir)
    note(f"generator: expect_error={gm.expect_error} reason={gm.error_reason}")
    note(f"torch: raised={run.raised} error={run.error}")
    assert run.raised == gm.expect_error, (gm.error_reason, run.error)
    if not run.raised:
        assert run.calls == gm.expected_calls
        assert run.output_shape == gm.expected_calls[-1][1]
    else:
        # the calls before the failing one ran with the tracked shapes too
        assert run.calls == gm.expected_calls[: len(run.calls)]


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("expect_error", [False, True])
def test_generator_produces_both_outcomes(family, expect_error):
    """Every family yields both consistent and inconsistent models."""
    gm = find(
        models(family=family),
        lambda m: m.expect_error == expect_error,
        settings=settings(max_examples=2000, database=None, phases=[Phase.generate]),
    )
    assert gm.expect_error == expect_error


@pytest.mark.parametrize("reason", ["spatial collapse", "wrong in_channels", "wrong in_features",
                                    "wrong num_features", "wrong input_size", "view numel"])
def test_generator_produces_each_error_kind(reason):
    gm = find(
        models(),
        lambda m: m.error_reason is not None and m.error_reason.startswith(reason),
        settings=settings(max_examples=5000, database=None, phases=[Phase.generate]),
    )
    assert gm.error_reason.startswith(reason)


def _shape(s):
    return None if s is None else tuple(s)


@fuzz_settings
@given(gm=models())
def test_cnnlint_matches_torch(gm):
    from cnnlint.api import analyze_source

    note(gm.source)
    with tempfile.TemporaryDirectory() as tmpdir:
        path, run = _torch_run(gm, tmpdir)
        fa = analyze_source(gm.source, path=path)
    errors = [d for d in fa.diagnostics if d.severity == "error"]
    note(f"torch: raised={run.raised} error={run.error}")
    note("torch calls: " + repr(run.calls))
    note("cnnlint diagnostics: " + repr([(d.code, d.line, d.message, d.severity) for d in fa.diagnostics]))
    if fa.models:
        note("cnnlint calls: " + repr([(c.name, _shape(c.output_shape)) for c in fa.models[0].calls]))
    assert bool(errors) == run.raised, (
        "cnnlint error diagnostics must appear iff torch raised "
        f"(torch raised={run.raised}: {run.error}; cnnlint errors={[(d.code, d.line) for d in errors]})"
    )
    if not run.raised:
        assert fa.models, "cnnlint analysed no model"
        got = [(c.name, _shape(c.output_shape)) for c in fa.models[0].calls]
        assert got == run.calls
        from cnnlint.lint import lint_text
        from cnnlint.positions import Positions
        from cnnlint.summary import summarize
        kept = lint_text(gm.source, path, keep_analysis=True)
        assert summarize(kept, Positions(kept.module))[0].total_params == run.params

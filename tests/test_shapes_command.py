"""`cnnlint shapes` against torch: every row's output shape and parameter count, and the model's total."""

import json
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch

from test_oracle_torch import SPECS, build_model, is_concrete, make_inputs, recorded_modules

from cnnlint.lint import lint_text
from cnnlint.positions import Positions
from cnnlint.summary import summarize

ROOT = Path(__file__).resolve().parent.parent
RUNNABLE = [s for s in SPECS if s.kind in ("clean", "warnings") and is_concrete(s)]


def torch_table(spec):
    model = build_model(spec)
    model.eval()
    rows = []
    for name, module in recorded_modules(model):
        def hook(mod, args, output, _name=name):
            out = output[0] if isinstance(output, (tuple, list)) else output
            rows.append((_name, tuple(out.shape), sum(p.numel() for p in mod.parameters())))
        module.register_forward_hook(hook)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model(*make_inputs(spec))
    return rows, sum(p.numel() for p in model.parameters())


def cnnlint_summary(spec):
    result = lint_text(spec.path.read_text(), spec.path, keep_analysis=True)
    found = [s for s in summarize(result, Positions(result.module)) if s.name == spec.name and s.source == "comment"]
    assert found, f"cnnlint did not run {spec.name}"
    return found[0]


@pytest.mark.parametrize("spec", RUNNABLE, ids=[s.id for s in RUNNABLE])
def test_rows_and_parameters_agree_with_torch(spec):
    rows, total = torch_table(spec)
    summary = cnnlint_summary(spec)
    ours = [(r.name, r.output_shape, r.params) for r in summary.rows]
    assert ours == rows
    assert summary.total_params == total


def test_table_against_golden_files():
    """Golden tables written from torch's numbers (tests/golden/*.txt: the command and the expected output)."""
    goldens = sorted((ROOT / "tests" / "golden").glob("*.txt"))
    assert len(goldens) >= 2
    for golden in goldens:
        command, _, expected = golden.read_text().partition("\n")
        args = command.removeprefix("$ cnnlint ").split()
        out = subprocess.run([sys.executable, "-m", "cnnlint", *args], capture_output=True, text=True, cwd=ROOT,
                             timeout=120).stdout
        assert out == expected, golden.name


def test_json_and_dot(tmp_path):
    path = ROOT / "fixtures" / "torch" / "clean" / "lenet.py"
    out = subprocess.run([sys.executable, "-m", "cnnlint", "shapes", str(path), "--format", "json"],
                         capture_output=True, text=True, timeout=120).stdout
    data = json.loads(out)
    first = data[0]
    assert set(first) >= {"model", "input", "layers", "total_params"}
    assert set(first["layers"][0]) == {"name", "type", "line", "output_shape", "params"}
    dot = subprocess.run([sys.executable, "-m", "cnnlint", "shapes", str(path), "--format", "dot"],
                         capture_output=True, text=True, timeout=120).stdout
    assert dot.startswith("digraph cnnlint {") and "->" in dot and dot.rstrip().endswith("}")


def test_input_override_and_symbolic_constraints(tmp_path):
    path = ROOT / "fixtures" / "torch" / "inferred" / "symbolic_inputs.py"
    out = subprocess.run([sys.executable, "-m", "cnnlint", "shapes", str(path), "--model", "LeNetAnySize"],
                         capture_output=True, text=True, timeout=120).stdout
    assert "(N, 16, H//2 - 6, W//2 - 6)" in out
    assert "needs H = W in 32..35" in out          # 16 * h * w = 400 only for these square sizes (and others)
    out = subprocess.run([sys.executable, "-m", "cnnlint", "shapes", str(path), "--model", "LeNetAnySize",
                          "--input", "2,3,32,32", "--format", "json"], capture_output=True, text=True,
                         timeout=120).stdout
    rows = json.loads(out)[0]["layers"]
    assert [r["output_shape"] for r in rows] == [[2, 6, 28, 28], [2, 16, 10, 10], [2, 120], [2, 10]]

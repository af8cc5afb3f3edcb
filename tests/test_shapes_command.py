"""`cnnlint shapes` against torch: every row's output shape and parameter count, and the model's total."""

import json
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch

from test_oracle_torch import ERROR_CODES

from test_oracle_torch import SPECS, build_model, is_concrete, make_inputs, recorded_modules, run_in_torch

from cnnlint.lint import lint_text
from cnnlint.positions import Positions
from cnnlint.summary import summarize

ROOT = Path(__file__).resolve().parent.parent
RUNNABLE = [s for s in SPECS if s.kind in ("clean", "warnings") and is_concrete(s)]
FAILING = [s for s in SPECS if s.kind == "errors" and is_concrete(s)]


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
    ours = [(r.name, r.output_shape, r.params) for r in summary.rows if r.layer]
    assert ours == rows
    assert summary.total_params == total


@pytest.mark.parametrize("spec", RUNNABLE, ids=[s.id for s in RUNNABLE])
def test_mult_adds_agree_with_torchinfo(spec):
    """torchinfo runs the model and counts multiply-adds per leaf module call (LayerInfo.calculate_macs); cnnlint
    must give the same number for every leaf layer row, and the same total."""
    torchinfo = pytest.importorskip("torchinfo")
    model = build_model(spec)
    model.eval()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = torchinfo.summary(model, input_data=make_inputs(spec), verbose=0)
    names = {id(m): n for n, m in recorded_modules(model) if next(m.children(), None) is None}
    theirs = [(names[info.layer_id], info.macs) for info in stats.summary_list if info.layer_id in names]
    summary = cnnlint_summary(spec)
    leaf_names = set(names.values())
    ours = [(r.name, r.mult_adds) for r in summary.rows if r.layer and r.name in leaf_names]
    assert [(n, m if m else 0) for n, m in ours] == theirs
    assert summary.total_mult_adds == stats.total_mult_adds


@pytest.mark.parametrize("spec", FAILING, ids=[s.id for s in FAILING])
def test_marked_row_is_where_torch_raises(spec):
    """An error fixture's table marks a row, and the first marked row is where torch raises: the leaf module
    whose call raised, after exactly the layer calls torch completed (an operation row when torch raised outside
    any layer, as in a view); for a model torch cannot even build, a layer built on a line the error is blamed
    on."""
    run = run_in_torch(spec)
    assert run.error is not None
    summary = cnnlint_summary(spec)
    marked = [i for i, r in enumerate(summary.rows) if r.failed]
    assert summary.failed and marked, f"no row of {spec.id} is marked"
    first = summary.rows[marked[0]]
    assert all(d.code in ERROR_CODES for d in first.findings if d.severity == "error")
    if not run.constructed:
        assert {d.line for d in first.findings} & run.blame_lines
        return
    completed = [r.name for r in summary.rows[:marked[0]] if r.layer]
    assert completed == [name for name, _, _ in run.rows]
    if run.failed_in is not None:
        assert first.layer and first.name == run.failed_in
    else:
        assert not first.layer, f"torch raised outside any layer, but cnnlint marks {first.name} ({first.type})"


def test_marked_rows_in_table_json_and_exit_code():
    path = ROOT / "fixtures" / "torch" / "errors" / "cnn101_linear_in_features.py"
    r = subprocess.run([sys.executable, "-m", "cnnlint", "shapes", str(path), "--model", "LeNet5"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    (marked,) = [i for i, line in enumerate(lines) if line.startswith("x  ")]
    assert lines[marked].split()[1:3] == ["fc1", "Linear"]
    assert lines[marked + 1].strip().startswith("^ error CNN101 (line 15): `fc1` (Linear) expects 400 input features")
    assert "(4, 256)" in lines[marked + 1]
    # the rows after it go on: fc2 and fc3 still have their shapes
    assert [line.split()[0] for line in lines[marked + 2:marked + 4]] == ["fc2", "fc3"]
    assert "(4, 10)" in lines[marked + 3]
    data = json.loads(subprocess.run([sys.executable, "-m", "cnnlint", "shapes", str(path), "--format", "json"],
                                     capture_output=True, text=True, timeout=120).stdout)
    by_model = {m["model"]: m for m in data}
    assert by_model["LeNet5"]["failed"] is True
    findings = {row["name"]: [f["code"] for f in row["findings"]] for row in by_model["LeNet5"]["layers"]}
    assert findings == {"conv1": [], "conv2": [], "fc1": ["CNN101"], "fc2": [], "fc3": []}
    assert [f["line"] for row in by_model["mnist_mlp"]["layers"] for f in row["findings"]] == [49]
    clean = ROOT / "fixtures" / "torch" / "clean" / "lenet.py"
    assert subprocess.run([sys.executable, "-m", "cnnlint", "shapes", str(clean)], capture_output=True,
                          timeout=120).returncode == 0


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
    assert set(first) >= {"path", "aliases", "total_mult_adds", "findings", "failed"}
    assert set(first["layers"][0]) == {"name", "type", "kind", "line", "output_shape", "params", "mult_adds", "kernel",
                                       "connected_to", "findings"}
    assert first["layers"][0]["kernel"] == [5, 5] and first["layers"][0]["connected_to"] == ["input"]
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


SCRIPT = """import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.fc = nn.Linear(8 * 30 * 30, 10)

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x)).flatten(1))


def main():
    model = Net()
    criterion = nn.CrossEntropyLoss()
    out = model(torch.randn(2, 3, 32, 32))
    loss = criterion(out, torch.randint(0, 10, (2,)))


head = nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Linear(30, 5))
"""


def shapes_json(*args, cwd=None):
    r = subprocess.run([sys.executable, "-m", "cnnlint", "shapes", *map(str, args), "--format", "json"],
                       capture_output=True, text=True, timeout=120, cwd=cwd)
    return r.returncode, json.loads(r.stdout) if r.stdout.strip() else None, r.stderr


def test_one_table_per_model_no_losses_and_variables(tmp_path):
    path = tmp_path / "train.py"
    path.write_text(SCRIPT)
    code, data, _ = shapes_json(path)
    assert code == 1                              # head's last Linear fails
    assert [m["model"] for m in data] == ["Net", "head"]       # no CrossEntropyLoss, Net once
    net = data[0]
    assert net["source"] == "example" and net["input"] == [[2, 3, 32, 32]]
    assert net["also_run"] == [{"input": [["N", 3, "H", "W"]], "source": "guess"}]
    assert net["aliases"] == ["model"]
    code, data, _ = shapes_json(path, "--model", "model")     # the variable in main()
    assert code == 0 and [m["model"] for m in data] == ["Net"]
    code, data, err = shapes_json(path, "--model", "head")
    assert code == 1 and data[0]["layers"][2]["findings"][0]["message"].startswith("`head[2]` (Linear)")


KERAS_SCRIPT = """import numpy as np
import keras
from keras import layers


def build_model():
    model = keras.Sequential()
    model.add(layers.Input(shape=(28, 28, 1)))
    model.add(layers.Conv2D(8, 3))
    model.add(layers.Flatten())
    model.add(layers.Dense(10))
    return model


def make(width):
    return keras.Sequential([layers.Input(shape=(4,)), layers.Dense(width)])


model = build_model()
model.compile(optimizer="adam", loss="mse")
X = np.random.random((16, 28, 28, 1))
model.fit(X, np.zeros((16, 10)), epochs=1)
small, large = make(5), make(7)
"""


def test_a_model_built_by_a_function_and_fitted_is_one_table(tmp_path):
    # `build_model()` run as a builder, the module's `model` and `model.fit(X)` are runs of one model: one table,
    # the other inputs under "also run"; `make(5)` and `make(7)` come from one constructor call but differ
    path = tmp_path / "train.py"
    path.write_text(KERAS_SCRIPT)
    code, data, _ = shapes_json(path)
    assert code == 0
    fitted = [m for m in data if [row["type"] for row in m["layers"]] == ["Conv2D", "Flatten", "Dense"]]
    assert len(fitted) == 1
    assert [16, 28, 28, 1] in [run["input"][0] for run in fitted[0]["also_run"]] + [fitted[0]["input"][0]]
    dense = sorted(m["layers"][0]["output_shape"][-1] for m in data if m["model"] in ("small", "large"))
    assert dense == [5, 7]


def test_input_option_is_labelled_as_such():
    path = ROOT / "fixtures" / "torch" / "clean" / "lenet.py"
    out = subprocess.run([sys.executable, "-m", "cnnlint", "shapes", str(path), "--model", "Net", "--input",
                          "2,3,32,32"], capture_output=True, text=True, timeout=120).stdout
    assert out.splitlines()[0] == "Net  input (2, 3, 32, 32)  [--input]"
    assert "Also run on" not in out          # --input replaces the comment's (4, 3, 32, 32) for every model


def test_directories_and_several_paths():
    clean = ROOT / "fixtures" / "torch" / "clean"
    lenet = clean / "lenet.py"
    code, data, _ = shapes_json(clean, ROOT / "fixtures" / "keras" / "clean" / "functional.py")
    assert code == 0
    paths = {Path(m["path"]) for m in data}
    assert lenet in paths and ROOT / "fixtures" / "keras" / "clean" / "functional.py" in paths
    assert len(paths) >= 5
    out = subprocess.run([sys.executable, "-m", "cnnlint", "shapes", str(clean)], capture_output=True, text=True,
                         timeout=120).stdout
    assert f"{lenet}:" in out.splitlines()
    r = subprocess.run([sys.executable, "-m", "cnnlint", "shapes", str(clean / "missing.py")], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 2 and "no such file" in r.stderr


def test_columns_option():
    path = ROOT / "fixtures" / "torch" / "clean" / "lenet.py"
    out = subprocess.run([sys.executable, "-m", "cnnlint", "shapes", str(path), "--model", "Net", "--columns",
                          "kernel,mult-adds,connected-to"], capture_output=True, text=True, timeout=120).stdout
    header = out.splitlines()[2].split()
    assert header == ["Layer", "(name)", "Type", "Kernel", "Mult-adds", "Connected", "to"]
    first = out.splitlines()[4].split()
    # conv1 = Conv2d(3, 6, 5) on (4, 3, 32, 32): 456 parameters, each used at 4 x 28 x 28 output positions
    assert first == ["conv1", "Conv2d", "[5,", "5]", f"{456 * 4 * 28 * 28:,}", "input"]
    r = subprocess.run([sys.executable, "-m", "cnnlint", "shapes", str(path), "--columns", "mult_add,kernels"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "did you mean `mult-adds`" in r.stderr

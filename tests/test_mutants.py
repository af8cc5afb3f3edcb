"""bench/mutants.py: its mutation operators, its oracle on a tiny model, and "flagged at the right line"."""

import ast
import importlib.util
import sys
from pathlib import Path

import cnnlint

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


mutants = _load("mutants")
oracle = _load("mutants_oracle")

SOURCE = """\
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, kernel_size=3)
        self.fc = nn.Linear(8 * 5 * 5, 10)

    def forward(self, x):
        x = self.conv(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


def build():
    return Net()
"""


def changed_lines(original, mutant):
    a, b = original.splitlines(), mutant.splitlines()
    assert len(a) == len(b)
    return {i + 1: b[i].strip() for i in range(len(a)) if a[i] != b[i]}


def test_each_mutant_changes_one_place_and_the_operators_cover_layers_and_ops():
    found = {}
    for m in mutants.mutations(SOURCE):
        mutant = m.apply(SOURCE)
        ast.parse(mutant)
        changed = changed_lines(SOURCE, mutant)
        assert list(changed) == [m.line], m
        found[changed[m.line]] = m.op
    assert found["self.conv = nn.Conv2d(3, 9, kernel_size=3)"] == "layer-arg"          # out_channels + 1
    assert found["self.conv = nn.Conv2d(3, 16, kernel_size=3)"] == "layer-arg"         # * 2
    assert found["self.conv = nn.Conv2d(4, 8, kernel_size=3)"] == "layer-arg"          # in_channels + 1
    assert found["self.conv = nn.Conv2d(3, 8, kernel_size=4)"] == "layer-arg"
    assert found["self.conv = nn.Conv2d(8, 3, kernel_size=3)"] == "layer-swap"
    assert found["self.fc = nn.Linear((8 * 5 * 5) // 2, 10)"] == "layer-arg"
    assert found["x = torch.flatten(x, 2)"] == "dim"
    assert found["x = x"] == "drop-op"                                                 # the flatten dropped
    # nothing else is touched: not the calls of the layers, not super().__init__(), not the builder
    assert {m.line for m in mutants.mutations(SOURCE)} == {8, 9, 13}


def test_keras_operators():
    source = ("from keras import layers\n"
              "x = layers.Conv2D(16, 3)(inputs)\n"
              "y = layers.Add()([x, inputs])\n"
              "z = layers.Flatten()(y)\n"
              "w = layers.Concatenate(axis=-1)([z, z])\n")
    found = set()
    for m in mutants.mutations(source, "keras"):
        found.update(changed_lines(source, m.apply(source)).values())
    assert "x = layers.Conv2D(17, 3)(inputs)" in found
    assert "y = layers.Concatenate()([x, inputs])" in found
    assert "z = y" in found
    assert "w = layers.Concatenate(axis=-2)([z, z])" in found


def test_sampling_is_seeded_and_capped():
    candidates = mutants.mutations(SOURCE)
    first = mutants.sample(candidates, 4, "0:model.py")
    assert len(first) == 4
    assert first == mutants.sample(candidates, 4, "0:model.py")
    assert len(mutants.sample(candidates, 100, "0:model.py")) == len(candidates)
    assert [m.start for m in first] == sorted(m.start for m in first)


def test_flagged_only_by_an_error_at_the_mutation_the_crash_or_the_failing_layer():
    torch_said = {"crash": ["pkg/model.py", 14], "build_line": 9}
    lines = mutants.target_lines(8, 8, torch_said, "pkg/model.py")
    assert lines == {8, 9, 14}
    assert mutants.target_lines(8, 8, {"crash": ["pkg/layers.py", 14]}, "pkg/model.py") == {8}
    # the failing layer's constructor call spans lines 9-11: a finding at its arguments counts
    source = "\n" * 8 + "self.proj = Conv(\n    c_in,\n    c_out)\n"
    assert mutants.target_lines(8, 8, torch_said, "pkg/model.py", source) == {8, 9, 10, 11, 14}
    error_at = lambda line, end=None, severity="error": {"line": line, "end_line": end or line, "code": "CNN101",
                                                         "severity": severity, "message": ""}
    assert mutants.flagged_by([error_at(9)], lines)
    assert mutants.flagged_by([error_at(5, 9)], lines)                 # a finding spanning several lines
    assert not mutants.flagged_by([error_at(10)], lines)
    assert not mutants.flagged_by([error_at(9, severity="warning")], lines)
    assert not mutants.flagged_by([], lines)


class TinyAdapter(oracle.Adapter):
    def input_candidates(self, model, name):
        return [[1, 3, 7, 7]]


def test_the_oracle_keeps_a_real_shape_bug_and_cnnlint_is_matched_at_the_failing_layer(tmp_path):
    (tmp_path / "tiny_mutant_model.py").write_text(SOURCE)
    adapter = TinyAdapter()
    adapter.bootstrap(str(tmp_path))
    job = {"kind": "baseline", "file": "tiny_mutant_model.py", "source": SOURCE}
    try:
        base = oracle.run_job(adapter, job)
        assert base["status"] == "ok"
        assert [b["name"] for b in base["builders"]] == ["build"]
        assert {8, 9, 12, 13, 14} <= set(base["lines"])
        (conv,) = [m for m in mutants.mutations(SOURCE) if m.line == 8 and m.new == "9"]
        mutant = conv.apply(SOURCE)
        result = oracle.run_job(adapter, {**job, "kind": "mutant", "source": mutant, "builders": base["builders"]})
    finally:
        sys.modules.pop("tiny_mutant_model", None)
    assert result["status"] == "error" and result["type"] == "RuntimeError"
    assert result["crash"] == ["tiny_mutant_model.py", 14]               # return self.fc(x)
    assert result["build_line"] == 9                                     # the Linear that failed
    assert mutants.is_shape_error(result)
    assert not mutants.is_shape_error({**result, "type": "TypeError", "bases": ["TypeError", "Exception"]})
    assert not mutants.is_shape_error({"status": "ok"})
    findings = [{"line": d.line, "end_line": d.end_line, "code": d.code, "severity": d.severity, "message": ""}
                for d in cnnlint.lint_source(mutant, path="tiny_mutant_model.py")]
    hits = mutants.flagged_by(findings, mutants.target_lines(8, 8, result, "tiny_mutant_model.py"))
    assert [h["code"] for h in hits] == ["CNN101"]      # 9 channels * h * w can never be the 200 it expects

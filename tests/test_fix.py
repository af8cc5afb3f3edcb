"""--fix, --diff and --unsafe-fixes: before/after pairs, idempotence, formatting kept, and the torch oracle:
every error fixture whose findings all have fixes runs in torch once fixed."""

import subprocess
import sys
from pathlib import Path

import pytest

from test_oracle_torch import fixture_files, make_inputs, parse_models

from cnnlint.fix import fix_text
from cnnlint.lint import lint_text

ROOT = Path(__file__).resolve().parent.parent
PAIRS = sorted((ROOT / "tests" / "fix_pairs").glob("*.before.py"))


@pytest.mark.parametrize("before", PAIRS, ids=[p.name for p in PAIRS])
def test_before_after_pairs(before, tmp_path):
    after = before.with_name(before.name.replace(".before.", ".after."))
    target = tmp_path / "model.py"
    target.write_text(before.read_text())
    r = subprocess.run([sys.executable, "-m", "cnnlint", str(target), "--fix", "--unsafe-fixes", "--no-cache"],
                       capture_output=True, text=True, timeout=120)
    assert target.read_text() == after.read_text(), r.stderr
    assert r.returncode == 0, r.stdout
    again = subprocess.run([sys.executable, "-m", "cnnlint", str(target), "--fix", "--unsafe-fixes", "--no-cache"],
                           capture_output=True, text=True, timeout=120)
    assert "Fixed 0 findings" in again.stderr and target.read_text() == after.read_text()


def test_safe_fixes_only_without_the_flag(tmp_path):
    target = tmp_path / "model.py"
    target.write_text((ROOT / "tests" / "fix_pairs" / "text_cnn.before.py").read_text())
    r = subprocess.run([sys.executable, "-m", "cnnlint", str(target), "--fix", "--no-cache"], capture_output=True,
                       text=True, timeout=120)
    assert "Fixed 0 findings" in r.stderr and r.returncode == 1     # the transpose changes behaviour: unsafe


def test_diff_writes_nothing(tmp_path):
    target = tmp_path / "model.py"
    original = (ROOT / "tests" / "fix_pairs" / "lenet.before.py").read_text()
    target.write_text(original)
    r = subprocess.run([sys.executable, "-m", "cnnlint", str(target), "--diff", "--no-cache"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 1
    assert "-        self.conv1 = nn.Conv2d(3, 6, 5)" in r.stdout and "+        self.conv1 = nn.Conv2d(1, 6, 5)" in r.stdout
    assert target.read_text() == original


def test_unparsable_file_is_never_written(tmp_path):
    target = tmp_path / "broken.py"
    target.write_text("import torch\nclass (:\n")
    subprocess.run([sys.executable, "-m", "cnnlint", str(target), "--fix", "--unsafe-fixes", "--no-cache"],
                   capture_output=True, text=True, timeout=120)
    assert target.read_text() == "import torch\nclass (:\n"


def _defines(node):
    """The name a top-level class or assignment defines."""
    import ast
    if isinstance(node, ast.ClassDef):
        return node.name
    target = node.targets[0] if len(node.targets) == 1 else None
    return target.id if isinstance(target, ast.Name) else None


FIXABLE = [p for p in fixture_files("errors") + fixture_files("warnings")]


@pytest.mark.parametrize("path", FIXABLE, ids=[p.stem for p in FIXABLE])
def test_fixed_fixtures_keep_their_comments_and_are_stable(path):
    text = path.read_text()
    fixed = fix_text(text, path, unsafe=True)
    assert [line.split("#", 1)[1] for line in fixed.text.splitlines() if "#" in line] == \
        [line.split("#", 1)[1] for line in text.splitlines() if "#" in line]
    assert fix_text(fixed.text, path, unsafe=True).applied == []
    remaining = lint_text(fixed.text, path).diagnostics
    assert not {(line, code) for line, code, _ in fixed.applied} & {(d.line, d.code) for d in remaining}
    # whatever is left is what cnnlint offers no fix for (it knows it is wrong, not what was meant)
    assert [d.code for d in remaining if d.fix is not None] == []


ERROR_MODELS = [(p, spec) for p in fixture_files("errors") for spec in parse_models(p)]


@pytest.mark.parametrize("path,spec", ERROR_MODELS, ids=[s.id for _, s in ERROR_MODELS])
def test_fixed_error_models_run_in_torch(path, spec, tmp_path):
    fixed = fix_text(path.read_text(), path, unsafe=True)
    target = tmp_path / path.name
    target.write_text(fixed.text)
    import ast
    names = {s.name for s in parse_models(target)}
    others = [range(node.lineno, node.end_lineno + 1) for node in ast.parse(fixed.text).body
              if isinstance(node, (ast.ClassDef, ast.Assign)) and _defines(node) in names - {spec.name}]

    def belongs(line):
        """An error this model may meet: anywhere but in the definition of another model of the file."""
        return not any(line in region for region in others)

    left = [d for d in lint_text(fixed.text, target).diagnostics if d.severity == "error" and belongs(d.line)]
    if left:
        assert all(d.fix is None for d in left)      # nothing left that cnnlint could have fixed
        return
    import importlib.util
    import warnings

    import torch
    module_spec = importlib.util.spec_from_file_location(f"fixed_{path.stem}", target)
    module = importlib.util.module_from_spec(module_spec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module_spec.loader.exec_module(module)
        obj = getattr(module, spec.name)
        net = obj if spec.is_sequential else obj()
        with torch.no_grad():
            net.eval()(*make_inputs(spec))            # raises if the fix did not repair the model


KERAS_ERRORS = sorted((ROOT / "fixtures" / "keras" / "errors").glob("*.py"))


@pytest.mark.parametrize("path", KERAS_ERRORS, ids=[p.stem for p in KERAS_ERRORS])
def test_fixed_keras_error_models_build_in_keras(path, tmp_path):
    fixed = fix_text(path.read_text(), path, unsafe=True)
    target = tmp_path / path.name
    target.write_text(fixed.text)
    left = [d for d in lint_text(fixed.text, target).diagnostics if d.severity == "error"]
    if left:
        assert all(d.fix is None for d in left)      # nothing left that cnnlint could have fixed
        return
    from keras_run import load
    load(target)                                      # raises if the fix did not repair the model


def test_some_keras_error_fixture_is_fixed():
    assert any(fix_text(p.read_text(), p, unsafe=True).applied for p in KERAS_ERRORS)

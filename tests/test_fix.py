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


# -- fixes in the user's names: the expression that made the size, written where it is wrong ---------------------

NAMED_PAIRS = ["tagger", "dcgan", "flatten_names", "attributes", "passed_down", "module_level"]
TORCH_PAIRS = [p for p in PAIRS if "keras" not in p.read_text()]


@pytest.mark.parametrize("name", NAMED_PAIRS)
def test_fixes_that_follow_the_dataflow_are_safe(name, tmp_path):
    """`--fix` alone (no --unsafe-fixes) writes the names: `emb`, `2 * hidden`, `ndf * 4`, `prev * 2 * feat * feat`;
    a size passed down to a layer (`Head(hidden, 10)` for `nn.Linear(cin, n)`) is fixed where it was passed, and
    one made by a layer that was passed it (`ConvBlock(width, width * 2)`'s conv) is written as it was passed."""
    before = ROOT / "tests" / "fix_pairs" / f"{name}.before.py"
    target = tmp_path / "model.py"
    target.write_text(before.read_text())
    r = subprocess.run([sys.executable, "-m", "cnnlint", str(target), "--fix", "--no-cache"],
                       capture_output=True, text=True, timeout=120)
    assert target.read_text() == before.with_name(f"{name}.after.py").read_text(), r.stderr
    assert r.returncode == 0, r.stdout


@pytest.mark.parametrize("after", [p.with_name(p.name.replace(".before.", ".after.")) for p in TORCH_PAIRS],
                         ids=[p.name for p in TORCH_PAIRS])
def test_fixed_pairs_run_in_torch(after, tmp_path):
    """Every `after` of a torch pair builds and runs on its declared input (with other values of its names too:
    a fix written in names holds for them)."""
    import warnings

    import torch
    specs = parse_models(after)
    assert specs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module = _load(after)
        for spec in specs:
            obj = getattr(module, spec.name)
            with torch.no_grad():
                (obj if spec.is_sequential else obj()).eval()(*make_inputs(spec))


def _load(path):
    import importlib.util
    spec_ = importlib.util.spec_from_file_location(f"pair_{path.stem.replace('.', '_')}", path)
    module = importlib.util.module_from_spec(spec_)
    spec_.loader.exec_module(module)
    return module


def _run_with(path, name, kwargs, inputs):
    import torch
    with torch.no_grad():
        return getattr(_load(path), name)(**kwargs).eval()(*inputs)


def test_named_fixes_hold_for_other_values_of_the_names():
    """The point of writing `2 * hidden` rather than 256: the fixed model runs with another hidden size too, where
    the number would fail."""
    import torch
    pairs = ROOT / "tests" / "fix_pairs"
    _run_with(pairs / "tagger.after.py", "Tagger", {"emb": 32, "hidden": 40}, [torch.randint(0, 1000, (2, 7))])
    _run_with(pairs / "dcgan.after.py", "Discriminator", {"ndf": 16}, [torch.randn(2, 3, 64, 64)])
    _run_with(pairs / "dcgan.after.py", "Critic", {"ndf": 8}, [torch.randn(2, 3, 32, 32)])
    _run_with(pairs / "flatten_names.after.py", "Net", {"prev": 4, "feat": 3}, [torch.randn(2, 3, 32, 32)])
    _run_with(pairs / "attributes.after.py", "Net", {"width": 5}, [torch.randn(2, 3, 16, 16)])
    _run_with(pairs / "passed_down.after.py", "Net", {"emb": 24, "hidden": 7}, [torch.randint(0, 1000, (2, 5))])
    _run_with(pairs / "passed_down.after.py", "ConvNet", {"width": 5}, [torch.randn(2, 3, 32, 32)])
    with pytest.raises(RuntimeError):       # the numbers a literal fix would have written do not
        _run_with(pairs / "tagger.before.py", "Tagger", {"emb": 32, "hidden": 40}, [torch.randint(0, 1000, (2, 7))])


def _fixes(text):
    from cnnlint.lint import lint_text
    return [(d.code, d.fix) for d in lint_text(text, "model.py").diagnostics if d.fix is not None]


REBOUND = """
import torch.nn as nn
# cnnlint: input=(4, 12) dtype=long
class Tagger(nn.Module):
    def __init__(self, emb=64, hidden=32):
        super().__init__()
        self.embed = nn.Embedding(1000, emb)
        emb = hidden
        self.lstm = nn.LSTM(emb, hidden, batch_first=True)
    def forward(self, x):
        out, _ = self.lstm(self.embed(x))
        return out
"""

OTHER_CLASS = """
import torch.nn as nn
class Encoder(nn.Module):
    def __init__(self, emb):
        super().__init__()
        self.embed = nn.Embedding(1000, emb * 2)
    def forward(self, x):
        return self.embed(x)
# cnnlint: input=(4, 12) dtype=long
class Tagger(nn.Module):
    def __init__(self, emb=64, hidden=32):
        super().__init__()
        self.enc = Encoder(emb // 2)
        self.lstm = nn.LSTM(hidden, hidden, batch_first=True)
    def forward(self, x):
        out, _ = self.lstm(self.enc(x))
        return out
"""

IN_A_BRANCH = """
import torch.nn as nn
# cnnlint: input=(4, 12) dtype=long
class Tagger(nn.Module):
    def __init__(self, emb=64, hidden=32, tied=False):
        super().__init__()
        if not tied:
            self.embed = nn.Embedding(1000, emb)
        self.lstm = nn.LSTM(hidden, hidden, batch_first=True)
    def forward(self, x):
        out, _ = self.lstm(self.embed(x))
        return out
"""


@pytest.mark.parametrize("text", [REBOUND, OTHER_CLASS, IN_A_BRANCH], ids=["rebound", "other-class", "branch"])
def test_an_expression_not_certain_at_the_argument_is_not_written(text):
    """`emb` means 32 where the LSTM is built (rebound), the size is computed in another function (Encoder's
    `emb * 2`, of its own parameter), or was written under a branch: the fix writes the number, and a number in
    place of a name is unsafe."""
    (code, fix), = _fixes(text)
    assert code == "CNN104" and fix["description"] == "set input_size=64" and fix["applicability"] == "unsafe"


BLOCKS = """
import torch.nn as nn
class Block(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
    def forward(self, x):
        return self.conv2(self.conv1(x))
# cnnlint: input=(2, 3, 8, 8)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.b1 = Block(3, 16)
        self.b2 = Block(32, 32)
    def forward(self, x):
        return self.b2(self.b1(x))
"""


def test_a_size_passed_to_another_class_is_named_as_passed(tmp_path):
    """Encoder(emb) builds nn.Embedding(1000, emb): the LSTM beside it is fixed with the `emb` that was passed;
    the fixed model runs in torch."""
    import torch
    text = OTHER_CLASS.replace("emb * 2", "emb").replace("Encoder(emb // 2)", "Encoder(emb)")
    (code, fix), = _fixes(text)
    assert (code, fix["description"], fix["applicability"]) == ("CNN104", "set input_size=emb", "safe")
    target = tmp_path / "model.py"
    target.write_text(fix_text(text, target).text)
    with torch.no_grad():
        _load(target).Tagger(emb=24, hidden=8)(torch.randint(0, 1000, (2, 5)))


def test_a_size_made_by_another_instance_is_not_named():
    """b2.conv1 receives b1.conv2's `cout` (16); in b2 `cout` is 32: writing `cout` there would be wrong."""
    assert not any("cout" in fix["description"] for _, fix in _fixes(BLOCKS))


def test_report_marks_fixable_findings_and_counts_them():
    """`[*]` after the code of a finding `--fix` repairs (as ruff marks it); the summary says how many `--fix` and
    `--unsafe-fixes` repair. text_cnn's fix (a transpose) is unsafe, the tagger's (`emb`) safe."""
    pairs = ROOT / "tests" / "fix_pairs"
    r = subprocess.run([sys.executable, "-m", "cnnlint", str(pairs / "text_cnn.before.py"),
                        str(pairs / "tagger.before.py"), "--no-cache", "--output-format", "concise"],
                       capture_output=True, text=True, timeout=120)
    lines = r.stdout.splitlines()
    assert [line.split(": ", 1)[1].split(" `")[0] for line in lines[:2]] == ["CNN102", "CNN104 [*]"]
    assert lines[-1] == "1 fixable with `--fix` (1 more with `--unsafe-fixes`)."
    full = subprocess.run([sys.executable, "-m", "cnnlint", str(pairs / "tagger.before.py"), "--no-cache"],
                          capture_output=True, text=True, timeout=120)
    assert ": CNN104 [*] `lstm` (LSTM)" in full.stdout and full.stdout.endswith("\n1 fixable with `--fix`.\n")
    clean = subprocess.run([sys.executable, "-m", "cnnlint", str(pairs / "tagger.after.py"), "--no-cache"],
                           capture_output=True, text=True, timeout=120)
    assert "fixable" not in clean.stdout and "[*]" not in clean.stdout


def test_diff_and_fix_say_how_many_unsafe_fixes_they_left(tmp_path):
    pairs = ROOT / "tests" / "fix_pairs"
    for name in ("text_cnn", "tagger"):
        (tmp_path / f"{name}.py").write_text((pairs / f"{name}.before.py").read_text())
    diff = subprocess.run([sys.executable, "-m", "cnnlint", str(tmp_path), "--diff", "--no-cache"],
                          capture_output=True, text=True, timeout=120)
    # the tagger: the LSTM, then the Linear its fix reveals; text_cnn's transpose is left to --unsafe-fixes
    assert diff.stderr.strip().endswith("2 fixes available in 1 file (1 more with `--unsafe-fixes`).")
    unsafe = subprocess.run([sys.executable, "-m", "cnnlint", str(tmp_path), "--diff", "--unsafe-fixes",
                             "--no-cache"], capture_output=True, text=True, timeout=120)
    assert "more with" not in unsafe.stderr and "available in 2 files." in unsafe.stderr
    fix = subprocess.run([sys.executable, "-m", "cnnlint", str(tmp_path), "--fix", "--no-cache"],
                         capture_output=True, text=True, timeout=120)
    assert "Fixed 2 findings in 1 file (1 more with `--unsafe-fixes`)." in fix.stderr
    assert (tmp_path / "tagger.py").read_text() == (pairs / "tagger.after.py").read_text()


def test_softmax_dropped_from_a_sequential_leaves_logits_that_train():
    """CNN205's fix removes the Softmax layer from the nn.Sequential it ends (module-level and inline); the fixed
    file trains with CrossEntropyLoss on logits."""
    import torch
    module = _load(ROOT / "tests" / "fix_pairs" / "softmax_sequential.after.py")
    assert not any(isinstance(m, torch.nn.Softmax) for m in module.classifier.modules())
    assert not any(isinstance(m, torch.nn.Softmax) for m in module.Net().modules())
    assert torch.isfinite(module.train_step())
    fixed = fix_text((ROOT / "fixtures" / "torch" / "warnings" / "cnn205_softmax_into_cross_entropy_fn.py")
                     .read_text(), "model.py", unsafe=True)
    assert [code for _, code, _ in fixed.applied] == ["CNN205", "CNN205"]


def test_stdin_diff_says_how_many_unsafe_fixes_it_left():
    text = (ROOT / "tests" / "fix_pairs" / "text_cnn.before.py").read_text()
    r = subprocess.run([sys.executable, "-m", "cnnlint", "-", "--stdin-filename", "model.py", "--diff", "--no-cache"],
                       input=text, capture_output=True, text=True, timeout=120)
    assert r.stderr.strip().endswith("0 fixes available (1 more with `--unsafe-fixes`).") and r.stdout == ""


def test_a_size_doubled_by_a_configured_bidirectional_is_not_named():
    """`bidirectional=bidir`: `2 * hidden` would be wrong for bidir=False; the number is written, unsafe."""
    text = (ROOT / "tests" / "fix_pairs" / "tagger.before.py").read_text().replace(
        "tags=9):", "tags=9, bidir=True):").replace("bidirectional=True", "bidirectional=bidir").replace(
        "nn.LSTM(hidden, hidden", "nn.LSTM(emb, hidden")
    (code, fix), = _fixes(text)
    assert (code, fix["description"], fix["applicability"]) == ("CNN101", "set in_features=256", "unsafe")


def test_readme_shows_the_fix_summary_as_printed():
    """The README's example of `[*]` and the summary line is what cnnlint prints (run from the repository root)."""
    readme = (ROOT / "README.md").read_text()
    files = ["tests/fix_pairs/tagger.before.py", "tests/fix_pairs/text_cnn.before.py"]
    report = subprocess.run([sys.executable, "-m", "cnnlint", *files, "--output-format", "concise", "--no-cache"],
                            capture_output=True, text=True, timeout=120, cwd=ROOT)
    diff = subprocess.run([sys.executable, "-m", "cnnlint", *files, "--diff", "--no-cache"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    lines = (report.stdout + diff.stdout + diff.stderr).splitlines()
    assert "1 fixable with `--fix` (1 more with `--unsafe-fixes`)." in lines
    assert [line for line in lines if line and line not in readme] == []

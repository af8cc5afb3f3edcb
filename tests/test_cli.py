"""The command line as a user meets it: output, exit codes, bad input, and never running the linted code."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "torch"

from samples import LINEAR_BUG as BUGGY, LINEAR_FIXED
CLEAN = LINEAR_FIXED


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "cnnlint.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


def write(tmp_path, name, text, mode="w"):
    p = tmp_path / name
    if mode == "wb":
        p.write_bytes(text)
    else:
        p.write_text(text)
    return p


def test_clean_file_exits_zero(tmp_path):
    r = run(write(tmp_path, "ok.py", CLEAN))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "no findings" in r.stdout


def test_finding_text_format_and_exit_one(tmp_path):
    path = write(tmp_path, "bad.py", BUGGY)
    r = run(path)
    assert r.returncode == 1
    first = r.stdout.splitlines()[0]
    assert first.startswith(f"{path}:7:19: CNN101 ")
    assert "expects 6272 input features" in first and "5408" in first
    # the source line, then a caret under the span
    lines = r.stdout.splitlines()
    assert "self.fc = nn.Linear(8 * 28 * 28, 10)" in lines[1]
    assert lines[2].strip().startswith("|") and "^" in lines[2]
    assert "Found 1 error and 0 warnings in 1 file." in r.stdout


def test_check_subcommand_is_the_same(tmp_path):
    path = write(tmp_path, "bad.py", BUGGY)
    assert run("check", path).stdout == run(path).stdout


def test_json_output_fields(tmp_path):
    r = run(write(tmp_path, "bad.py", BUGGY), "--output-format", "json")
    data = json.loads(r.stdout)
    assert len(data) == 1
    d = data[0]
    assert set(d) == {"path", "line", "column", "end_line", "end_column", "code", "rule", "severity", "message",
                      "related", "fix"}
    assert d["fix"] == {"description": "set in_features=8 * 26 * 26", "applicability": "safe"}
    assert (d["line"], d["column"], d["code"], d["rule"], d["severity"]) == (7, 19, "CNN101", "linear-in-features",
                                                                            "error")
    assert d["end_line"] == 7 and d["end_column"] > d["column"]
    assert d["related"] and all(set(r) == {"path", "line", "column", "message"} for r in d["related"])
    assert any("conv" in r["message"] and "(4, 8, 26, 26)" in r["message"] for r in d["related"])


def test_select_ignore_and_exit_zero(tmp_path):
    path = write(tmp_path, "bad.py", BUGGY)
    assert run(path, "--ignore", "CNN101").returncode == 0
    assert run(path, "--select", "CNN2").returncode == 0
    assert run(path, "--select", "CNN1").returncode == 1
    assert run(path, "--exit-zero").returncode == 0
    r = run(path, "--select", "XYZ9")
    assert r.returncode == 2 and "unknown rule" in r.stderr


def test_noqa(tmp_path):
    assert run(write(tmp_path, "a.py", BUGGY.replace("10)\n", "10)  # noqa: CNN101\n", 1))).returncode == 0
    assert run(write(tmp_path, "b.py", BUGGY.replace("10)\n", "10)  # noqa\n", 1))).returncode == 0
    assert run(write(tmp_path, "c.py", BUGGY.replace("10)\n", "10)  # noqa: CNN204\n", 1))).returncode == 1


def test_bad_inputs_are_reported_and_others_still_linted(tmp_path):
    write(tmp_path, "bad.py", BUGGY)
    write(tmp_path, "syntax.py", "import torch\ndef f(:\n")
    write(tmp_path, "latin1.py", b"import torch\nx = '\xe9\xff'\n", mode="wb")
    write(tmp_path, "empty.py", "")
    r = run(tmp_path, tmp_path / "missing_dir", "--output-format", "concise")
    assert r.returncode == 2
    assert "Traceback" not in r.stdout + r.stderr
    assert "missing_dir: no such file or directory" in r.stderr
    out = r.stdout
    assert "syntax.py:2:" in out and "CNN001" in out
    assert "latin1.py:1:1: CNN003" in out
    assert "bad.py:7:19: CNN101" in out      # the good file's finding is still there


def test_directory_walk_skips_venvs_and_git(tmp_path):
    write(tmp_path, "model.py", BUGGY)
    for skipped in (".git", "build", "myenv"):
        (tmp_path / skipped).mkdir()
        write(tmp_path / skipped, "model.py", BUGGY)
    (tmp_path / "myenv" / "pyvenv.cfg").write_text("home = /usr\n")
    r = run(tmp_path, "--output-format", "json")
    assert [Path(d["path"]).parent for d in json.loads(r.stdout)] == [tmp_path]


def test_version_and_rule_docs():
    r = run("--version")
    assert r.returncode == 0 and "cnnlint" in r.stdout
    r = run("rule", "CNN201")
    assert r.returncode == 0 and "view-changes-batch" in r.stdout and "Fix:" in r.stdout and "Why:" in r.stdout
    r = run("rule", "--all")
    assert r.stdout.count("CNN") >= 16


@pytest.mark.parametrize("name", ["creates_file.py", "copy.py", "tempfile.py"])
def test_never_executes_linted_code(tmp_path, name):
    # named like a standard module and linted from its own directory with `python -m`, it must still not run
    target = tmp_path / name
    shutil.copy(ROOT / "tests" / "data" / "creates_file.py", target)
    for cmd in (["-m", "cnnlint"], ["-m", "cnnlint.cli"]):
        r = subprocess.run([sys.executable, *cmd, name, "--output-format", "json", "--no-cache"],
                           capture_output=True, text=True, cwd=tmp_path, timeout=120)
        assert r.returncode == 1, r.stdout + r.stderr   # Linear(10) fed 7 features: analysed, not run
        assert json.loads(r.stdout)[0]["code"] == "CNN101"
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_fixture_tree_is_the_same_with_any_jobs(jobs):
    r = run(FIXTURES, "--output-format", "json", "--jobs", jobs)
    assert r.returncode == 1
    data = json.loads(r.stdout)
    # (fixtures/torch/configs/ expect models built with their declared config classes: off by default)
    expected = sum(len(m.group(1).split(",")) for p in FIXTURES.rglob("*.py") if "configs" not in p.parts
                   for m in re.finditer(r"#\s*expect:\s*([A-Z0-9, ]+)", p.read_text()))
    assert len(data) == expected
    assert data == json.loads(run(FIXTURES, "--output-format", "json", "--jobs", "1").stdout)


def test_missing_path_is_an_error_and_never_all_clear(tmp_path):
    r = run(tmp_path / "missing.py")
    assert r.returncode == 2
    assert r.stdout == ""
    assert "missing.py: no such file or directory" in r.stderr
    r = run(tmp_path / "missing.py", write(tmp_path, "ok.py", CLEAN))
    assert r.returncode == 2
    assert "All clear" not in r.stdout and "1 path not found" in r.stdout


BROKEN = """import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(10, (2
    def forward(self, x):
        return self.fc(x)
"""


def test_syntax_error_in_pythons_words_at_the_bracket(tmp_path):
    path = write(tmp_path, "broken.py", BROKEN)
    line = BROKEN.splitlines()[7]
    column = line.index("(2") + 1                    # the bracket that is never closed, 1-based
    r = run(path, "--output-format", "concise")
    assert r.returncode == 2
    assert r.stdout.splitlines()[0] == f"{path}:8:{column}: CNN001 syntax error: '(' was never closed"
    r = run("shapes", path)
    assert r.returncode == 2
    assert f"{path}:8:{column}: syntax error: '(' was never closed" in r.stderr
    assert "framework" not in r.stderr


def test_rule_by_name_and_did_you_mean(tmp_path):
    by_code = run("rule", "CNN101")
    assert run("rule", "linear-in-features").stdout == by_code.stdout and by_code.returncode == 0
    r = run("rule", "linear-in-feature")
    assert r.returncode == 2 and "did you mean `CNN101` (linear-in-features)?" in r.stderr
    path = write(tmp_path, "bad.py", BUGGY)
    r = run(path, "--ignore", "CNN1O1")
    assert r.returncode == 2 and "did you mean `CNN101`" in r.stderr
    r = run(path, "--select", "softmax-without-dim")
    assert r.returncode == 2 and "did you mean `CNN204` (softmax-without-dim)?" in r.stderr


def test_help_names_keras_and_pytorch():
    for args in ([], ["check"], ["shapes"], ["lsp"]):
        out = run(*args, "--help").stdout
        assert "Keras" in out and "PyTorch" in out, args


def test_stdin_with_stdin_filename_uses_that_files_configuration(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.cnnlint]\nper-file-ignores = { "legacy/*" = ["CNN101"] }\n')

    def lint_stdin(*args):
        return subprocess.run([sys.executable, "-m", "cnnlint", "-", *args, "--output-format", "json"],
                              input=BUGGY, capture_output=True, text=True, cwd=tmp_path, timeout=120)

    r = lint_stdin("--stdin-filename", "pkg/model.py")
    assert r.returncode == 1
    (finding,) = json.loads(r.stdout)
    assert (finding["path"], finding["line"], finding["code"]) == ("pkg/model.py", 7, "CNN101")
    r = lint_stdin("--stdin-filename", "legacy/model.py")
    assert r.returncode == 0 and json.loads(r.stdout) == []
    assert not (tmp_path / "pkg").exists() and not (tmp_path / "legacy").exists()   # nothing is written
    r = subprocess.run([sys.executable, "-m", "cnnlint", "-", "--stdin-filename", "pkg/model.py", "--fix"],
                       input=BUGGY, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert r.stdout == BUGGY.replace("8 * 28 * 28", "8 * 26 * 26")      # the fixed buffer, as ruff prints it
    assert r.returncode == 0

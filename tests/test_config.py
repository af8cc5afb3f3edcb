"""Configuration in pyproject.toml / cnnlint.toml, as ruff users expect it."""

import json
import subprocess
import sys
import textwrap

from samples import LINEAR_AND_SOFTMAX_BUG as BUGGY
NO_COMMENT = BUGGY.replace("# cnnlint: input=(4, 1, 28, 28)\n", "")


def run(cwd, *args):
    r = subprocess.run([sys.executable, "-m", "cnnlint", *args, "--no-cache", "--output-format", "json"],
                       capture_output=True, text=True, cwd=cwd, timeout=120)
    return r.returncode, (json.loads(r.stdout) if r.stdout.strip() else None), r.stderr


def codes(found):
    return sorted((d["path"].split("/")[-1], d["code"], d["severity"]) for d in found)


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))


def test_pyproject_select_ignore_severity_and_per_file(tmp_path):
    write(tmp_path / "pyproject.toml", """
        [project]
        name = "demo"
        [tool.cnnlint]
        ignore = ["CNN204"]
        severity = { CNN101 = "warning" }
        per-file-ignores = { "legacy/*" = ["CNN101"] }
        """)
    write(tmp_path / "pkg" / "model.py", BUGGY)
    write(tmp_path / "legacy" / "old.py", BUGGY)
    code, found, _ = run(tmp_path, ".")
    assert codes(found) == [("model.py", "CNN101", "warning")]
    assert code == 1


def test_nearest_config_wins_and_cnnlint_toml(tmp_path):
    write(tmp_path / "pyproject.toml", "[tool.cnnlint]\nignore = [\"CNN101\"]\n")
    write(tmp_path / "sub" / "cnnlint.toml", "select = [\"CNN101\"]\n")
    write(tmp_path / "a.py", BUGGY)
    write(tmp_path / "sub" / "b.py", BUGGY)
    _, found, _ = run(tmp_path, ".")
    assert codes(found) == [("a.py", "CNN204", "warning"), ("b.py", "CNN101", "error")]


def test_pyproject_without_table_is_passed_over(tmp_path):
    write(tmp_path / "pyproject.toml", "[tool.cnnlint]\nignore = [\"CNN2\"]\n")
    write(tmp_path / "sub" / "pyproject.toml", "[project]\nname = \"x\"\n")
    write(tmp_path / "sub" / "m.py", BUGGY)
    _, found, _ = run(tmp_path, ".")
    assert codes(found) == [("m.py", "CNN101", "error")]


def test_exclude_and_explicit_config(tmp_path):
    write(tmp_path / "conf" / "lint.toml", "exclude = [\"generated/\"]\n")
    write(tmp_path / "conf" / "generated" / "g.py", BUGGY)
    write(tmp_path / "conf" / "m.py", BUGGY)
    code, found, _ = run(tmp_path, "conf", "--config", "conf/lint.toml")
    assert {d["path"].split("/")[-1] for d in found} == {"m.py"}


def test_configured_input_shape(tmp_path):
    write(tmp_path / "pyproject.toml", """
        [tool.cnnlint.inputs]
        "pkg/net.py::Net" = "N, 1, 28, 28"
        """)
    write(tmp_path / "pkg" / "net.py", NO_COMMENT.replace("8 * 28 * 28", "8 * 26 * 26"))
    assert codes(run(tmp_path, ".")[1]) == [("net.py", "CNN204", "warning")]
    write(tmp_path / "pkg" / "net.py", NO_COMMENT.replace("8 * 28 * 28", "8 * 25 * 25"))
    found = run(tmp_path, ".")[1]
    assert ("net.py", "CNN101", "error") in codes(found)
    assert "(N, 5408)" in next(d["message"] for d in found if d["code"] == "CNN101")


def test_cli_select_replaces_config_select(tmp_path):
    write(tmp_path / "cnnlint.toml", "select = [\"CNN101\"]\n")
    write(tmp_path / "m.py", BUGGY)
    assert codes(run(tmp_path, ".", "--select", "CNN204")[1]) == [("m.py", "CNN204", "warning")]
    assert codes(run(tmp_path, ".", "--extend-select", "CNN204")[1]) == [("m.py", "CNN101", "error"),
                                                                         ("m.py", "CNN204", "warning")]


def test_bad_configuration_exits_2_naming_it(tmp_path):
    write(tmp_path / "m.py", BUGGY)
    cases = {
        "colour = 1\n": "unknown key `colour`",
        "selct = [\"CNN101\"]\n": "unknown key `selct` in cnnlint's configuration; did you mean `select`?",
        "ignore = [\"CNN1O1\"]\n": "did you mean `CNN101` (linear-in-features)?",
        "severity = { softmax-without-dim = \"error\" }\n": "did you mean `CNN204` (softmax-without-dim)?",
        "select = \"CNN101\"\n": "`select` must be a list",
        "ignore = [\"CNN999\"]\n": "unknown rule code or prefix 'CNN999'",
        "severity = { CNN101 = \"fatal\" }\n": "`severity.CNN101` must be one of",
        "[inputs]\n\"m.py\" = \"N,3\"\n": "must name a model",
        "[inputs]\n\"m.py::Net\" = \"N,3+1\"\n": "must be a shape",
        "select = [\n": "not valid TOML",
    }
    for text, expected in cases.items():
        (tmp_path / "cnnlint.toml").write_text(text)
        code, found, err = run(tmp_path, ".")
        assert code == 2, text
        assert expected in err and "cnnlint.toml" in err, (text, err)
        assert found is None


VARIABLE_MODEL = """
    import torch.nn as nn


    class Net(nn.Module):
        def __init__(self, in_channels, classes):
            super().__init__()
            self.conv = nn.Conv2d(in_channels, 8, 3)
            self.fc = nn.Linear(8 * 30 * 30, classes)

        def forward(self, x):
            return self.fc(self.conv(x).flatten(1))


    def main():
        model = Net(3, 10)
        return model
    """


def test_configured_input_of_a_variable(tmp_path):
    """An input named for a variable bound to a model (in a function too) runs that model on it: the check and
    `cnnlint shapes` both use it."""
    write(tmp_path / "pyproject.toml", """
        [tool.cnnlint.inputs]
        "train.py::model" = "4, 3, 28, 28"
        """)
    write(tmp_path / "train.py", VARIABLE_MODEL)
    status, found, _ = run(tmp_path, ".")
    assert status == 1 and codes(found) == [("train.py", "CNN101", "error")]
    assert "(4, 5408)" in found[0]["message"]
    table = subprocess.run([sys.executable, "-m", "cnnlint", "shapes", "train.py", "--model", "model"],
                           capture_output=True, text=True, cwd=tmp_path, timeout=120).stdout
    assert "model  input (4, 3, 28, 28)  [comment]" in table
    write(tmp_path / "pyproject.toml", """
        [tool.cnnlint.inputs]
        "train.py::model" = "4, 3, 32, 32"
        """)
    assert run(tmp_path, ".")[:2] == (0, [])


def test_configured_input_naming_nothing_exits_2(tmp_path):
    """A name in [tool.cnnlint.inputs] that no linted file it applies to defines is a configuration error: named,
    with a "did you mean", exit 2; the files are still linted and reported."""
    write(tmp_path / "pyproject.toml", """
        [tool.cnnlint.inputs]
        "train.py::modle" = "4, 3, 28, 28"
        "train.py::model" = "4, 3, 28, 28"
        "other/*.py::Anything" = "4, 3"
        """)
    write(tmp_path / "train.py", VARIABLE_MODEL)
    status, found, err = run(tmp_path, ".")
    assert status == 2
    assert codes(found) == [("train.py", "CNN101", "error")]
    assert '"train.py::modle": no model, class or variable named `modle` in train.py; did you mean `model`?' in err
    assert "Anything" not in err            # its path matches no linted file: not judged
    shapes = subprocess.run([sys.executable, "-m", "cnnlint", "shapes", "train.py"], capture_output=True, text=True,
                            cwd=tmp_path, timeout=120)
    assert shapes.returncode == 2 and "`modle`" in shapes.stderr and "model  input (4, 3, 28, 28)" in shapes.stdout

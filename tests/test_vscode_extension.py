"""The VS Code extension in editors/vscode/: its client starts `cnnlint lsp` for Python files (run in node with
stand-ins for the `vscode` and `vscode-languageclient` modules, which only exist inside VS Code), and its build
script packages a .vsix with @vscode/vsce from the npm registry."""

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXTENSION = ROOT / "editors" / "vscode"
NODE, NPM = shutil.which("node"), shutil.which("npm")

# load extension.js with stand-ins for the modules VS Code provides, call activate(), print what it started
HARNESS = """
const Module = require("module");
const started = [];
const load = Module._load;
Module._load = function (request, parent, isMain) {
  if (request === "vscode") {
    return { workspace: { getConfiguration: () => ({ get: (key, fallback) => CONFIGURED || fallback }) } };
  }
  if (request === "vscode-languageclient/node") {
    return { LanguageClient: class {
      constructor(id, name, server, client) { started.push({ id, server, client }); }
      start() { return Promise.resolve(); }
      stop() { return Promise.resolve(); }
      dispose() {}
    } };
  }
  return load.apply(this, arguments);
};
const extension = require(process.argv[1]);
const context = { subscriptions: [] };
extension.activate(context).then(() => {
  console.log(JSON.stringify({ started, subscriptions: context.subscriptions.length }));
});
"""


def activate(configured="null"):
    code = HARNESS.replace("CONFIGURED", configured)
    r = subprocess.run([NODE, "-e", code, str(EXTENSION / "extension.js")], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.mark.skipif(NODE is None, reason="no node")
def test_client_starts_cnnlint_lsp_for_python():
    (client,) = activate()["started"]
    assert client["server"]["run"] == {"command": "cnnlint", "args": ["lsp"]}
    assert {"scheme": "file", "language": "python"} in client["client"]["documentSelector"]
    (client,) = activate('["/venv/bin/python", "-m", "cnnlint"]')["started"]
    assert client["server"]["run"] == {"command": "/venv/bin/python", "args": ["-m", "cnnlint", "lsp"]}
    manifest = json.loads((EXTENSION / "package.json").read_text())
    assert manifest["main"] == "./extension.js" and "onLanguage:python" in manifest["activationEvents"]
    assert manifest["contributes"]["configuration"]["properties"]["cnnlint.path"]["default"] == ["cnnlint"]


@pytest.mark.skipif(NODE is None or NPM is None, reason="no node and npm")
def test_build_script_packages_a_vsix(tmp_path):
    copy = tmp_path / "vscode"
    shutil.copytree(EXTENSION, copy, ignore=shutil.ignore_patterns("node_modules", "*.vsix"))
    r = subprocess.run(["bash", str(copy / "build.sh")], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    version = json.loads((copy / "package.json").read_text())["version"]
    with zipfile.ZipFile(copy / f"cnnlint-{version}.vsix") as vsix:
        names = set(vsix.namelist())
        manifest = json.loads(vsix.read("extension/package.json"))
    assert {"extension.vsixmanifest", "extension/extension.js", "extension/readme.md",
            "extension/node_modules/vscode-languageclient/node.js"} <= names
    assert manifest["name"] == "cnnlint" and manifest["version"] == version
    # what builds it is not shipped
    assert not any(n.startswith(("extension/node_modules/@vscode/vsce/", "extension/build.sh")) for n in names)

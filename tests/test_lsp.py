"""The language server end to end: a real LSP client (pytest-lsp) talking to `cnnlint lsp` over stdio."""

import sys

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

MODEL = """import torch
import torch.nn as nn
import torch.nn.functional as F


# cnnlint: input=(4, 1, 28, 28)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        flat = torch.flatten(x, 1)
        return self.fc1(flat)
"""


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "cnnlint", "lsp"]))
async def client(lsp_client: LanguageClient, tmp_path):
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        workspace_folders=[types.WorkspaceFolder(uri=tmp_path.as_uri(), name="project")]))
    yield
    await lsp_client.shutdown_session()


async def open_and_wait(client, path, text, version=1):
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="python", version=version, text=text)))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return uri


@pytest.mark.asyncio
async def test_diagnostics_on_open_and_change(client: LanguageClient, tmp_path):
    path = tmp_path / "model.py"
    path.write_text("# the saved file is empty: the server must lint the buffer\n")
    uri = await open_and_wait(client, path, MODEL)
    (diag,) = client.diagnostics[uri]
    assert diag.code == "CNN101" and diag.source == "cnnlint"
    assert diag.severity == types.DiagnosticSeverity.Error
    assert diag.range.start == types.Position(11, 19)
    assert "receives is (4, 256)" in diag.message
    assert any("conv2: Conv2d" in r.message for r in diag.related_information)

    fixed = MODEL.replace("16 * 5 * 5", "16 * 4 * 4")
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=fixed)]))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert list(client.diagnostics[uri]) == []


@pytest.mark.asyncio
async def test_hover_shows_the_shape(client: LanguageClient, tmp_path):
    uri = await open_and_wait(client, tmp_path / "model.py", MODEL)
    result = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(16, 9)))   # `flat`
    assert result is not None and "flat: (4, 256)" in result.contents.value
    result = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(15, 8)))   # `x =` (2nd)
    assert "x: (4, 16, 4, 4)" in result.contents.value
    none = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(9, 10)))   # `self.conv1`
    assert none is None


@pytest.mark.asyncio
async def test_inlay_hints_at_line_ends(client: LanguageClient, tmp_path):
    uri = await open_and_wait(client, tmp_path / "model.py", MODEL)
    hints = await client.text_document_inlay_hint_async(types.InlayHintParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(types.Position(0, 0), types.Position(20, 0))))
    by_line = {h.position.line: h.label for h in hints}
    assert "x: (4, 6, 12, 12)" in by_line[14] and "x: (4, 16, 4, 4)" in by_line[15]
    assert "flat: (4, 256)" in by_line[16]
    assert hints[0].position.character == len(MODEL.splitlines()[14])


@pytest.mark.asyncio
async def test_fix_and_noqa_code_actions(client: LanguageClient, tmp_path):
    uri = await open_and_wait(client, tmp_path / "model.py", MODEL)
    (diag,) = client.diagnostics[uri]
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=diag.range,
        context=types.CodeActionContext(diagnostics=[diag])))
    fix, noqa = actions
    assert fix.title == "Fix CNN101: set in_features=16 * 4 * 4" and fix.is_preferred
    (whole,) = fix.edit.changes[uri]
    assert whole.new_text == MODEL.replace("nn.Linear(16 * 5 * 5, 120)", "nn.Linear(16 * 4 * 4, 120)")
    (edit,) = noqa.edit.changes[uri]
    assert edit.new_text == "  # noqa: CNN101" and edit.range.start.line == 11


@pytest.mark.asyncio
async def test_project_configuration_is_respected(client: LanguageClient, tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.cnnlint]\nignore = [\"CNN101\"]\n")
    uri = await open_and_wait(client, tmp_path / "model.py", MODEL)
    assert list(client.diagnostics[uri]) == []

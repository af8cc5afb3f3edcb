"""The language server end to end: a real LSP client (pytest-lsp) talking to `cnnlint lsp` over stdio."""

import asyncio
import sys
import uuid
from concurrent.futures import Future

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
    (edit,) = fix.edit.changes[uri]        # one edit of the argument, not the document
    line = MODEL.splitlines()[11]
    start = line.index("16 * 5 * 5")
    assert (edit.range.start, edit.range.end) == (types.Position(11, start + 5), types.Position(11, start + 10))
    assert edit.new_text == "4 * 4"
    assert apply(MODEL, edit) == MODEL.replace("nn.Linear(16 * 5 * 5, 120)", "nn.Linear(16 * 4 * 4, 120)")
    (edit,) = noqa.edit.changes[uri]
    assert edit.new_text == "  # noqa: CNN101" and edit.range.start.line == 11


@pytest.mark.asyncio
async def test_quick_fix_in_the_users_names_is_an_edit_of_the_argument(client: LanguageClient, tmp_path):
    """The LSTM's input_size set to the Embedding's `emb`: a safe (preferred) fix, one edit of `hidden`."""
    from pathlib import Path
    text = (Path(__file__).parent / "fix_pairs" / "tagger.before.py").read_text()
    uri = await open_and_wait(client, tmp_path / "model.py", text)
    (diag,) = client.diagnostics[uri]
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=diag.range,
        context=types.CodeActionContext(diagnostics=[diag])))
    fix = actions[0]
    assert fix.title == "Fix CNN104: set input_size=emb" and fix.is_preferred
    (edit,) = fix.edit.changes[uri]
    number = next(i for i, line in enumerate(text.splitlines()) if "nn.LSTM(" in line)
    start = text.splitlines()[number].index("nn.LSTM(hidden") + len("nn.LSTM(")
    assert (edit.range.start, edit.range.end) == (types.Position(number, start), types.Position(number, start + 6))
    assert edit.new_text == "emb"


@pytest.mark.asyncio
async def test_project_configuration_is_respected(client: LanguageClient, tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.cnnlint]\nignore = [\"CNN101\"]\n")
    uri = await open_and_wait(client, tmp_path / "model.py", MODEL)
    assert list(client.diagnostics[uri]) == []


def apply(text, edit):
    """A TextEdit applied to a text (ASCII: UTF-16 characters are code points)."""
    lines = text.splitlines(keepends=True)
    offset = lambda p: sum(len(x) for x in lines[:p.line]) + p.character   # noqa: E731
    return text[:offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]


@pytest.mark.asyncio
async def test_hover_on_forwards_own_parameter(client: LanguageClient, tmp_path):
    uri = await open_and_wait(client, tmp_path / "model.py", MODEL)
    line = MODEL.splitlines()[13]
    assert line == "    def forward(self, x):"
    result = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(13, line.index("x)"))))
    assert result is not None and "x: (4, 1, 28, 28)" in result.contents.value     # the commented input


async def raw_request(client, method, params):
    """Send a request as raw JSON (the client's own types would refuse malformed parameters) and return the
    server's answer: its result, or the JsonRpcException of its error reply."""
    msg_id = str(uuid.uuid4())
    future = Future()
    client.protocol._request_futures[msg_id] = future
    client.protocol._send_data({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
    try:
        return await asyncio.wait_for(asyncio.wrap_future(future), 10)
    except asyncio.TimeoutError:
        raise AssertionError(f"no reply to {method} {params}") from None
    except Exception as exc:      # the error reply
        return exc


@pytest.mark.asyncio
async def test_malformed_requests_get_error_replies_and_the_server_goes_on(client: LanguageClient, tmp_path):
    uri = await open_and_wait(client, tmp_path / "model.py", MODEL)
    unknown = (tmp_path / "never_opened.py").as_uri()
    at = {"line": 0, "character": 0}
    rng = {"start": at, "end": {"line": 1, "character": 0}}
    cases = [
        ("textDocument/hover", {"textDocument": 5}, -32602),
        ("textDocument/hover", {"position": at}, -32602),
        ("textDocument/hover", {"textDocument": {"uri": unknown}, "position": at}, -32602),
        ("textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": 10_000, "character": 0}}, -32602),
        ("textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": 1, "character": -4}}, -32602),
        ("textDocument/inlayHint", {"textDocument": {"uri": unknown}, "range": rng}, -32602),
        ("textDocument/inlayHint", {"textDocument": {"uri": uri}, "range": {"start": {"line": 5, "character": 0},
                                                                           "end": at}}, -32602),
        ("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": rng}, -32602),
        ("textDocument/codeAction", {"textDocument": {"uri": unknown}, "range": rng,
                                     "context": {"diagnostics": []}}, -32602),
        ("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": rng, "context": {"diagnostics": [
            {"range": {"start": {"line": 99, "character": 0}, "end": {"line": 99, "character": 1}},
             "message": "x", "source": "cnnlint", "code": "CNN101", "data": {"fix": "x"}}]}}, -32602),
        ("textDocument/noSuchMethod", {}, -32601),
    ]
    for method, params, code in cases:
        reply = await raw_request(client, method, params)
        assert isinstance(reply, Exception), (method, params, reply)
        assert getattr(reply, "code", None) == code, (method, params, reply)
    # still serving: a well-formed request after all of them is answered
    result = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(16, 9)))
    assert "flat: (4, 256)" in result.contents.value


BLOCKS = """import torch.nn as nn

WIDTH = {width}


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, WIDTH)

    def forward(self, x):
        return self.fc(x)
"""

NET = """import torch
import torch.nn as nn
from blocks import Block


# cnnlint: input=(4, 8)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.head = nn.Linear(32, 2)

    def forward(self, x):
        return self.head(self.block(x))
"""


@pytest.mark.asyncio
async def test_editing_an_imported_module_rediagnoses_its_users(client: LanguageClient, tmp_path):
    """net.py imports blocks.py: an unsaved edit of blocks.py re-diagnoses the open net.py, read from the buffer."""
    blocks = tmp_path / "blocks.py"
    blocks.write_text(BLOCKS.format(width=32))
    net_uri = await open_and_wait(client, tmp_path / "net.py", NET)
    assert list(client.diagnostics[net_uri]) == []
    blocks_uri = await open_and_wait(client, blocks, BLOCKS.format(width=32))
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=blocks_uri, version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=BLOCKS.format(width=64))]))
    for _ in range(6):                   # blocks.py's own diagnostics, then net.py's
        try:
            await asyncio.wait_for(client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), 15)
        except asyncio.TimeoutError:
            break
        if list(client.diagnostics.get(net_uri, [])):
            break
    (diag,) = client.diagnostics[net_uri]
    assert diag.code == "CNN101" and "(4, 64)" in diag.message          # the unsaved width, not the file's
    assert blocks.read_text() == BLOCKS.format(width=32)

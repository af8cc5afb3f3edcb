"""`cnnlint lsp`: the language server (pygls, stdio).

Diagnostics on open, change (debounced) and save, from the unsaved buffer and the project's configuration;
hover over a tensor name (a parameter of forward too) shows its inferred shape; inlay hints give the shape at the
end of each line that assigns a tensor; code actions fix a finding with an edit of the argument it sets, or add
`# noqa: CODE` to a flagged line.

A malformed request (parameters of the wrong shape, a document that is not open, a position outside it) is
answered with a JSON-RPC error and the server goes on serving.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import unquote, urlparse

from lsprotocol import converters, types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol

from . import __version__
from .editor import ShapeIndex, describe
from .incremental import IncrementalParser
from .lint import lint_text
from .report.lsp_format import diagnostic as lsp_diagnostic
from .report.lsp_format import utf16_column

DEBOUNCE_SECONDS = 0.025


def uri_to_path(uri: str) -> Path:
    parsed = urlparse(uri)
    return Path(unquote(parsed.path)) if parsed.scheme == "file" else Path(uri)


class Document:
    __slots__ = ("version", "result", "index", "task", "parser", "reads")

    def __init__(self):
        self.version = None
        self.result = None
        self.index = None
        self.task = None
        self.parser = IncrementalParser()
        self.reads = frozenset()      # the modules its last lint read (resolved paths)


class _Malformed:
    """A request whose parameters could not be read: it is answered with an error, never dropped."""

    jsonrpc = "2.0"

    def __init__(self, msg_id, method, error):
        self.id, self.method, self.error = msg_id, method, error


class CnnlintProtocol(LanguageServerProtocol):
    """pygls drops a request whose parameters do not deserialize (it logs and the client waits for its timeout):
    here such a request gets an "invalid params" error reply."""

    def structure_message(self, data):
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if isinstance(data, dict) and "id" in data and "method" in data:
                return _Malformed(data["id"], data["method"], exc)
            raise

    def handle_message(self, message):
        if isinstance(message, _Malformed):
            error = JsonRpcInvalidParams(f"invalid parameters for {message.method}")
            self._send_response(message.id, None, error.to_response_error())
            return
        super().handle_message(message)


def invalid(message):
    return JsonRpcInvalidParams(message)


class CnnlintServer(LanguageServer):
    def __init__(self):
        super().__init__("cnnlint", __version__, protocol_cls=CnnlintProtocol)
        self.documents: dict = {}
        from .config import Resolver
        self.resolver = Resolver()

    def settings_for(self, path):
        from .config import ConfigError
        try:
            cfg = self.resolver.for_file(path)
        except ConfigError as exc:
            self.window_show_message(types.ShowMessageParams(types.MessageType.Error, f"cnnlint: {exc}"))
            return None
        if cfg.excluded(path):
            return None
        return cfg.settings_for(path)

    def schedule(self, uri, delay):
        doc = self.documents.setdefault(uri, Document())
        if doc.task is not None and not doc.task.done():
            doc.task.cancel()
        doc.task = asyncio.ensure_future(self._lint_later(uri, delay))

    async def _lint_later(self, uri, delay):
        if delay:
            await asyncio.sleep(delay)
        text_doc = self.workspace.get_text_document(uri)
        text, version = text_doc.source, text_doc.version
        path = uri_to_path(uri)
        settings = self.settings_for(path)
        if settings is None:
            self.publish(uri, version, [])
            return
        doc = self.documents.setdefault(uri, Document())
        loader = None
        if settings.follow_imports:
            # the modules it imports are read from their open, unsaved buffers when there are some
            from .modules.loader import loader_for
            overlays = {str(uri_to_path(u).resolve()): self.workspace.get_text_document(u).source
                        for u in self.documents if u != uri}
            loader = loader_for(path, settings.python, overlays or None)
            loader.start()
        result = lint_text(text, path, settings, keep_analysis=True, parser=doc.parser, loader=loader)
        doc.version, doc.result, doc.index = version, result, None
        doc.reads = frozenset(result.deps)
        self.publish(uri, version, [to_lsp(d) for d in result.diagnostics])

    def changed(self, uri, delay):
        """A buffer changed: it is linted again, and so is every open file whose last lint read it."""
        self.schedule(uri, delay)
        path = str(uri_to_path(uri).resolve())
        for other, doc in list(self.documents.items()):
            if other != uri and path in doc.reads:
                self.schedule(other, delay)

    def publish(self, uri, version, diagnostics):
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, version=version, diagnostics=diagnostics))

    def shape_index(self, uri):
        doc = self.documents.get(uri)
        if doc is None or doc.result is None:
            return None
        if doc.index is None:
            doc.index = ShapeIndex(doc.result)
        return doc.index


def to_lsp(d) -> types.Diagnostic:
    """The `--output-format lsp` object, as lsprotocol's type: one definition of what an editor is sent."""
    return converters.get_converter().structure(lsp_diagnostic(d), types.Diagnostic)


server = CnnlintServer()


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
async def did_open(ls: CnnlintServer, params: types.DidOpenTextDocumentParams):
    ls.schedule(params.text_document.uri, 0)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
async def did_change(ls: CnnlintServer, params: types.DidChangeTextDocumentParams):
    ls.changed(params.text_document.uri, DEBOUNCE_SECONDS)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
async def did_save(ls: CnnlintServer, params: types.DidSaveTextDocumentParams):
    ls.changed(params.text_document.uri, 0)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
async def did_close(ls: CnnlintServer, params: types.DidCloseTextDocumentParams):
    doc = ls.documents.pop(params.text_document.uri, None)
    if doc is not None and doc.task is not None:
        doc.task.cancel()
    ls.publish(params.text_document.uri, None, [])


def _document(ls, uri):
    """The open document at `uri`; an "invalid params" error for one the client never opened."""
    document = ls.workspace.text_documents.get(unquote(uri))
    if document is None:
        raise invalid(f"unknown document {uri}: the client has not opened it (textDocument/didOpen)")
    return document


def _check_position(document, position, what="position"):
    lines = document.lines
    if not 0 <= position.line <= len(lines) or position.character < 0:
        raise invalid(f"{what} {position.line}:{position.character} is outside the document "
                      f"({len(lines)} lines)")


def _check_range(document, rng):
    """A range must start inside the document; its end may lie past the last line (a client asking for the hints
    of a whole viewport), but not before its start."""
    _check_position(document, rng.start, "range start")
    if rng.end.line < 0 or rng.end.character < 0:
        raise invalid(f"range end {rng.end.line}:{rng.end.character} is negative")
    if (rng.end.line, rng.end.character) < (rng.start.line, rng.start.character):
        raise invalid(f"range ends ({rng.end.line}:{rng.end.character}) before it starts "
                      f"({rng.start.line}:{rng.start.character})")


def _line_text(ls, uri, line0):
    lines = _document(ls, uri).lines
    return lines[line0].rstrip("\r\n") if 0 <= line0 < len(lines) else ""


def _column_from_utf16(text, character):
    """A 0-based UTF-16 offset as a 1-based code-point column."""
    units = 0
    for i, ch in enumerate(text):
        if units >= character:
            return i + 1
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(text) + 1


@server.feature(types.TEXT_DOCUMENT_HOVER)
def hover(ls: CnnlintServer, params: types.HoverParams):
    _check_position(_document(ls, params.text_document.uri), params.position)
    index = ls.shape_index(params.text_document.uri)
    if index is None:
        return None
    line = params.position.line
    text = _line_text(ls, params.text_document.uri, line)
    entry = index.at(line + 1, _column_from_utf16(text, params.position.character))
    if entry is None:
        return None
    rng = types.Range(types.Position(line, utf16_column(text, entry.column)),
                      types.Position(line, utf16_column(text, entry.end_column)))
    return types.Hover(contents=types.MarkupContent(types.MarkupKind.Markdown, f"```python\n{describe(entry)}\n```"),
                       range=rng)


@server.feature(types.TEXT_DOCUMENT_INLAY_HINT, types.InlayHintOptions(resolve_provider=False))
def inlay_hints(ls: CnnlintServer, params: types.InlayHintParams):
    _check_range(_document(ls, params.text_document.uri), params.range)
    index = ls.shape_index(params.text_document.uri)
    if index is None:
        return []
    first, last = params.range.start.line + 1, params.range.end.line + 1
    hints = []
    for line, label in index.line_hints():
        if first <= line <= last:
            text = _line_text(ls, params.text_document.uri, line - 1)
            hints.append(types.InlayHint(position=types.Position(line - 1, len(text.encode("utf-16-le")) // 2),
                                         label=f"  {label}", kind=types.InlayHintKind.Type, padding_left=True))
    return hints


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))
def code_actions(ls: CnnlintServer, params: types.CodeActionParams):
    from .fix import fix_text
    from .editor import minimal_edits
    actions = []
    uri = params.text_document.uri
    document = _document(ls, uri)
    _check_range(document, params.range)
    for diag in params.context.diagnostics:
        _check_range(document, diag.range)
        if diag.source != "cnnlint" or not diag.code:
            continue
        line = diag.range.start.line
        data = diag.data if isinstance(diag.data, dict) else {}
        settings = ls.settings_for(uri_to_path(uri)) if data.get("fix") else None
        if settings is not None:
            fixed = fix_text(document.source, uri_to_path(uri), settings, unsafe=True, only=(line + 1, diag.code))
            if fixed.applied:
                # the edit of the argument it sets (or of each place an unsafe fix changes), not the document
                edits = [types.TextEdit(range=types.Range(types.Position(*start), types.Position(*end)),
                                        new_text=text) for start, end, text in minimal_edits(document.source,
                                                                                             fixed.text)]
                unsafe = data.get("applicability") == "unsafe"
                actions.append(types.CodeAction(
                    title=f"Fix {diag.code}: {data['fix']}" + (" (changes behaviour)" if unsafe else ""),
                    kind=types.CodeActionKind.QuickFix, diagnostics=[diag], is_preferred=not unsafe,
                    edit=types.WorkspaceEdit(changes={uri: edits})))
        text = _line_text(ls, uri, line)
        end = types.Position(line, len(text.encode("utf-16-le")) // 2)
        if "# noqa" in text:
            continue
        edit = types.TextEdit(range=types.Range(end, end), new_text=f"  # noqa: {diag.code}")
        actions.append(types.CodeAction(
            title=f"Ignore {diag.code} on this line (# noqa)", kind=types.CodeActionKind.QuickFix,
            diagnostics=[diag], edit=types.WorkspaceEdit(changes={uri: [edit]})))
    return actions


def main():
    import gc
    gc.set_threshold(50_000, 20, 20)     # as in the CLI: the CST of a buffer is large and lives for one lint
    server.start_io()

#!/usr/bin/env python3
"""Latency of the language server: from a didChange to the publishDiagnostics for that version.

    python bench/lsp_latency.py [--edits 30]

The document is ~1,000 lines of model code (the clean fixtures, concatenated); each edit changes one constant
so that the diagnostics flip between one error and none. The figure includes the server's debounce
(cnnlint.lsp.DEBOUNCE_SECONDS) and the stdio round trip. Figures are printed, not asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

ROOT = Path(__file__).resolve().parent.parent


def document(lines=1000):
    parts, count = [], 0
    for f in sorted((ROOT / "fixtures" / "torch" / "clean").glob("*.py")):
        text = f.read_text()
        parts.append(text)
        count += text.count("\n")
        if count >= lines:
            break
    body = "\n".join(parts)
    tail = ("\n\n# cnnlint: input=(4, 3, 32, 32)\nclass Probe(nn.Module):\n    def __init__(self):\n"
            "        super().__init__()\n        self.conv = nn.Conv2d(3, 8, 3)\n        self.fc = nn.Linear(WIDTH, 10)\n"
            "    def forward(self, x):\n        return self.fc(torch.flatten(self.conv(x), 1))\n")
    return "import torch\nimport torch.nn as nn\n" + body + tail


async def main(edits):
    text = document()
    folder = Path(tempfile.mkdtemp(prefix="cnnlint-lsp-"))
    path = folder / "models.py"
    uri = path.as_uri()
    client = LanguageClient("bench", "1")
    published: dict = {}
    waiters: dict = {}

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params: types.PublishDiagnosticsParams):
        published[params.version] = (time.perf_counter(), len(params.diagnostics))
        if params.version in waiters:
            waiters.pop(params.version).set()

    await client.start_io(sys.executable, "-m", "cnnlint", "lsp")
    await client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities(),
                                                         root_uri=folder.as_uri()))
    client.initialized(types.InitializedParams())

    async def send(version, body, change):
        event = waiters[version] = asyncio.Event()
        start = time.perf_counter()
        if change:
            client.text_document_did_change(types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=body)]))
        else:
            client.text_document_did_open(types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(uri=uri, language_id="python", version=version, text=body)))
        await asyncio.wait_for(event.wait(), 30)
        return published[version][0] - start, published[version][1]

    first, _ = await send(1, text.replace("WIDTH", "8 * 30 * 30"), change=False)
    latencies, counts = [], set()
    for i in range(edits):
        width = "8 * 30 * 30" if i % 2 else "8 * 31 * 31"
        seconds, n = await send(i + 2, text.replace("WIDTH", width), change=True)
        latencies.append(seconds)
        counts.add(n)
        await asyncio.sleep(0.05)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    lines = text.count("\n")
    ms = sorted(x * 1000 for x in latencies)
    print(f"document: {lines} lines; diagnostics per version: {sorted(counts)}")
    print(f"open -> diagnostics: {first * 1000:.0f} ms (cold: imports and first analysis)")
    print(f"edit -> diagnostics over {edits} edits: median {statistics.median(ms):.0f} ms, "
          f"p90 {ms[int(len(ms) * 0.9) - 1]:.0f} ms, min {ms[0]:.0f} ms (includes the "
          f"{__import__('cnnlint.lsp', fromlist=['x']).DEBOUNCE_SECONDS * 1000:.0f} ms debounce)   target < 100 ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--edits", type=int, default=30)
    asyncio.run(main(parser.parse_args().edits))

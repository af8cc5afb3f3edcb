"""The editor's incremental parse must give exactly what a whole-file parse gives."""

from pathlib import Path

import pytest

from cnnlint.incremental import IncrementalParser, split
from cnnlint.lint import lint_text

FIXTURES = sorted((Path(__file__).resolve().parent.parent / "fixtures").rglob("*.py"))


def key(result):
    return [(d.line, d.column, d.end_line, d.end_column, d.code, d.message,
             [(r.line, r.column, r.message) for r in d.related]) for d in result.diagnostics]


@pytest.mark.parametrize("path", FIXTURES, ids=[p.name for p in FIXTURES])
def test_same_diagnostics_as_a_whole_parse(path):
    text = path.read_text()
    chunks = split(text)
    assert chunks is not None and "".join(c for _, c in chunks) == text
    parser = IncrementalParser()
    assert key(lint_text(text, path, parser=parser)) == key(lint_text(text, path))
    edited = text.replace("import torch\n", "import torch\n\n# an edit near the top shifts every line\n", 1)
    assert key(lint_text(edited, path, parser=parser)) == key(lint_text(edited, path))


def test_tricky_splits_fall_back_or_stay_exact():
    text = ('import torch\nimport torch.nn as nn\nDOC = """\nclass NotCode:\n    pass\n"""\n\n'
            '@staticmethod\n# a comment between\ndef f():\n    pass\n'
            'try:\n    x = 1\nexcept Exception:\n    x = 2\nelse:\n    pass\n'
            'm = nn.Conv2d(\n3, 8, 3, stride=2, padding="same")\n')
    chunks = split(text)
    assert "".join(c for _, c in chunks) == text
    assert all(not c.startswith(("except", "else", "def", "class NotCode")) for _, c in chunks[1:])
    parser = IncrementalParser()
    assert key(lint_text(text, "t.py", parser=parser)) == key(lint_text(text, "t.py"))
    assert [d.code for d in lint_text(text, "t.py", parser=parser).diagnostics] == ["CNN109"]

"""One test runs every fixture: each `# expect: CODE` line must be flagged with exactly those codes, and no
other line may be flagged (missing, extra and wrong-line diagnostics all fail)."""

import re
from collections import Counter
from pathlib import Path

import pytest

from cnnlint.lint import lint_file

ROOT = Path(__file__).resolve().parent.parent / "fixtures"
FILES = sorted(p for p in ROOT.rglob("*.py"))
EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>[A-Z]+\d+(?:\s*,\s*[A-Z]+\d+)*)")


def expected(path):
    out = Counter()
    for number, line in enumerate(path.read_text().splitlines(), 1):
        m = EXPECT.search(line)
        if m:
            for code in m.group("codes").split(","):
                out[(number, code.strip())] += 1
    return out


def test_fixtures_exist():
    assert len(FILES) >= 30


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_fixture(path):
    got = Counter((d.line, d.code) for d in lint_file(path).diagnostics)
    want = expected(path)
    missing = sorted((want - got).elements())
    extra = sorted((got - want).elements())
    details = "\n".join(f"  {d.line}:{d.column} {d.code} {d.message}" for d in lint_file(path).diagnostics)
    assert not missing and not extra, f"missing {missing}, unexpected {extra}\n{details}"

"""One test runs every fixture: each `# expect: CODE` line must be flagged with exactly those codes, and no
other line may be flagged (missing, extra and wrong-line diagnostics all fail). A project (a directory under
fixtures/projects/) is linted as a whole, as `cnnlint project/` lints it: a finding in one of its modules reached
from another is reported in the module where it is."""

import re
from collections import Counter
from pathlib import Path

import pytest

from cnnlint.lint import lint_file
from cnnlint.runner import run_paths

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


_PROJECTS: dict = {}


def diagnostics(path):
    """What cnnlint reports for a fixture: alone, or as part of its project."""
    parts = path.relative_to(ROOT).parts
    if parts[0] != "projects":
        return lint_file(path).diagnostics
    project = ROOT / "projects" / parts[1]
    if project not in _PROJECTS:
        results, _ = run_paths([project], jobs=1)
        _PROJECTS[project] = {Path(r.path).resolve(): r.diagnostics for r in results}
    return _PROJECTS[project].get(path.resolve(), [])


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_fixture(path, monkeypatch):
    if "configs" in path.relative_to(ROOT).parts:      # models built with their declared config classes
        import cnnlint.analysis
        monkeypatch.setattr(cnnlint.analysis, "MAX_DECLARED_BUILDS", 4)
    found = diagnostics(path)
    got = Counter((d.line, d.code) for d in found)
    want = expected(path)
    missing = sorted((want - got).elements())
    extra = sorted((got - want).elements())
    details = "\n".join(f"  {d.line}:{d.column} {d.code} {d.message}" for d in found)
    assert not missing and not extra, f"missing {missing}, unexpected {extra}\n{details}"

"""Damaged, huge and deeply nested inputs: cnnlint answers (a diagnostic or silence), never a traceback."""

import random
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from cnnlint.lint import INPUT_PROBLEMS, lint_file
from cnnlint.rules import all_rules

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "fixtures" / "torch").rglob("*.py"))
SHAPE_CODES = {r.code for r in all_rules()}


def lint_bytes(tmp_path, data, name="damaged.py"):
    path = tmp_path / name
    path.write_bytes(data)
    result = lint_file(path)
    for d in result.diagnostics:       # every diagnostic is well formed and points into the file
        assert d.code in SHAPE_CODES | set(INPUT_PROBLEMS) | {"CNN004"}
        assert d.line >= 1 and d.column >= 1
    return result


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(index=st.integers(0, len(SOURCES) - 1), cut=st.floats(0, 1), junk=st.binary(max_size=40),
       where=st.floats(0, 1), encoding=st.sampled_from(["utf-8", "utf-16", "latin-1", "cp1252"]))
def test_damaged_sources(tmp_path, index, cut, junk, where, encoding):
    text = SOURCES[index].read_text()
    truncated = text[:int(len(text) * cut)]
    data = truncated.encode(encoding, errors="replace")
    at = int(len(data) * where)
    result = lint_bytes(tmp_path, data[:at] + junk + data[at:])
    assert "CNN002" not in {d.code for d in result.diagnostics}, [d.message for d in result.diagnostics]


def test_internal_errors_are_named_and_do_not_stop_other_files(tmp_path, monkeypatch):
    import cnnlint.analysis as analysis
    good = tmp_path / "good.py"
    good.write_text("import torch.nn as nn\nm = nn.Conv2d(8, 8, 3, stride=2, padding='same')\n")
    bad = tmp_path / "bad.py"
    bad.write_text("import torch\n")
    real = analysis.analyze_module

    def broken(module, source, path, *rest, **options):
        if path.endswith("bad.py"):
            raise ValueError("engine defect")
        return real(module, source, path, *rest, **options)

    monkeypatch.setattr(analysis, "analyze_module", broken)
    from cnnlint.runner import run_paths
    results, _ = run_paths([tmp_path], jobs=1)
    by_name = {Path(r.path).name: [d.code for d in r.diagnostics] for r in results}
    assert by_name == {"bad.py": ["CNN002"], "good.py": ["CNN109"]}


def test_deeply_nested_expression(tmp_path):
    depth = 3000
    source = "import torch\nx = " + "(" * depth + "1" + ")" * depth + "\ny = " + " + ".join(["1"] * depth) + "\n"
    result = lint_bytes(tmp_path, source.encode())
    assert {d.code for d in result.diagnostics} <= {"CNN001"}


def test_deep_recursion_in_linted_code(tmp_path):
    source = ("import torch.nn as nn\n"
              "def build(n):\n    return nn.Sequential(nn.ReLU(), build(n - 1)) if n else nn.ReLU()\n"
              "model = build(5000)\n")
    assert lint_bytes(tmp_path, source.encode()).diagnostics == []


def test_thousand_layer_model(tmp_path):
    source = ("import torch\nimport torch.nn as nn\n"
              "# cnnlint: input=(2, 64)\n"
              "class Deep(nn.Module):\n"
              "    def __init__(self, depth=1000):\n"
              "        super().__init__()\n"
              "        self.layers = nn.ModuleList([nn.Linear(64, 64) for _ in range(depth)])\n"
              "        self.head = nn.Linear(65, 10)\n"
              "    def forward(self, x):\n"
              "        for layer in self.layers:\n"
              "            x = torch.relu(layer(x))\n"
              "        return self.head(x)\n")
    result = lint_bytes(tmp_path, source.encode())
    assert [d.code for d in result.diagnostics] == ["CNN101"]   # found through 1000 layers


def test_large_generated_file(tmp_path):
    rng = random.Random(0)
    blocks = ["import torch\nimport torch.nn as nn\n"]
    for i in range(500):
        c = rng.choice([8, 16, 32])
        blocks.append(f"class Block{i}(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                      f"        self.conv = nn.Conv2d({c}, {c}, 3, padding=1)\n"
                      f"        self.bn = nn.BatchNorm2d({c})\n"
                      f"    def forward(self, x):\n        return torch.relu(self.bn(self.conv(x))) + x\n\n")
    data = "".join(blocks).encode()
    assert len(data) > 100_000
    assert lint_bytes(tmp_path, data).diagnostics == []


def test_oversized_file_is_noted_not_parsed(tmp_path, monkeypatch):
    import cnnlint.lint as lint
    monkeypatch.setattr(lint, "MAX_FILE_BYTES", 1000)
    result = lint_bytes(tmp_path, b"import torch\n" + b"x = 1\n" * 400)
    assert [(d.code, d.severity) for d in result.diagnostics] == [("CNN004", "info")]


def test_null_bytes_and_binary(tmp_path):
    assert {d.code for d in lint_bytes(tmp_path, b"import torch\x00\x00\xff\xfe").diagnostics} <= {"CNN001", "CNN003"}
    assert lint_bytes(tmp_path, b"").diagnostics == []
    assert sys.getrecursionlimit() >= 1000


def test_a_list_longer_on_one_path_joins_with_another_value():
    """`names += ("c",)` under an undecided condition, then an if-expression choosing between a tuple and that
    list: the join is a value (a for loop still reads it), never an internal error."""
    source = ("import sys\nimport torch.nn as nn\n\nnames = ('a', 'b')\nif len(sys.argv) > 1:\n"
              "    names += ('c',)\nchosen = ('a',) if len(sys.argv) > 2 else names\n"
              "layers = nn.Sequential(*[nn.Linear(4, 4) for _ in chosen])\n")
    from cnnlint.lint import lint_text
    result = lint_text(source, "script.py")
    assert [d.code for d in result.diagnostics] == []

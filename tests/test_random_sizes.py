"""Random models whose widths are constructor parameters without defaults (`Net(a, b)`): cnnlint builds them with
size symbols, torch builds them at every value of the sizes on a grid. cnnlint must never report an error when
one value works, and must report one when a layer fails at every value. (A model whose layers each work at some
sizes but never all together — `Linear(a, a)`, `Linear(b, ...)`, `Linear(a, ...)` after `2 * b` arrives — fails
at every size too; cnnlint judges each layer on the sizes that reach it and may stay silent there.)

The widths are `a`, `2 * b`, `a + 1`, `3 * b`, or a literal; a layer's input width is most of the time the width
that arrives (written the same way, or another way of writing it) and sometimes another one. Any equation between
two of those forms, or one of them and twice another (a `cat` of the tensor with itself), that has a positive
solution has one with both sizes at most 8, so the grid 1..8 decides "for every value" (a literal 6 would not:
`Linear(a, ...)` after `cat` of 6 features works only at a = 12)."""

from __future__ import annotations

import itertools
import os
import sys
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from cnnlint.api import lint_source

sys.path.insert(0, str(Path(__file__).resolve().parent))
from modelgen import run_in_torch  # noqa: E402

GRID = range(1, 9)
FORMS = ("a", "b", "2 * a", "2 * b", "a + 1", "b + 1", "3 * a", "3 * b", "3", "4")


def value(form, a, b):
    return eval(form, {"__builtins__": {}}, {"a": a, "b": b})


@st.composite
def sized_models(draw):
    """(source, the first layer's input width as written)."""
    n = draw(st.integers(2, 4))
    first = draw(st.sampled_from(FORMS))
    init, forward = [], []
    width = first                                       # the width arriving, as a form in a and b
    doubled = False                                     # ... times 2 (a `cat` of the tensor with itself)
    for i in range(n):
        arriving = f"2 * ({width})" if doubled else width
        right = draw(st.sampled_from([True, True, True, False]))
        written = arriving if right or i == 0 else draw(st.sampled_from(FORMS))
        if i == 0:
            written = first
        out = draw(st.sampled_from(FORMS))
        init.append(f"        self.fc{i} = nn.Linear({written}, {out})")
        forward.append(f"        x = self.fc{i}(x)")
        width, doubled = out, False
        if draw(st.booleans()):
            forward.append("        x = torch.relu(x)")
        if i < n - 1 and draw(st.sampled_from([False, False, True])):
            forward.append("        x = torch.cat([x, x], dim=-1)")
            doubled = True
    source = "\n".join(["import torch", "import torch.nn as nn", "", "", "class Net(nn.Module):",
                        "    def __init__(self, a, b):", "        super().__init__()", *init, "",
                        "    def forward(self, x):", *forward, "        return x", ""])
    return source, first


def torch_runs(source, first):
    """For each (a, b) of the grid: None when torch runs the model, else the index of the layer it fails at."""
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for a, b in itertools.product(GRID, GRID):
            text = source.replace("super().__init__()", f"super().__init__()\n        a, b = {a}, {b}")
            run = run_in_torch(text.replace("def __init__(self, a, b):", "def __init__(self):"),
                               os.path.join(tmp, "net.py"), (2, value(first, a, b)), "float")
            out.append(len(run.calls) if run.raised else None)
    return out


@settings(max_examples=int(os.environ.get("CNNLINT_FUZZ_EXAMPLES", "40")) // 2, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(sized_models())
def test_an_error_when_a_layer_fails_at_every_size_and_never_when_one_works(model):
    source, first = model
    note(source)
    errors = [d for d in lint_source(source, "net.py") if d.severity == "error"]
    runs = torch_runs(source, first)
    note(f"cnnlint: {[d.message for d in errors]}; torch: {runs}")
    if errors:
        assert None not in runs
    if len(set(runs)) == 1 and runs[0] is not None:
        assert errors

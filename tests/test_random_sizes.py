"""Random models whose widths are constructor parameters without defaults (`Net(a, b)`): cnnlint builds them with
size symbols, torch builds them at every value of the sizes on a grid. cnnlint must report an error exactly when
torch fails at every value, and never when one value works.

The widths are `a`, `2 * b`, `a + 1`, `3 * b`, or a literal; a layer's input width is most of the time the width
that arrives (written the same way, or another way of writing it) and sometimes another one. Any equation between
two of those forms that has a positive solution has one with both sizes at most 8, so the grid 1..8 decides
"for every value".
"""

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
FORMS = ("a", "b", "2 * a", "2 * b", "a + 1", "b + 1", "3 * a", "3 * b", "4", "6")


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


def torch_fails_everywhere(source, first):
    """Whether torch rejects the model at every (a, b) of the grid, and how many values it ran at."""
    worked = 0
    with tempfile.TemporaryDirectory() as tmp:
        for a, b in itertools.product(GRID, GRID):
            text = source.replace("super().__init__()", f"super().__init__()\n        a, b = {a}, {b}")
            run = run_in_torch(text.replace("def __init__(self, a, b):", "def __init__(self):"),
                               os.path.join(tmp, "net.py"), (2, value(first, a, b)), "float")
            worked += not run.raised
    return worked == 0, worked


@settings(max_examples=int(os.environ.get("CNNLINT_FUZZ_EXAMPLES", "40")) // 2, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(sized_models())
def test_an_error_exactly_when_every_size_fails(model):
    source, first = model
    note(source)
    errors = [d for d in lint_source(source, "net.py") if d.severity == "error"]
    fails, worked = torch_fails_everywhere(source, first)
    note(f"cnnlint: {[d.message for d in errors]}; torch ran at {worked} of {len(GRID) ** 2} sizes")
    assert bool(errors) == fails

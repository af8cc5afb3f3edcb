#!/usr/bin/env python3
"""Time and peak memory of cnnlint on hostile inputs, each in a fresh subprocess.

    python bench/robustness.py

Figures only; the test suite checks the same inputs for correctness (tests/test_robustness.py).
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def block(i, c):
    return (f"class Block{i}(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
            f"        self.conv = nn.Conv2d({c}, {c}, 3, padding=1)\n        self.bn = nn.BatchNorm2d({c})\n"
            f"    def forward(self, x):\n        return torch.relu(self.bn(self.conv(x))) + x\n\n")


CASES = {
    "10 MB file (48k small modules)": lambda: "import torch\nimport torch.nn as nn\n" + "".join(
        block(i, 8 + i % 3 * 8) for i in range(48_000)),
    "1.9 MB file (9k small modules)": lambda: "import torch\nimport torch.nn as nn\n" + "".join(
        block(i, 8 + i % 3 * 8) for i in range(7_600)),
    "1,000-layer model, concrete input": lambda: (
        "import torch\nimport torch.nn as nn\n# cnnlint: input=(2, 64)\nclass Deep(nn.Module):\n"
        "    def __init__(self, depth=1000):\n        super().__init__()\n"
        "        self.layers = nn.ModuleList([nn.Linear(64, 64) for _ in range(depth)])\n"
        "    def forward(self, x):\n        for layer in self.layers:\n            x = torch.relu(layer(x))\n"
        "        return x\n"),
    "10,000 nested brackets": lambda: "import torch\nx = " + "(" * 10_000 + "1" + ")" * 10_000 + "\n",
    "5,000-term expression": lambda: "import torch\nx = " + " + ".join(["1"] * 5000) + "\n",
    "recursion 5,000 deep in linted code": lambda: (
        "import torch.nn as nn\ndef build(n):\n    return nn.Sequential(nn.ReLU(), build(n - 1)) if n else nn.ReLU()\n"
        "model = build(5000)\n"),
}


def main():
    exe = shutil.which("cnnlint") or sys.exit("cnnlint is not installed: pip install -e .")
    work = Path(tempfile.mkdtemp(prefix="cnnlint-robust-"))
    for name, make in CASES.items():
        path = work / "case.py"
        path.write_text(make())
        start = time.perf_counter()
        proc = subprocess.run([exe, str(path), "--no-cache", "--output-format", "concise"], capture_output=True,
                              text=True)
        wall = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        last = (proc.stdout.strip().splitlines() or [""])[-1][:70]
        crashed = "Traceback" in proc.stderr or proc.returncode < 0
        print(f"{name:38} {path.stat().st_size / 1e6:6.2f} MB  {wall:6.2f} s  peak<= {peak:7.0f} MB  "
              f"exit {proc.returncode}{'  CRASH' if crashed else ''}  {last}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Run cnnlint over the model code of published packages and count what it says: the precision check.

    python bench/corpus_check.py            (fetches the corpus with bench/corpus.sh first)
    python bench/corpus_check.py --follow   (also: how much of the code the engine followed)

Every error on this correct, released code is a false alarm until torch shows the bug is real; every warning is
to be read. Prints one row per package and each finding, and exits 1 if there is any error or crash.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def followed(directory):
    """(model runs, leaf-layer calls, calls whose output shape is fully known) over a directory."""
    from cnnlint.api import analyze_source
    runs = calls = known = 0
    for f in sorted(Path(directory).rglob("*.py")):
        data = f.read_bytes()
        if not any(m in data for m in (b"torch", b"keras", b"tensorflow")) or len(data) > 2_000_000:
            continue
        try:
            models = analyze_source(data.decode("utf-8", "replace"), str(f)).models
        except Exception:
            continue
        runs += len(models)
        for m in models:
            calls += len(m.calls)
            known += sum(c.output_shape is not None for c in m.calls)
    return runs, calls, known


def main():
    exe = shutil.which("cnnlint") or sys.exit("cnnlint is not installed: pip install -e .")
    follow = "--follow" in sys.argv[1:]
    root = Path(os.environ.get("CNNLINT_CORPUS", Path.home() / ".cache" / "cnnlint-corpus"))
    dirs = subprocess.run(["bash", str(HERE / "corpus.sh")], capture_output=True, text=True, check=True).stdout.split()
    print(f"{'package':28} {'files':>6} {'analysed':>8} {'errors':>7} {'warnings':>8} {'notes':>6} {'crashes':>8} "
          f"{'wall s':>7}")
    bad = 0
    findings = []
    for d in dirs:
        name = Path(d).relative_to(root).parts[0] if Path(d).is_relative_to(root) else Path(d).name
        start = time.perf_counter()
        proc = subprocess.run([exe, d, "--output-format", "json", "--no-cache"], capture_output=True, text=True)
        wall = time.perf_counter() - start
        diagnostics = json.loads(proc.stdout or "[]")
        files = sum(1 for _ in Path(d).rglob("*.py"))
        analysed = sum(1 for f in Path(d).rglob("*.py") if any(m in f.read_bytes() for m in
                                                                (b"torch", b"keras", b"tensorflow")))
        crashes = sum(x["code"] == "CNN002" for x in diagnostics) + (1 if "Traceback" in proc.stderr else 0)
        errors = sum(x["severity"] == "error" and x["code"] != "CNN002" for x in diagnostics)
        warnings = sum(x["severity"] == "warning" for x in diagnostics)
        notes = sum(x["severity"] == "info" for x in diagnostics)
        bad += errors + crashes
        findings += [x for x in diagnostics if x["severity"] != "info" or x["code"] != "CNN004"]
        row = f"{name:28} {files:6} {analysed:8} {errors:7} {warnings:8} {notes:6} {crashes:8} {wall:7.1f}"
        if follow:
            runs, calls, known = followed(d)
            row += f"   models run {runs}, layer calls {calls}, shape known {known / max(calls, 1):.0%}"
        print(row)
    for x in findings:
        print(f"  {x['path']}:{x['line']}: {x['code']} {x['message'][:120]}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()

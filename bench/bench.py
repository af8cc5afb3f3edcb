#!/usr/bin/env python3
"""cnnlint's speed as ratios against baselines measured in the same run (never absolute thresholds).

    python bench/bench.py [DIR ...]      (default: the model directories bench/corpus.sh prints)

Each figure is the CPU time (user + system) of a fresh subprocess, so start-up is counted on both sides:
  parse      a bare `libcst.parse_module` of every .py file the run reads: the linted ones and the modules
             their imports lead to (read from the result cache's dependency lists)   (the baseline)
  cold       `cnnlint --no-cache --jobs 1`                              target <= 1.5 x parse
  warm       `cnnlint --jobs 1` again over an unchanged tree (cache)    target <= 0.1 x cold
  jobs=N     wall time of `cnnlint --no-cache --jobs N` vs --jobs 1     (scaling across cores)
  --version  wall time                                                  target < 0.3 s
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

PARSE = """
import sys, libcst
from pathlib import Path
for f in Path(sys.argv[1]).read_text().splitlines():
    try:
        libcst.parse_module(Path(f).read_bytes())
    except Exception:
        pass
"""


def followed_files(cache_dir):
    """The imported modules the cached lints read (each entry lists them with their digests)."""
    import json
    out = set()
    for entry in Path(cache_dir).rglob("*.json"):
        try:
            out.update(json.loads(entry.read_text()).get("deps", {}))
        except (OSError, ValueError):
            pass
    return out


def measure(cmd, cwd):
    """(cpu seconds, wall seconds) of a subprocess."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


def corpus_dirs():
    out = subprocess.run(["bash", str(HERE / "corpus.sh")], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if line.strip()]


def main(argv):
    dirs = argv or corpus_dirs()
    exe = shutil.which("cnnlint") or sys.exit("cnnlint is not installed: pip install -e .")
    work = tempfile.mkdtemp(prefix="cnnlint-bench-")
    files = [f for d in dirs for f in Path(d).rglob("*.py")]
    lines = sum(f.read_bytes().count(b"\n") for f in files)
    framework = sum(1 for f in files if any(m in f.read_bytes() for m in (b"torch", b"keras", b"tensorflow")))
    print(f"corpus: {len(files)} files, {lines} lines, {framework} mention a framework; {os.cpu_count()} cores")
    for d in dirs:
        print(f"  {d}")
    cold, cold_wall = measure([exe, *dirs, "--no-cache", "--jobs", "1"], work)
    measure([exe, *dirs, "--jobs", "1"], work)                       # fill the cache
    warm, _ = measure([exe, *dirs, "--jobs", "1"], work)
    linted = {str(f.resolve()) for f in files}
    followed = followed_files(Path(work) / ".cnnlint_cache") - linted
    listing = Path(work) / "files.txt"
    listing.write_text("\n".join(sorted(linted | followed)))
    print(f"read: {len(linted)} linted files and {len(followed)} modules their imports lead to")
    parse, _ = measure([sys.executable, "-c", PARSE, str(listing)], work)
    jobs = os.cpu_count() or 1
    _, par_wall = measure([exe, *dirs, "--no-cache", "--jobs", str(jobs)], work)
    _, version_wall = measure([exe, "--version"], work)
    print(f"parse (baseline)      {parse:8.2f} s CPU")
    print(f"cold, --jobs 1        {cold:8.2f} s CPU   = {cold / parse:5.2f} x parse   (target <= 1.5)")
    print(f"warm (cached)         {warm:8.2f} s CPU   = {warm / cold:5.3f} x cold    (target <= 0.1)")
    print(f"--jobs {jobs} wall        {par_wall:8.2f} s       = {cold_wall / par_wall:5.2f} x faster than --jobs 1 "
          f"({cold_wall:.2f} s)")
    print(f"--version wall        {version_wall:8.3f} s       (target < 0.3)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])

"""The result cache: same answers as a cold run, invalidated by edits, safe to share, never in git."""

import json
import subprocess
import sys
from pathlib import Path

from cnnlint.cache import Cache
from cnnlint.lint import lint_file

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "torch"

from samples import LINEAR_BUG as BUGGY


def cnnlint(*args, cwd):
    r = subprocess.run([sys.executable, "-m", "cnnlint.cli", *map(str, args), "--output-format", "json"],
                       capture_output=True, text=True, cwd=cwd, timeout=300)
    return r.returncode, json.loads(r.stdout)


def test_cached_run_equals_cold_run(tmp_path):
    cold = cnnlint(FIXTURES, "--no-cache", cwd=tmp_path)
    assert not (tmp_path / ".cnnlint_cache").exists()
    first = cnnlint(FIXTURES, cwd=tmp_path)
    assert (tmp_path / ".cnnlint_cache" / ".gitignore").read_text().strip().endswith("*")
    second = cnnlint(FIXTURES, cwd=tmp_path)
    assert cold == first == second
    assert cold[1]


def test_edit_invalidates_and_path_is_reattached(tmp_path):
    model = tmp_path / "model.py"
    model.write_text(BUGGY)
    code, found = cnnlint(model, cwd=tmp_path)
    assert code == 1 and found[0]["path"] == str(model)
    model.write_text(BUGGY.replace("8 * 28 * 28", "8 * 26 * 26"))
    assert cnnlint(model, cwd=tmp_path) == (0, [])
    copy = tmp_path / "copy.py"          # same content, other path: a hit, reported at the new path
    copy.write_text(BUGGY)
    code, found = cnnlint(copy, cwd=tmp_path)
    assert code == 1 and found[0]["path"] == str(copy)
    assert all(r["path"] == str(copy) for r in found[0]["related"])


def test_selection_is_part_of_the_key(tmp_path):
    model = tmp_path / "model.py"
    model.write_text(BUGGY)
    assert cnnlint(model, "--ignore", "CNN101", cwd=tmp_path) == (0, [])
    assert cnnlint(model, cwd=tmp_path)[0] == 1


def test_two_runs_sharing_the_cache(tmp_path):
    cmd = [sys.executable, "-m", "cnnlint.cli", str(FIXTURES), "--output-format", "json", "--jobs", "1"]
    procs = [subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, text=True) for _ in range(3)]
    outputs = [json.loads(p.communicate(timeout=300)[0]) for p in procs]
    assert outputs[0] == outputs[1] == outputs[2]
    assert outputs[0] == cnnlint(FIXTURES, cwd=tmp_path)[1]
    assert not list((tmp_path / ".cnnlint_cache").rglob(".tmp-*"))


def test_corrupt_entry_is_ignored(tmp_path):
    model = tmp_path / "model.py"
    model.write_text(BUGGY)
    cache = Cache(root=tmp_path / "c")
    key = cache.key(model.read_bytes())
    cache.put(key, lint_file(model))
    entry = next((tmp_path / "c").rglob(f"{key}.json"))
    entry.write_text("{not json")
    assert cache.get(key, model) is None


def test_a_fully_cached_run_never_loads_the_parser(tmp_path):
    """The point of the cache: an unchanged re-run reads bytes and JSON, and never imports LibCST."""
    cnnlint(FIXTURES, cwd=tmp_path)
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "cnnlint", str(FIXTURES), "--output-format", "json"],
                       capture_output=True, text=True, cwd=tmp_path, timeout=300)
    imported = {line.rsplit("|", 1)[-1].strip() for line in r.stderr.splitlines() if "|" in line}
    assert "cnnlint.cli" in imported
    assert not {"libcst", "networkx", "torch", "pygls"} & imported

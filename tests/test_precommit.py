"""The pre-commit hook, through the real `pre-commit try-repo` with this repository as the hook source."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUGGY = (ROOT / "tests" / "data" / "creates_file.py").read_text()
CLEAN = BUGGY.replace("torch.randn(3, 7)", "torch.randn(3, 10)")


def git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@t"})


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory):
    return tmp_path_factory.mktemp("pre-commit-home")


def try_repo(repo, home):
    exe = shutil.which("pre-commit", path=str(Path(sys.executable).parent)) or shutil.which("pre-commit")
    assert exe, "pre-commit is part of the test extras"
    return subprocess.run([exe, "try-repo", str(ROOT), "cnnlint", "--all-files"], cwd=repo, capture_output=True,
                          text=True, timeout=900, env={**os.environ, "PRE_COMMIT_HOME": str(home)})


def test_hook_fails_on_a_buggy_model_and_passes_on_a_clean_one(tmp_path, pre_commit_home):
    repo = tmp_path / "project"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "model.py").write_text(BUGGY)
    git(repo, "add", ".")
    r = try_repo(repo, pre_commit_home)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "CNN101" in r.stdout and "model.py:" in r.stdout
    assert not (repo / "SENTINEL_CREATED").exists()       # linted, never run

    (repo / "model.py").write_text(CLEAN)
    git(repo, "add", ".")
    r = try_repo(repo, pre_commit_home)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Passed" in r.stdout

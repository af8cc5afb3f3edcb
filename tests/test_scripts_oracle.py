"""Scripts and projects as their users run them: every fixture whose first line is `# oracle: script` is executed
as `__main__` (torch, and Keras 3 on its torch backend with tf.keras imports mapped onto it), with its directory
first on sys.path and as the working directory, without command-line arguments, as `cd path/to && python
script.py` runs it: its project's own imports resolve, its config files open, argparse gives its defaults.

A script with `# expect: CNN1xx` lines (in it, or in the project modules it imports) must fail, and the failure
must be blamed on a flagged line: a line of the traceback in a fixture file (widened to its whole statement, as a
`Sequential([...])` fails as one statement), or the line of a fixture file that built a module executing when it
failed. A script without such expectations must run to its end.
"""

from __future__ import annotations

import ast
import os
import re
import sys
import traceback
import types
import warnings
from pathlib import Path

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent / "fixtures"
SCRIPTS = sorted(p for p in ROOT.rglob("*.py") if p.read_text().startswith("# oracle: script"))
ERROR = re.compile(r"#\s*expect:.*\bCNN1\d\d\b")
SITE = "_oracle_built_at"


def project_files(path: Path) -> list[Path]:
    """The files whose expectations the script answers for: a project's (fixtures/projects/<name>/) or its own."""
    parts = path.relative_to(ROOT).parts
    if parts[0] == "projects":
        return sorted((ROOT / "projects" / parts[1]).rglob("*.py"))
    return [path]


def flagged_lines(files) -> set[tuple[str, int]]:
    return {(str(f), n) for f in files for n, line in enumerate(f.read_text().splitlines(), 1) if ERROR.search(line)}


def statement_spans(path: str, line: int) -> set[int]:
    """The lines of the innermost statements of `path` containing `line` (a failing call inside a Sequential([...])
    is reported by Python at the statement's first line)."""
    tree = ast.parse(Path(path).read_text())
    out = {line}
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and not isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.If, ast.With,
                                                                  ast.For, ast.While, ast.Try)):
            if node.lineno == line:
                out |= set(range(node.lineno, node.end_lineno + 1))
    return out


def run_script(path: Path, files):
    """Run the script; returns (exception or None, blamed {(file, line)})."""
    targets = {str(f) for f in files}
    original_torch, original_keras = nn.Module.__init__, keras.layers.Layer.__init__

    def remember(self):
        frame = sys._getframe(2)
        while frame is not None and frame.f_code.co_filename not in targets:
            frame = frame.f_back
        if frame is not None and SITE not in self.__dict__:
            object.__setattr__(self, SITE, (frame.f_code.co_filename, frame.f_lineno))

    def torch_init(self, *args, **kwargs):
        original_torch(self, *args, **kwargs)
        remember(self)

    def keras_init(self, *args, **kwargs):
        original_keras(self, *args, **kwargs)
        remember(self)

    tensorflow = types.ModuleType("tensorflow")
    tensorflow.keras = keras
    mapped = {"tensorflow": tensorflow, "tensorflow.keras": keras, "tensorflow.keras.layers": keras.layers,
              "tensorflow.keras.models": keras.models}
    root = str(path.parent)      # what `python path/to/script.py` puts first on sys.path
    saved_modules = dict(sys.modules)
    saved_path = list(sys.path)
    saved_argv, saved_cwd = list(sys.argv), os.getcwd()
    sys.argv[:] = [path.name]
    os.chdir(root)
    nn.Module.__init__, keras.layers.Layer.__init__ = torch_init, keras_init
    sys.modules.update(mapped)
    sys.path.insert(0, root)
    keras.backend.clear_session(free_memory=False)
    filtering = keras.config.is_traceback_filtering_enabled()
    keras.config.disable_traceback_filtering()     # the frames of the layer that fails inside fit() are kept
    torch.manual_seed(0)
    error = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            code = compile(path.read_text(), str(path), "exec")
            exec(code, {"__name__": "__main__", "__file__": str(path)})
    except Exception as exc:       # what the script raised is the verdict
        error = exc
    except SystemExit as exc:      # argparse refusing the (absent) arguments
        error = exc
    finally:
        nn.Module.__init__, keras.layers.Layer.__init__ = original_torch, original_keras
        sys.path[:] = saved_path
        sys.argv[:] = saved_argv
        os.chdir(saved_cwd)
        if filtering:
            keras.config.enable_traceback_filtering()
        for name in list(sys.modules):
            if name not in saved_modules:
                del sys.modules[name]
        sys.modules.update(saved_modules)
    blamed = set()
    if error is not None:
        tb = error.__traceback__
        while tb is not None:
            name = tb.tb_frame.f_code.co_filename
            if name in targets:
                blamed |= {(name, n) for n in statement_spans(name, tb.tb_lineno)}
            site = tb.tb_frame.f_locals.get("self").__dict__.get(SITE) if hasattr(
                tb.tb_frame.f_locals.get("self"), "__dict__") else None
            if site is not None:
                blamed |= {(site[0], n) for n in statement_spans(site[0], site[1])}
            tb = tb.tb_next
    return error, blamed


def test_there_are_scripts():
    assert len(SCRIPTS) >= 4


@pytest.mark.parametrize("path", SCRIPTS, ids=[str(p.relative_to(ROOT)) for p in SCRIPTS])
def test_script_fails_where_expected_or_runs(path):
    files = project_files(path)
    flagged = flagged_lines(files)
    error, blamed = run_script(path, files)
    if not flagged:
        assert error is None, "".join(traceback.format_exception(error))
        return
    assert error is not None, f"{path.name} ran to its end, but {sorted(flagged)} are expected to fail"
    assert flagged & blamed, (f"the failure is blamed on {sorted(blamed)}, the expectations are {sorted(flagged)}:\n"
                              + "".join(traceback.format_exception(error)))

#!/usr/bin/env python3
"""The oracle of bench/mutants.py: builds and runs (mutated) model files of a package in torch or Keras.

    python bench/mutants_oracle.py PACKAGE CORPUS_DIR     (reads jobs as JSON lines, answers with JSON lines)

It imports torch (or Keras 3 on the torch backend) and the package once, then forks a child per job, so a job
costs the model and not the imports; a child that hangs is killed after the job's timeout. Each job is one
source text of one file of the package (the original, or a mutant): the child executes it as that module
(`torchvision.models.resnet`, `timm.models.vgg`, `keras.src.applications.resnet`), calls the file's builder
functions with their defaults the way a user would (`resnet18()`, `ResNet50(weights=None)`), runs each torch
model on a small input under `torch.no_grad()`, and reports what happened: the exception, the innermost line
of a corpus file in its traceback, and the line of the mutated file that built the failing layer.

A "baseline" job (the original source) also picks the builders a mutant job will run, with their inputs, and
records which lines of the file ran (only those are worth mutating).

The package code runs from the unpacked wheels in CORPUS_DIR (bench/corpus.sh). torchvision's compiled ops
are not there and the PyPI torchvision does not load with this torch: torchvision's pure-Python modules are
imported from the source tree without the package's __init__, with stand-ins for its extension loader, its
PIL-based utils and transforms. Detection models, whose forward needs nms/roi_align, are not run.
"""

from __future__ import annotations

import collections.abc
import enum
import importlib
import inspect
import itertools
import json
import os
import re
import resource
import select
import signal
import sys
import time
import traceback
import types
import warnings

SITE_ATTR = "_mutants_built_at"
MEMORY_LIMIT = 6 << 30          # address space of one child
CANDIDATE_BUILDERS = 4          # builders tried by a baseline job (in order of expected size)
MAX_BUILDERS = 2                # kept for the mutants: chosen to cover the most lines
SLOW_BUILDER = 10.0             # seconds: a builder slower than this at baseline is not used


# ---------------------------------------------------------------------------------------------------------------
# choosing builders

SMALL_WORDS = ["atto", "femto", "pico", "nano", "tiny", "xxs", "xs", "mini", "small", "mobile", "lite", "light",
               "micro", "s", "t", "b0", "base"]


def size_key(name: str):
    """A guess of how small a model is from its builder's name: `resnet18` before `resnet152`, `*_tiny_*` first."""
    words = re.split(r"[_\d]+|(?<=[a-z])(?=[A-Z])", name.lower()) + [w for w in re.findall(r"b\d", name.lower())]
    rank = min((SMALL_WORDS.index(w) for w in words if w in SMALL_WORDS), default=len(SMALL_WORDS))
    numbers = [int(n) for n in re.findall(r"\d+", name)]
    return rank, numbers[:1] or [0], len(name), name


# ---------------------------------------------------------------------------------------------------------------
# packages

class Adapter:
    """How one package's model files are imported, which of their functions are builders, and how to run one."""

    framework = "torch"
    root = ""

    def bootstrap(self, corpus: str):
        self.root = corpus

    def module_name(self, relpath: str) -> str:
        parts = relpath[:-3].split("/")
        if parts[-1] == "__init__":
            parts.pop()
        return ".".join(parts)

    def forget(self, name: str):
        """Undo the registrations the original module made, so that executing a mutant of it is allowed."""

    def builders(self, module) -> list[str]:
        """Public functions of the module that build a model with every argument left at its default."""
        names = getattr(module, "__all__", None) or dir(module)
        out = []
        for n in names:
            fn = getattr(module, n, None)
            if (n.startswith("_") or not inspect.isfunction(fn) or fn.__module__ != module.__name__
                    or not self.is_builder_name(n) or not _all_defaults(fn)):
                continue
            out.append(n)
        return sorted(out, key=size_key)

    def is_builder_name(self, name):
        return name[:1].islower()

    def input_candidates(self, model, name):
        return [[1, 3, 224, 224], [1, 3, 299, 299], [1, 3, 8, 112, 112], [1, 3, 16, 224, 224]]

    def build(self, module, name):
        return getattr(module, name)()

    def run(self, model, shape):
        import torch
        model.eval()
        n = _required_inputs(model.forward)
        gen = torch.Generator().manual_seed(0)
        inputs = [torch.randn(shape, generator=gen) for _ in range(max(n, 1))]
        with torch.no_grad():
            model(*inputs)

    def site_class(self):
        import torch
        return torch.nn.Module


def _all_defaults(fn):
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return all(p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params)


def _required_inputs(forward):
    try:
        params = inspect.signature(forward).parameters.values()
    except (TypeError, ValueError):
        return 1
    return sum(p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)


def _package(name, path):
    module = types.ModuleType(name)
    module.__path__ = [path]
    module.__package__ = name
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent in sys.modules:
        setattr(sys.modules[parent], child, module)
    return module


def _make_ntuple(x, n):
    if isinstance(x, collections.abc.Iterable):
        return tuple(x)
    return tuple(itertools.repeat(x, n))


def bootstrap_torchvision(corpus_root: str):
    """Import torchvision's pure-Python model code from the unpacked wheel, without its compiled extension."""
    if "torchvision" in sys.modules:
        return
    import torch  # noqa: F401
    _package("torchvision", os.path.join(corpus_root, "torchvision"))
    extension = types.ModuleType("torchvision.extension")
    extension._has_ops = lambda: False

    def _assert_has_ops():
        raise RuntimeError("torchvision's compiled ops are not available here")

    extension._assert_has_ops = _assert_has_ops
    sys.modules["torchvision.extension"] = extension
    utils = types.ModuleType("torchvision.utils")       # the real one imports PIL at the top
    utils._log_api_usage_once = lambda obj: None
    utils._make_ntuple = _make_ntuple
    sys.modules["torchvision.utils"] = utils
    _package("torchvision.transforms", os.path.join(corpus_root, "torchvision", "transforms"))
    presets = types.ModuleType("torchvision.transforms._presets")   # weights' metadata only

    class _Preset:
        def __init__(self, *args, **kwargs):
            pass

    for n in ("ObjectDetection", "ImageClassification", "VideoClassification", "SemanticSegmentation",
              "OpticalFlow"):
        setattr(presets, n, type(n, (_Preset,), {}))
    presets.InterpolationMode = enum.Enum("InterpolationMode", "NEAREST BILINEAR BICUBIC")
    sys.modules["torchvision.transforms._presets"] = presets
    import torchvision
    torchvision.extension, torchvision.utils = extension, utils
    import torchvision.models  # noqa: F401


class Torchvision(Adapter):
    SKIP = ("detection/",)          # their forward needs nms / roi_align

    def bootstrap(self, corpus):
        super().bootstrap(corpus)
        bootstrap_torchvision(corpus)

    def forget(self, name):
        from torchvision.models import _api
        for key, fn in list(_api.BUILTIN_MODELS.items()):
            if getattr(fn, "__module__", None) == name:
                del _api.BUILTIN_MODELS[key]

    def builders(self, module):
        if any(s in module.__name__.replace(".", "/") + "/" for s in self.SKIP):
            return []
        return super().builders(module)


class Timm(Adapter):
    def bootstrap(self, corpus):
        super().bootstrap(corpus)
        tv = os.path.join(os.path.dirname(corpus), "torchvision")     # timm imports torchvision.ops.misc
        if os.path.isdir(tv):
            bootstrap_torchvision(tv)
        sys.path.insert(0, corpus)
        data = _package("timm.data", os.path.join(corpus, "timm", "data"))   # its __init__ imports PIL
        path = os.path.join(corpus, "timm", "data", "constants.py")
        with open(path) as f:
            exec(compile(f.read(), path, "exec"), data.__dict__)
        import timm
        timm.data = data
        import timm.models  # noqa: F401

    def builders(self, module):
        from timm.models import _registry
        registered = _registry._module_to_models.get(module.__name__.rsplit(".", 1)[-1], set())
        return sorted((n for n in registered if inspect.isfunction(getattr(module, n, None))), key=size_key)

    def input_candidates(self, model, name):
        size = (getattr(model, "pretrained_cfg", None) or {}).get("input_size")
        first = [[1, *size]] if size else []
        return first + super().input_candidates(model, name)


class Keras(Adapter):
    framework = "keras"

    def bootstrap(self, corpus):
        super().bootstrap(corpus)
        os.environ.setdefault("KERAS_BACKEND", "torch")
        import keras  # noqa: F401
        import keras.src.applications  # noqa: F401

    def is_builder_name(self, name):
        return name[:1].isupper()

    def input_candidates(self, model, name):
        return [None]                      # a functional model runs every layer when it is built

    def build(self, module, name):
        return getattr(module, name)(weights=None)

    def run(self, model, shape):
        pass

    def site_class(self):
        from keras.src.layers.layer import Layer
        return Layer


ADAPTERS = {"torchvision": Torchvision, "timm": Timm, "keras": Keras}


# ---------------------------------------------------------------------------------------------------------------
# one job, in a forked child

def record_construction_sites(cls, path):
    """Every layer built from code in `path` remembers the line of `path` that built it. Returns the undo."""
    original = cls.__init__

    def patched(self, *args, **kwargs):
        original(self, *args, **kwargs)
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_filename != path:
            frame = frame.f_back
        if frame is not None and SITE_ATTR not in self.__dict__:
            object.__setattr__(self, SITE_ATTR, frame.f_lineno)

    cls.__init__ = patched

    def undo():
        cls.__init__ = original
    return undo


def describe_error(exc, path, corpus, site_cls):
    frames = list(traceback.walk_tb(exc.__traceback__))
    crash = build = innermost_here = None
    for frame, line in reversed(frames):                   # innermost first
        filename = frame.f_code.co_filename
        if crash is None and filename.startswith(corpus):
            crash = [os.path.relpath(filename, corpus), line]
        if filename == path and innermost_here is None:
            innermost_here = line
        if build is None:
            owner = frame.f_locals.get("self")
            if isinstance(owner, site_cls) and SITE_ATTR in getattr(owner, "__dict__", {}):
                build = owner.__dict__[SITE_ATTR]
    if build is None and innermost_here is not None and crash and crash[0] != os.path.relpath(path, corpus):
        build = innermost_here                 # failed while being constructed, in a helper of another file
    message = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))        # Keras colours its messages
    if len(message) > 600:
        message = message[:600] + "..."
    return {"type": type(exc).__name__, "bases": [c.__name__ for c in type(exc).__mro__],
            "message": message, "crash": crash, "build_line": build, "mutated_file_line": innermost_here}


def line_tracer(path, lines):
    def local(frame, event, arg):
        if event == "line":
            lines.add(frame.f_lineno)
        return local

    def tracer(frame, event, arg):
        if frame.f_code.co_filename == path:
            lines.add(frame.f_lineno)
            return local
        return None
    return tracer


def run_job(adapter: Adapter, job: dict) -> dict:
    path = os.path.join(adapter.root, job["file"])
    name = adapter.module_name(job["file"])
    baseline = job["kind"] == "baseline"
    site_cls = adapter.site_class()
    undo = record_construction_sites(site_cls, path)
    if adapter.framework == "torch":
        import torch
        torch.manual_seed(0)
    lines: set[int] = set()
    result = {"status": "ok", "builders": []}
    phase = "import"
    try:
        if baseline:
            sys.settrace(line_tracer(path, lines))
        adapter.forget(name)
        module = types.ModuleType(name)
        module.__file__ = path
        module.__package__ = name.rpartition(".")[0]
        module.__spec__ = importlib.util.spec_from_file_location(name, path)
        sys.modules[name] = module
        parent, _, child = name.rpartition(".")
        if parent in sys.modules:
            setattr(sys.modules[parent], child, module)
        exec(compile(job["source"], path, "exec"), module.__dict__)
        if baseline:
            result["builders"] = choose_builders(adapter, module, lines)
        else:
            for b in job["builders"]:
                phase = "build " + b["name"]
                model = adapter.build(module, b["name"])
                phase = "run " + b["name"]
                adapter.run(model, b["input"])
    except BaseException as exc:  # noqa: BLE001 -- a child reports whatever it met
        result.update(status="error", phase=phase, **describe_error(exc, path, adapter.root, site_cls))
    finally:
        sys.settrace(None)
        undo()
    if baseline:
        result["lines"] = sorted(lines - {0})
    return result


def choose_builders(adapter, module, lines):
    """Try the smallest-looking builders; keep up to MAX_BUILDERS that run, the ones that cover most lines."""
    tried = []
    for name in adapter.builders(module)[:CANDIDATE_BUILDERS]:
        covered: set[int] = set()
        sys.settrace(line_tracer(module.__file__, covered))
        start = time.perf_counter()
        try:
            model = adapter.build(module, name)
            for shape in adapter.input_candidates(model, name):
                try:
                    adapter.run(model, shape)
                    break
                except Exception:  # noqa: BLE001 -- try the next input size
                    continue
            else:
                continue
        except Exception:  # noqa: BLE001 -- a builder that does not run with its defaults is not used
            continue
        finally:
            sys.settrace(None)
        seconds = time.perf_counter() - start
        if seconds <= SLOW_BUILDER:
            tried.append({"name": name, "input": shape, "seconds": round(seconds, 3), "lines": covered})
    chosen, seen = [], set()
    while tried and len(chosen) < MAX_BUILDERS:
        best = max(tried, key=lambda b: (len(b["lines"] - seen), -b["seconds"]))
        if chosen and len(best["lines"] - seen) < 3:       # a second builder only for code the first missed
            break
        chosen.append(best)
        tried.remove(best)
        seen |= best["lines"]
    lines |= seen
    return [{k: v for k, v in b.items() if k != "lines"} for b in chosen]


def serve(adapter: Adapter):
    """Answer jobs from stdin, one forked child each."""
    out = os.fdopen(os.dup(1), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)               # models print; only answers go to the real stdout
    for raw in sys.stdin:
        if not raw.strip():
            continue
        job = json.loads(raw)
        out.write(json.dumps({"id": job["id"], **fork_job(adapter, job, devnull)}) + "\n")


def fork_job(adapter, job, devnull):
    read_end, write_end = os.pipe()
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:                      # the child
        os.close(read_end)
        os.dup2(devnull, 2)
        try:
            resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
            warnings.simplefilter("ignore")
            result = run_job(adapter, job)
        except BaseException as exc:  # noqa: BLE001
            result = {"status": "oracle-error", "message": repr(exc)}
        data = json.dumps(result, default=str).encode()
        with os.fdopen(write_end, "wb") as f:
            f.write(data)
        os._exit(0)
    os.close(write_end)
    chunks, deadline = [], start + job["timeout"]
    with os.fdopen(read_end, "rb") as f:
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                break
            ready, _, _ = select.select([f], [], [], left)
            if not ready:
                continue
            chunk = os.read(f.fileno(), 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    timed_out = time.perf_counter() >= deadline
    if timed_out:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    seconds = round(time.perf_counter() - start, 3)
    if timed_out:
        return {"status": "timeout", "seconds": seconds}
    try:
        return {**json.loads(b"".join(chunks)), "seconds": seconds}
    except ValueError:
        return {"status": "died", "exit": status, "seconds": seconds}


def main():
    package, corpus = sys.argv[1], sys.argv[2]
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    adapter = ADAPTERS[package]()
    warnings.simplefilter("ignore")
    adapter.bootstrap(corpus)
    if adapter.framework == "torch":
        import torch
        torch.set_num_threads(1)
    serve(adapter)


if __name__ == "__main__":
    main()

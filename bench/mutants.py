#!/usr/bin/env python3
"""Recall by mutation: how many real shape bugs cnnlint catches in released model code.

    python bench/mutants.py                    full measurement (torchvision, timm, keras.applications)
    python bench/mutants.py --quick            a small sample (8 files per package, 4 mutants each): minutes
    python bench/mutants.py --package timm --per-file 4 --seed 1 --show-missed --json out.json

1. Mutate: each model file of a package (unpacked by bench/corpus.sh) gets one-change mutants: an integer
   argument of a layer constructor (`nn.Conv2d(64, 128, 3)` -> `nn.Conv2d(64, 129, 3)`, `*2`, `//2`, in/out
   swapped) or a tensor op (the `dim` of cat/flatten/softmax/mean/..., a view/reshape/permute argument, a
   dropped flatten/transpose/permute, `a + b` -> `torch.cat([a, b], 1)`, Keras `axis=`, `Reshape` targets, a
   dropped `Flatten`, `Add` -> `Concatenate`). Only lines that run when the file's models are built and run are
   mutated; a seeded sample of at most --per-file mutants per file is kept.
2. The oracle (bench/mutants_oracle.py) builds and runs every mutant in torch (Keras 3 on the torch backend for
   Keras) the way a user would: the file's builders with their defaults on a small input. A mutant is *kept* when
   the original runs and the mutant fails with a shape error. Its verdicts are cached in
   ~/.cache/cnnlint-mutants/ (keyed by the source, the builders and the oracle's code and versions), so a re-run
   after a change to cnnlint only runs cnnlint.
3. cnnlint lints each kept mutant inside a copy of its package's unpacked tree (so the package's imports
   resolve). A mutant is *flagged* when cnnlint reports an error at the mutated line, at the line torch crashed
   on (in the mutated file), or at the line that built the failing layer. Errors on the original files are
   false alarms.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import dataclasses
import datetime
import glob
import hashlib
import importlib.metadata
import json
import os
import queue
import random
import re
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORACLE = HERE / "mutants_oracle.py"
CORPUS = Path(os.environ.get("CNNLINT_CORPUS", Path.home() / ".cache" / "cnnlint-corpus"))
CACHE = Path(os.environ.get("CNNLINT_MUTANTS_CACHE", Path.home() / ".cache" / "cnnlint-mutants"))


@dataclasses.dataclass
class Package:
    name: str                  # also the oracle's adapter (bench/mutants_oracle.py ADAPTERS)
    corpus: str                # directory under the corpus: the unpacked wheel
    globs: tuple               # model files, relative to it
    skip: tuple = ()           # regexes on the relative path
    framework: str = "torch"


PACKAGES = {
    "torchvision": Package("torchvision", "torchvision", ("torchvision/models/**/*.py",),
                           (r"/_[^/]*\.py$", r"/__init__\.py$", r"/detection/", r"feature_extraction\.py$",
                            r"quantization/utils\.py$")),
    "timm": Package("timm", "timm", ("timm/models/*.py",),
                    (r"/_[^/]*\.py$", r"/(factory|features|fx_features|helpers|hub|registry)\.py$")),
    "keras": Package("keras", "keras", ("keras/src/applications/*.py",),
                     (r"_test\.py$", r"/__init__\.py$", r"imagenet_utils\.py$"), framework="keras"),
}

SHAPE_ERRORS = ("RuntimeError", "ValueError", "AssertionError", "IndexError")
SHAPE_WORDS = re.compile(r"shape|size|dimension|\bdims?\b|channel|feature|mat1|mat2|must match|broadcast|"
                         r"out of range|numel|invalid for input|expected|incompatible|\baxis\b|\brank\b|groups|"
                         r"divisible|kernel|elements|tensors? (a|b)", re.I)
NOT_SHAPE = re.compile(r"can't allocate memory|out of memory|DefaultCPUAllocator", re.I)

# ---------------------------------------------------------------------------------------------------------------
# mutation operators

CONV = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups")
CONVT = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "output_padding", "groups")
POOL = ("kernel_size", "stride", "padding")
KCONV = ("filters", "kernel_size", "strides")
KPOOL = ("pool_size", "strides")

# layer (last name of the callee) -> its positional parameters; only these names are mutated
TORCH_LAYERS = {
    **{f"Conv{d}d": CONV for d in (1, 2, 3)}, **{f"ConvTranspose{d}d": CONVT for d in (1, 2, 3)},
    "Linear": ("in_features", "out_features"), "LazyLinear": ("out_features",),
    **{f"{n}{d}d": ("num_features",) for n in ("BatchNorm", "InstanceNorm") for d in (1, 2, 3)},
    "SyncBatchNorm": ("num_features",), "LayerNorm": ("normalized_shape",), "RMSNorm": ("normalized_shape",),
    "GroupNorm": ("num_groups", "num_channels"), "Embedding": ("num_embeddings", "embedding_dim"),
    "MultiheadAttention": ("embed_dim", "num_heads"),
    **{f"{n}{d}d": POOL for n in ("MaxPool", "AvgPool") for d in (1, 2, 3)},
    **{f"Adaptive{n}Pool{d}d": ("output_size",) for n in ("Avg", "Max") for d in (1, 2, 3)},
    "PixelShuffle": ("upscale_factor",), "PixelUnshuffle": ("downscale_factor",),
    **{n: ("input_size", "hidden_size") for n in ("LSTM", "GRU", "RNN")},
    "Unflatten": ("dim", "unflattened_size"), "Flatten": ("start_dim", "end_dim"),
    # torchvision.ops and timm.layers building blocks
    "Conv2dNormActivation": ("in_channels", "out_channels", "kernel_size", "stride", "padding", "groups"),
    "Conv3dNormActivation": ("in_channels", "out_channels", "kernel_size", "stride", "padding", "groups"),
    "SqueezeExcitation": ("input_channels", "squeeze_channels"),
    "create_conv2d": ("in_channels", "out_channels", "kernel_size"),
    "ConvNormAct": ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups"),
    "ConvNormActAa": ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups"),
    "BatchNormAct2d": ("num_features",), "LayerNorm2d": ("num_channels",),
    "Mlp": ("in_features", "hidden_features", "out_features"),
    "GluMlp": ("in_features", "hidden_features", "out_features"),
    "ClassifierHead": ("in_features", "num_classes"), "create_classifier": ("num_features", "num_classes"),
}
KERAS_LAYERS = {
    "Dense": ("units",), **{f"Conv{d}D": KCONV for d in (1, 2, 3)},
    **{f"Conv{d}DTranspose": KCONV for d in (1, 2, 3)}, "SeparableConv2D": KCONV, "SeparableConv1D": KCONV,
    "DepthwiseConv2D": ("kernel_size", "strides"),
    **{f"{n}Pooling{d}D": KPOOL for n in ("Max", "Average") for d in (1, 2, 3)},
    **{f"ZeroPadding{d}D": ("padding",) for d in (1, 2, 3)}, **{f"Cropping{d}D": ("cropping",) for d in (1, 2, 3)},
    **{f"UpSampling{d}D": ("size",) for d in (1, 2, 3)},
    "Reshape": ("target_shape",), "Permute": ("dims",), "Embedding": ("input_dim", "output_dim"),
    "MultiHeadAttention": ("num_heads", "key_dim"),
}
# keyword-only or extra keywords that are sizes
SIZE_KEYWORDS = {"in_channels", "out_channels", "kernel_size", "stride", "padding", "groups", "in_features",
                 "out_features", "num_features", "normalized_shape", "num_groups", "num_channels", "embed_dim",
                 "num_heads", "embedding_dim", "input_size", "hidden_size", "output_size", "units", "filters",
                 "strides", "pool_size", "target_shape", "cropping", "dims", "upscale_factor", "size",
                 "input_channels", "squeeze_channels", "hidden_features", "key_dim", "output_dim",
                 "unflattened_size"}
NOT_SIZES = {"padding_mode", "bias", "inplace", "eps", "momentum", "affine", "dtype", "device"}

# tensor ops: name -> positions (in a call `torch.name(x, ...)`, counting x) of their dim arguments;
# the same op as a Tensor method has them one to the left
DIM_OPS = {
    "cat": (1,), "concat": (1,), "concatenate": (1,), "stack": (1,), "flatten": (1, 2), "softmax": (1,),
    "log_softmax": (1,), "mean": (1,), "sum": (1,), "amax": (1,), "amin": (1,), "std": (1,), "var": (1,),
    "logsumexp": (1,), "unsqueeze": (1,), "squeeze": (1,), "chunk": (2,), "split": (2,), "unbind": (1,),
    "transpose": (1, 2), "swapaxes": (1, 2), "movedim": (1, 2), "cumsum": (1,), "argmax": (1,), "roll": (2,),
    "glu": (1,), "normalize": (),
}
SEQUENCE_FIRST = {"cat", "concat", "concatenate", "stack"}        # no tensor receiver as a method
SHAPE_OPS = {"view", "reshape", "expand", "unflatten"}            # size arguments (method: all; torch.reshape: 1)
PERMUTE_OPS = {"permute"}
DROPPABLE = {"flatten", "transpose", "permute", "view", "reshape", "squeeze", "unsqueeze", "mean", "swapaxes",
             "movedim"}
FUNCTIONAL_SIZES = {"adaptive_avg_pool2d": (1,), "adaptive_max_pool2d": (1,), "avg_pool2d": (1, 2),
                    "max_pool2d": (1, 2), "pixel_shuffle": (1,), "pad": (1,), "interpolate": (1, 2)}
DIM_KEYWORDS = {"dim", "axis", "start_dim", "end_dim", "dim0", "dim1", "axes", "dims"}
# other torch calls whose `dim=` is an axis (elsewhere, `dim=` is often a width: `Block(dim=384)`)
DIM_KEYWORD_CALLS = {"Softmax", "LogSoftmax", "Softmin", "GLU", "CosineSimilarity", "normalize",
                     "cosine_similarity", "topk", "sort", "argsort", "gather", "index_select", "narrow",
                     "repeat_interleave", "max", "min", "norm", "prod", "median", "nansum", "any", "all"}
KERAS_DROPPABLE = {"Flatten", "Reshape", "Permute", "GlobalAveragePooling2D", "GlobalMaxPooling2D",
                   "GlobalAveragePooling1D", "ZeroPadding2D", "Cropping2D", "UpSampling2D"}


@dataclasses.dataclass
class Mutation:
    line: int                  # first line of the replaced text (1-based)
    end_line: int
    op: str                    # class of the mutation: layer-arg, layer-swap, dim, reshape-arg, drop-op, ...
    what: str                  # human-readable: "Conv2d out_channels: `64` -> `65`"
    start: int                 # character offsets into the source
    end: int
    new: str

    def apply(self, source: str) -> str:
        return source[:self.start] + self.new + source[self.end:]


def callee_name(func) -> str | None:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def int_literal(node):
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant)
            and type(node.operand.value) is int):
        return -node.operand.value
    return None


def is_expression_size(node):
    """An argument that may hold an integer: a name, attribute, arithmetic, call or subscript (not a literal of
    another type, a lambda, a string)."""
    if isinstance(node, (ast.Name, ast.Attribute, ast.Subscript, ast.Call)):
        return not (isinstance(node, ast.Name) and node.id in ("None", "True", "False"))
    if isinstance(node, ast.BinOp):
        return isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv))
    return False


class Mutator(ast.NodeVisitor):
    """Collects every single-place mutation of a module's source."""

    def __init__(self, source: str, framework: str):
        self.source = source
        self.framework = framework
        self.lines = source.splitlines(keepends=True)
        self.line_starts = [0]
        for line in self.lines:
            self.line_starts.append(self.line_starts[-1] + len(line))
        self.out: list[Mutation] = []
        self.layers = KERAS_LAYERS if framework == "keras" else TORCH_LAYERS
        self.torch_imported = False

    # positions ---------------------------------------------------------------------------------------------
    def offset(self, line, col_bytes):
        text = self.lines[line - 1].encode("utf-8")[:col_bytes].decode("utf-8", "replace")
        return self.line_starts[line - 1] + len(text)

    def span(self, node):
        return self.offset(node.lineno, node.col_offset), self.offset(node.end_lineno, node.end_col_offset)

    def text(self, node):
        start, end = self.span(node)
        return self.source[start:end]

    def add(self, node, op, what, new):
        start, end = self.span(node)
        if self.source[start:end] != new:
            self.out.append(Mutation(node.lineno, node.end_lineno, op, what, start, end, new))

    def add_span(self, first, last, op, what, new):
        start, end = self.span(first)[0], self.span(last)[1]
        if self.source[start:end] != new:
            self.out.append(Mutation(first.lineno, last.end_lineno, op, what, start, end, new))

    # value variants ----------------------------------------------------------------------------------------
    def size_variants(self, node, op, label, factors=True):
        """`64` -> 65 / 128 / 32; `planes` -> `planes + 1` / `planes * 2` / `planes // 2`; (3, 3) -> (4, 3) ..."""
        n = int_literal(node)
        if n is not None:
            news = [n + 1] + ([n * 2] if factors and n not in (0, 1, -1) else []) \
                + ([n // 2] if factors and n >= 4 else [])
            for new in news:
                self.add(node, op, f"{label}: `{n}` -> `{new}`", str(new))
        elif isinstance(node, (ast.Tuple, ast.List)):
            for i, element in enumerate(node.elts):
                if int_literal(element) is not None:
                    self.size_variants(element, op, f"{label}[{i}]", factors=False)
        elif is_expression_size(node):
            text = self.text(node)
            inner = text if isinstance(node, (ast.Name, ast.Attribute, ast.Subscript, ast.Call)) else f"({text})"
            for suffix in (["+ 1", "* 2", "// 2"] if factors else ["+ 1"]):
                self.add(node, op, f"{label}: `{text}` -> `{inner} {suffix}`", f"{inner} {suffix}")

    def dim_variant(self, node, label):
        """One other axis: d -> d + 1 (a negative d -> d - 1); an expression e -> e + 1."""
        n = int_literal(node)
        if n is not None:
            new = n + 1 if n >= 0 else n - 1
            self.add(node, "dim", f"{label}: `{n}` -> `{new}`", str(new))
        elif isinstance(node, (ast.Tuple, ast.List)):
            for i, element in enumerate(node.elts):
                if int_literal(element) is not None:
                    self.dim_variant(element, f"{label}[{i}]")
        elif is_expression_size(node):
            text = self.text(node)
            inner = text if isinstance(node, (ast.Name, ast.Attribute, ast.Subscript, ast.Call)) else f"({text})"
            self.add(node, "dim", f"{label}: `{text}` -> `{inner} + 1`", f"{inner} + 1")

    # visitors ----------------------------------------------------------------------------------------------
    def visit_Import(self, node):
        self.torch_imported |= any(a.name == "torch" and a.asname is None for a in node.names)
        self.generic_visit(node)

    def visit_Call(self, node):
        name = callee_name(node.func)
        if name in self.layers:
            self.layer_call(node, name)
        if self.framework == "keras":
            self.keras_call(node, name)
        elif name:
            self.torch_op(node, name)
        for kw in node.keywords:
            if kw.arg in DIM_KEYWORDS and not (name in self.layers and kw.arg in self.layers[name]) and (
                    self.framework == "keras" or name in DIM_OPS or name in DIM_KEYWORD_CALLS):
                self.dim_variant(kw.value, f"{name}({kw.arg}=)")
        self.generic_visit(node)

    def layer_call(self, node, name):
        params = self.layers[name]
        sizes = []
        for i, arg in enumerate(node.args):
            if i < len(params) and not isinstance(arg, ast.Starred):
                sizes.append(arg)
                self.size_variants(arg, "layer-arg", f"{name} {params[i]}")
        for kw in node.keywords:
            if kw.arg in params or (kw.arg in SIZE_KEYWORDS and kw.arg not in NOT_SIZES):
                self.size_variants(kw.value, "layer-arg", f"{name} {kw.arg}")
        if len(sizes) >= 2 and self.text(sizes[0]) != self.text(sizes[1]) and params[:2] in (
                CONV[:2], CONVT[:2], ("in_features", "out_features")):
            first, second = self.text(sizes[0]), self.text(sizes[1])
            self.add_span(sizes[0], sizes[1], "layer-swap", f"{name}: {params[0]} and {params[1]} swapped",
                          second + self.source[self.span(sizes[0])[1]:self.span(sizes[1])[0]] + first)

    def torch_op(self, node, name):
        root = node.func
        while isinstance(root, ast.Attribute):
            root = root.value
        method = isinstance(node.func, ast.Attribute) and not (
            isinstance(root, ast.Name) and root.id in ("torch", "F", "nn", "functional"))
        shift = 1 if method and name not in SEQUENCE_FIRST else 0
        args = [a for a in node.args if not isinstance(a, ast.Starred)]
        if len(args) != len(node.args):
            return
        if name in DIM_OPS:
            for pos in DIM_OPS[name]:
                i = pos - shift
                if 0 <= i < len(args):
                    self.dim_variant(args[i], f"{name} dim")
        if name in SHAPE_OPS and (method or name == "reshape"):
            sizes = args if method else args[1:]
            if len(sizes) == 1 and isinstance(sizes[0], (ast.Tuple, ast.List)):
                sizes = sizes[0].elts
            for i, a in enumerate(sizes):
                if int_literal(a) != -1:
                    self.size_variants(a, "reshape-arg", f"{name} size {i}", factors=False)
        if name in PERMUTE_OPS:
            dims = args if method else args[1:]
            if len(dims) == 1 and isinstance(dims[0], (ast.Tuple, ast.List)):
                dims = dims[0].elts
            for i in range(len(dims) - 1):
                a, b = self.text(dims[i]), self.text(dims[i + 1])
                if a != b:
                    self.add_span(dims[i], dims[i + 1], "permute-swap", f"permute: `{a}` and `{b}` swapped",
                                  b + self.source[self.span(dims[i])[1]:self.span(dims[i + 1])[0]] + a)
        if name in FUNCTIONAL_SIZES and not method:
            for pos in FUNCTIONAL_SIZES[name]:
                if pos < len(args):
                    self.size_variants(args[pos], "functional-arg", f"F.{name} argument {pos}", factors=False)
        if name in DROPPABLE:
            receiver = node.func.value if method else (args[0] if args else None)
            if receiver is not None and (method or name in ("flatten", "transpose", "permute", "reshape",
                                                             "squeeze", "unsqueeze", "swapaxes", "movedim")):
                self.add(node, "drop-op", f"`{name}` dropped", self.text(receiver))

    def keras_call(self, node, name):
        # layers.Flatten()(x) -> x
        if isinstance(node.func, ast.Call) and callee_name(node.func.func) in KERAS_DROPPABLE and \
                len(node.args) == 1 and not node.keywords:
            self.add(node, "drop-op", f"`{callee_name(node.func.func)}` dropped", self.text(node.args[0]))
        # layers.Add() / layers.add -> Concatenate / concatenate: the inputs no longer add up
        if name in ("Add", "add") and isinstance(node.func, ast.Attribute):
            start = self.offset(node.func.end_lineno, node.func.end_col_offset) - len(name)
            new = "Concatenate" if name == "Add" else "concatenate"
            self.out.append(Mutation(node.func.end_lineno, node.func.end_lineno, "add-to-concat",
                                     f"`{name}` -> `{new}`", start, start + len(name), new))

    def visit_BinOp(self, node):
        # a + b of two tensors -> torch.cat([a, b], 1): the sizes no longer match what follows
        if (self.framework == "torch" and self.torch_imported and isinstance(node.op, ast.Add)
                and all(isinstance(x, (ast.Name, ast.Attribute, ast.Subscript, ast.Call))
                        for x in (node.left, node.right))):
            a, b = self.text(node.left), self.text(node.right)
            self.add(node, "add-to-concat", f"`{a} + {b}` -> `torch.cat([...], 1)`", f"torch.cat([{a}, {b}], 1)")
        self.generic_visit(node)


def mutations(source: str, framework: str = "torch") -> list[Mutation]:
    """Every single-place mutation of the source, deduplicated, in source order."""
    mutator = Mutator(source, framework)
    mutator.visit(ast.parse(source))
    seen, out = set(), []
    for m in sorted(mutator.out, key=lambda m: (m.start, m.end, m.new, m.op)):
        if (m.start, m.end, m.new) not in seen:
            seen.add((m.start, m.end, m.new))
            out.append(m)
    return out


def sample(candidates: list[Mutation], cap: int, seed: str) -> list[Mutation]:
    """A deterministic sample of at most `cap` mutations, in source order."""
    chosen = random.Random(seed).sample(candidates, min(cap, len(candidates)))
    return sorted(chosen, key=lambda m: (m.start, m.end, m.new))


# ---------------------------------------------------------------------------------------------------------------
# verdicts

def is_shape_error(result: dict) -> bool:
    """The mutant failed the way a shape bug fails (not a TypeError from `(3, 3) + 1`, not a timeout)."""
    if result.get("status") != "error" or not set(result.get("bases", ())) & set(SHAPE_ERRORS):
        return False
    message = result.get("message", "")
    if NOT_SHAPE.search(message):
        return False
    if result.get("type") == "AssertionError" and not message:
        return True                  # the model's own `assert x.shape[1] == C`: a check of a size
    return bool(SHAPE_WORDS.search(message))


def target_lines(mutation_line: int, mutation_end: int, result: dict, relpath: str, source: str = "") -> set[int]:
    """Lines of the mutated file where a finding counts: the mutation, the crash (when it is in this file) and
    the construction of the layer that failed (every line of that call: Python gives the line it starts on, a
    finding stands at the argument to change)."""
    lines = set(range(mutation_line, mutation_end + 1))
    crash = result.get("crash")
    if crash and crash[0] == relpath:
        lines.add(crash[1])
    build = result.get("build_line")
    if build:
        lines.add(build)
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            tree = None
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and n.lineno == build] if tree else []
        if calls:
            outer = max(calls, key=lambda n: n.end_lineno)
            lines.update(range(build, outer.end_lineno + 1))
    return lines


def flagged_by(findings: list[dict], lines: set[int]) -> list[dict]:
    """The errors among `findings` (cnnlint's JSON objects for the mutated file) at one of `lines`."""
    return [f for f in findings if f.get("severity") == "error"
            and any(f["line"] <= n <= f.get("end_line", f["line"]) for n in lines)]


# ---------------------------------------------------------------------------------------------------------------
# the oracle, its cache, its workers

def oracle_version() -> str:
    versions = []
    for dist in ("torch", "keras"):
        try:
            versions.append(f"{dist}=={importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{dist}: none")
    return hashlib.sha256(ORACLE.read_bytes() + " ".join(versions).encode()).hexdigest()[:16]


class Oracle:
    """Runs jobs on a package's oracle processes, with an on-disk cache of the verdicts."""

    def __init__(self, package: Package, workers: int, version: str):
        self.package = package
        self.version = version
        self.workers = workers
        self.procs: list[subprocess.Popen] = []
        self.ran = 0

    def key(self, job):
        data = json.dumps([self.version, self.package.name, job["file"], job["kind"], job["source"],
                           job.get("builders")], sort_keys=True)
        return hashlib.sha256(data.encode()).hexdigest()

    def cached(self, job):
        path = CACHE / "oracle" / (key := self.key(job))[:2] / f"{key}.json"
        return json.loads(path.read_text()) if path.exists() else None

    def store(self, job, result):
        path = CACHE / "oracle" / (key := self.key(job))[:2] / f"{key}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(result))
        tmp.replace(path)

    def start(self):
        env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "KERAS_BACKEND": "torch"}
        corpus = str(CORPUS / self.package.corpus)
        proc = subprocess.Popen([sys.executable, str(ORACLE), self.package.name, corpus], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1, env=env)
        self.procs.append(proc)
        return proc

    def run(self, jobs: list[dict], progress=None) -> list[dict]:
        """Verdicts for the jobs, in order: from the cache, else from the oracle processes (started on demand)."""
        results: list = [None] * len(jobs)
        todo: queue.Queue = queue.Queue()
        for i, job in enumerate(jobs):
            hit = self.cached(job)
            if hit is not None:
                results[i] = hit
            else:
                todo.put(i)
        if todo.empty():
            return results
        lock = threading.Lock()

        def worker():
            proc = None
            while True:
                try:
                    i = todo.get_nowait()
                except queue.Empty:
                    break
                if proc is None or proc.poll() is not None:
                    proc = self.start()
                job = {**jobs[i], "id": i}
                proc.stdin.write(json.dumps(job) + "\n")
                proc.stdin.flush()
                line = proc.stdout.readline()
                if not line:
                    results[i] = {"status": "oracle-died"}
                    proc = None
                    continue
                result = json.loads(line)
                result.pop("id", None)
                results[i] = result
                self.store(jobs[i], result)
                with lock:
                    self.ran += 1
                    if progress:
                        progress()
            if proc is not None:
                proc.stdin.close()
                proc.wait()

        threads = [threading.Thread(target=worker) for _ in range(min(self.workers, todo.qsize()))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return results


# ---------------------------------------------------------------------------------------------------------------
# cnnlint, in copies of the package's tree

class Linter:
    """Lints files of a package inside copies of its unpacked tree (one copy per worker)."""

    def __init__(self, package: Package, workers: int, files: list[str]):
        self.package = package
        self.exe = shutil.which("cnnlint") or sys.exit("cnnlint is not installed: pip install -e .")
        self.trees: queue.Queue = queue.Queue()
        self.paths: list[Path] = []
        source = CORPUS / package.corpus
        for i in range(workers):
            tree = CACHE / "trees" / f"{package.name}.{i}"
            stamp = (source / ".complete").read_text() if (source / ".complete").exists() else "?"
            if not (tree / ".complete").exists() or (tree / ".complete").read_text() != stamp:
                shutil.rmtree(tree, ignore_errors=True)
                shutil.copytree(source, tree)
            for f in files:              # undo whatever an interrupted run left there
                shutil.copyfile(source / f, tree / f)
            self.trees.put(tree)
            self.paths.append(tree)

    def lint(self, relpath: str, text: str) -> dict:
        tree = self.trees.get()
        target = tree / relpath
        original = target.read_bytes()
        try:
            target.write_text(text)
            start = time.perf_counter()
            proc = subprocess.run([self.exe, str(target), "--output-format", "json", "--no-cache"],
                                  capture_output=True, text=True)
            seconds = time.perf_counter() - start
        finally:
            target.write_bytes(original)
            self.trees.put(tree)
        try:
            findings = json.loads(proc.stdout)
            unreadable = not isinstance(findings, list)
        except ValueError:
            findings, unreadable = [], True
        # exit 1 is "findings"; a traceback (also exit 1) or output that is not the JSON list is a crash
        crashed = proc.returncode not in (0, 1) or unreadable or "Traceback" in proc.stderr or any(
            f.get("code") == "CNN002" for f in findings)
        findings = findings if isinstance(findings, list) else []
        return {"findings": [{k: f.get(k) for k in ("line", "end_line", "code", "severity", "message")}
                             for f in findings if Path(f.get("path", "")).resolve() == target.resolve()],
                "crashed": crashed, "seconds": round(seconds, 3)}


def known_shape_lines(text: str, path: str) -> set[int]:
    """Lines of the layer calls (and their constructors) whose output shape cnnlint works out, on the original
    file at `path` (in a copy of its package's tree, so that its imports are followed as the CLI follows them):
    where cnnlint "knew the shape" of a mutated layer."""
    try:
        from cnnlint.lint import lint_text
        from cnnlint.positions import Positions
        result = lint_text(text, path, keep_analysis=True)
        analysis = result.analysis
        positions = getattr(result, "positions", None) or Positions(result.module)
    except Exception:  # noqa: BLE001 -- an optional figure
        return set()
    lines = set()
    for run in analysis.model_runs:
        for call in run.calls:
            if call.output_shape is None:
                continue
            for node in (call.node, getattr(call.layer, "call", None)):
                if node is None:
                    continue
                try:
                    (l1, _), (l2, _) = positions.of(node)
                except Exception:  # noqa: BLE001
                    continue
                lines.update(range(l1, l2 + 1))
    return lines


# ---------------------------------------------------------------------------------------------------------------
# the measurement

def model_files(package: Package) -> list[str]:
    root = CORPUS / package.corpus
    files = set()
    for pattern in package.globs:
        for f in glob.glob(str(root / pattern), recursive=True):
            rel = Path(f).relative_to(root).as_posix()
            if not any(re.search(s, rel) for s in package.skip):
                files.add(rel)
    return sorted(files)


def say(*args):
    print(*args, file=sys.stderr, flush=True)


def measure(package: Package, args, version: str) -> dict:
    root = CORPUS / package.corpus
    files = model_files(package)
    if args.files_per_package:
        files = sorted(random.Random(f"{args.seed}:{package.name}").sample(files, min(len(files),
                                                                                       args.files_per_package)))
    started = time.perf_counter()
    oracle = Oracle(package, args.workers, version)

    # 1. baselines: which builders run, on which input, and which lines they run
    say(f"{package.name}: {len(files)} files: running the originals")
    sources = {f: (root / f).read_text() for f in files}
    baselines = oracle.run([{"kind": "baseline", "file": f, "source": sources[f], "timeout": 300} for f in files])
    runnable = {f: b for f, b in zip(files, baselines) if b.get("status") == "ok" and b.get("builders")}

    # 2. mutants of the lines that ran
    records = []
    jobs = []
    for f, base in runnable.items():
        ran = set(base["lines"])
        candidates = [m for m in mutations(sources[f], package.framework)
                      if ran & set(range(m.line, m.end_line + 1))]
        for m in sample(candidates, args.per_file, f"{args.seed}:{f}"):
            mutant = m.apply(sources[f])
            budget = sum(b["seconds"] for b in base["builders"])
            jobs.append({"kind": "mutant", "file": f, "source": mutant, "builders": base["builders"],
                         "timeout": max(30.0, 10.0 + 6.0 * budget)})
            records.append({"file": f, "line": m.line, "end_line": m.end_line, "op": m.op, "what": m.what,
                            "mutated_line": mutant.splitlines()[m.line - 1].strip()[:160] if mutant else ""})
    say(f"{package.name}: {len(runnable)} files with models that run; {len(jobs)} mutants")
    done = [0]
    last = [time.perf_counter()]

    def progress():
        done[0] += 1
        if time.perf_counter() - last[0] > 30:
            last[0] = time.perf_counter()
            say(f"  {package.name}: oracle {done[0]} runs ({time.perf_counter() - started:.0f} s)")

    verdicts = oracle.run(jobs, progress)
    oracle_seconds = time.perf_counter() - started
    for r, v, job in zip(records, verdicts, jobs):
        r["kept"] = is_shape_error(v)
        r["torch"] = {k: v.get(k) for k in ("status", "type", "message", "crash", "build_line", "phase",
                                             "mutated_file_line")}
        r["source"] = job["source"]

    # 3. cnnlint on the originals and on the kept mutants
    kept = [r for r in records if r["kept"]]
    lint_start = time.perf_counter()
    linter = Linter(package, args.workers, sorted(runnable))
    with concurrent.futures.ThreadPoolExecutor(args.workers) as pool:
        originals = dict(zip(runnable, pool.map(lambda f: linter.lint(f, sources[f]), runnable)))
        lints = list(pool.map(lambda r: linter.lint(r["file"], r["source"]), kept))
    known = {f: known_shape_lines(sources[f], str(linter.paths[0] / f)) for f in {r["file"] for r in kept}}
    for r, lint in zip(kept, lints):
        lines = target_lines(r["line"], r["end_line"], r["torch"], r["file"], r["source"])
        hits = flagged_by(lint["findings"], lines)
        r["flagged"] = bool(hits)
        r["codes"] = sorted({h["code"] for h in hits})
        r["other_findings"] = [f"{x['line']}: {x['code']} ({x['severity']})" for x in lint["findings"] if x not in hits]
        r["lint_crashed"] = lint["crashed"]
        r["shape_known"] = bool(lines & known[r["file"]])
    for r in records:
        r.pop("source")
    lint_seconds = time.perf_counter() - lint_start
    false_alarms = [{"file": f, **x} for f, o in originals.items() for x in o["findings"] if x["severity"] == "error"]
    flagged = sum(r["flagged"] for r in kept)
    return {
        "package": package.name,
        "files": len(files),
        "files_run": len(runnable),
        "files_mutated": len({r["file"] for r in records}),
        "builders": {f: [b["name"] for b in base["builders"]] for f, base in runnable.items()},
        "generated": len(records),
        "kept": len(kept),
        "flagged": flagged,
        "recall": round(100 * flagged / len(kept), 1) if kept else None,
        "kept_shape_known": sum(r["shape_known"] for r in kept),
        "flagged_shape_known": sum(r["flagged"] and r["shape_known"] for r in kept),
        "original_errors": false_alarms,
        "lint_crashes": sum(r["lint_crashed"] for r in kept) + sum(o["crashed"] for o in originals.values()),
        "oracle_runs": oracle.ran,
        "oracle_seconds": round(oracle_seconds, 1),
        "lint_seconds": round(lint_seconds, 1),
        "mutants": records,
    }


def missed_class(record: dict) -> str:
    """`layer-arg Conv2dNormActivation`, `dim cat`, `drop-op flatten`: what a missed mutant changed."""
    if record["op"] == "add-to-concat" and " + " in record["what"]:
        return "add-to-concat a + b"
    callee = re.match(r"`?([\w.]+)", record["what"])
    return f"{record['op']} {callee.group(1) if callee else '?'}"


def pct(a, b):
    return f"{100 * a / b:.0f}%" if b else "–"


def report(results: list[dict], show_missed: bool):
    header = (f"{'package':12} {'files':>5} {'run':>4} {'mutated':>7} {'mutants':>7} {'kept':>5} {'flagged':>7} "
              f"{'recall':>7}   {'shape known: flagged/kept':>25}   {'not known':>10}   {'false alarms':>12}")
    print(header)
    totals = Counter()
    for p in results:
        known_k, known_f = p["kept_shape_known"], p["flagged_shape_known"]
        other_k, other_f = p["kept"] - known_k, p["flagged"] - known_f
        print(f"{p['package']:12} {p['files']:5} {p['files_run']:4} {p['files_mutated']:7} {p['generated']:7} "
              f"{p['kept']:5} {p['flagged']:7} {pct(p['flagged'], p['kept']):>7}   "
              f"{f'{known_f}/{known_k} ({pct(known_f, known_k)})':>25}   "
              f"{f'{other_f}/{other_k} ({pct(other_f, other_k)})':>10}   {len(p['original_errors']):12}")
        for k in ("files", "files_run", "files_mutated", "generated", "kept", "flagged"):
            totals[k] += p[k]
        totals["false"] += len(p["original_errors"])
    if len(results) > 1:
        print(f"{'total':12} {totals['files']:5} {totals['files_run']:4} {totals['files_mutated']:7} "
              f"{totals['generated']:7} {totals['kept']:5} {totals['flagged']:7} "
              f"{pct(totals['flagged'], totals['kept']):>7}   {'':25}   {'':10}   {totals['false']:12}")
    for p in results:
        print(f"  {p['package']}: oracle {p['oracle_seconds']:.0f} s ({p['oracle_runs']} runs, the rest cached), "
              f"cnnlint {p['lint_seconds']:.0f} s")
    for p in results:
        for x in p["original_errors"]:
            print(f"  false alarm: {p['package']} {x['file']}:{x['line']}: {x['code']} {x['message'][:120]}")
    print()
    print("kept / flagged by mutation class:")
    by_op = defaultdict(Counter)
    for p in results:
        for r in p["mutants"]:
            by_op[r["op"]]["generated"] += 1
            by_op[r["op"]]["kept"] += r["kept"]
            by_op[r["op"]]["flagged"] += r.get("flagged", False)
    for op, c in sorted(by_op.items()):
        print(f"  {op:16} generated {c['generated']:4}  kept {c['kept']:4}  flagged {c['flagged']:4}"
              f"  recall {pct(c['flagged'], c['kept'])}")
    if show_missed:
        print()
        print("missed, by class (mutation and the layer or op it changed):")
        classes = defaultdict(list)
        for p in results:
            for r in p["mutants"]:
                if r["kept"] and not r["flagged"]:
                    classes[missed_class(r)].append(r)
        for name, rs in sorted(classes.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            r = rs[0]
            message = " ".join((r["torch"].get("message") or "").split())[:110]
            print(f"  {len(rs):4}  {name:40} e.g. {r['file']}:{r['line']} {r['what']}: {r['torch']['type']}: "
                  f"{message}")
        print()
        print("missed (kept, not flagged):")
        for p in results:
            for r in p["mutants"]:
                if r["kept"] and not r["flagged"]:
                    t = r["torch"]
                    crash = f"{t['crash'][0]}:{t['crash'][1]}" if t.get("crash") else "?"
                    message = " ".join((t.get("message") or "").split())[:200]
                    print(f"  {r['file']}:{r['line']}  [{r['op']}] {r['what']}\n"
                          f"      {r['mutated_line']}\n"
                          f"      torch: {t['type']}: {message}\n"
                          f"      crash {crash}, failing layer built at line {t.get('build_line')}; "
                          f"cnnlint said: {', '.join(r['other_findings']) or 'nothing'}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--package", action="append", choices=sorted(PACKAGES),
                        help="only this package (repeatable; default: all)")
    parser.add_argument("--per-file", type=int, default=None, help="mutants per file (default 8, quick 4)")
    parser.add_argument("--files", dest="files_per_package", type=int, default=None,
                        help="a seeded sample of this many files per package (default all, quick 8)")
    parser.add_argument("--seed", default="0")
    parser.add_argument("--workers", type=int, default=2, help="oracle and cnnlint processes (default 2)")
    parser.add_argument("--quick", action="store_true", help="a small sample: 8 files per package, 4 mutants each")
    parser.add_argument("--show-missed", action="store_true", help="list the kept mutants cnnlint missed")
    parser.add_argument("--json", metavar="FILE", help="write every number and mutant as JSON ('-': stdout)")
    args = parser.parse_args(argv)
    if args.per_file is None:
        args.per_file = 4 if args.quick else 8
    if args.files_per_package is None and args.quick:
        args.files_per_package = 8
    missing = [p for p in args.package or PACKAGES if not (CORPUS / PACKAGES[p].corpus / ".complete").exists()]
    if missing:
        say(f"fetching the corpus (bench/corpus.sh) for {', '.join(missing)}")
        subprocess.run(["bash", str(HERE / "corpus.sh")], check=True, stdout=subprocess.DEVNULL)
    version = oracle_version()
    start = time.perf_counter()
    results = [measure(PACKAGES[p], args, version) for p in (args.package or PACKAGES)]
    wall = time.perf_counter() - start
    out = sys.stderr if args.json == "-" else sys.stdout
    stdout, sys.stdout = sys.stdout, out
    try:
        report(results, args.show_missed)
        print(f"\n{wall:.0f} s (seed {args.seed}, {args.per_file} mutants per file"
              f"{f', {args.files_per_package} files per package' if args.files_per_package else ''})")
    finally:
        sys.stdout = stdout
    if args.json:
        commit = subprocess.run(["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip()
        data = {"date": datetime.date.today().isoformat(), "commit": commit, "seed": args.seed,
                "per_file": args.per_file, "files_per_package": args.files_per_package, "oracle": version,
                "seconds": round(wall, 1), "packages": results}
        text = json.dumps(data, indent=1)
        if args.json == "-":
            print(text)
        else:
            Path(args.json).write_text(text)


if __name__ == "__main__":
    main()

"""Oracle for shape annotations: the fixtures under fixtures/torch/annotations/ run in real torch, and every shape
annotation in them is checked at run time by jaxtyping itself.

Each annotated function (module-level, or a method of a class) is wrapped so that one call is one jaxtyping memo
(``jaxtyped("context")``): its parameters, the annotated assignments of its body and its return value share their
named sizes, as cnnlint assumes. Pyrefly's ``Tensor[B, 3, 32, 32]`` and TorchShapeFlow's ``Shape("B", 3, 32, 32)``
are read (with Python's own ``ast``, not cnnlint) as the jaxtyping string they mean.

* The module runs statement by statement, and every function that takes no arguments (``def main():``) is called:
  an argument that fails its parameter's annotation is a CNN114 at the calling line (the call is then refused, as
  a runtime checker would), a return value or annotated assignment that fails is a CNN113 at its annotation.
* Every annotated function whose parameters are all annotated (and every such forward of a class built with no
  arguments) runs on tensors of the annotated shapes, for several choices of the named sizes: a return that fails
  for *every* choice is a CNN113 at the return annotation.

The failures found must be exactly the fixture's ``# expect: CNN113 / CNN114`` lines; anything torch raises
otherwise means the fixture is broken. test_fixtures.py checks that cnnlint flags exactly those lines.
"""
from __future__ import annotations

import ast
import functools
import inspect
import re
import sys
from pathlib import Path

import pytest
import torch

jaxtyping = pytest.importorskip("jaxtyping")
from jaxtyping import Shaped  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent / "fixtures" / "torch" / "annotations"
FILES = sorted(ROOT.glob("*.py"))
EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>CNN\d+(?:\s*,\s*CNN\d+)*)")
DTYPES = re.compile(r"^(?:Shaped|Bool|Num|Inexact|Real|Integer|B?Float\w*|U?Int\d*|Complex\w*)$")
TRIALS = 3


class Refused(Exception):
    """An argument failed its parameter's annotation: the call does not happen."""


# -- annotations as jaxtyping strings -------------------------------------------------------------------------------
def _last(node):
    return node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else None


def _elements(sub):
    return list(sub.slice.elts) if isinstance(sub.slice, ast.Tuple) else [sub.slice]


def jaxtyping_string(node, aliases):
    """(shape string, integer dtype?) that an annotation means, or None when it is no shape annotation."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and "[" in node.value:
        return jaxtyping_string(ast.parse(node.value, mode="eval").body, aliases)
    if isinstance(node, ast.Name) and node.id in aliases:
        return aliases[node.id]
    if not isinstance(node, ast.Subscript):
        return None
    base, parts = _last(node.value), _elements(node)
    if base and DTYPES.match(base) and len(parts) == 2 and isinstance(parts[1], ast.Constant):
        inner = jaxtyping_string(parts[0], aliases)
        shape = parts[1].value + (" " + inner[0] if inner else "")
        return shape, base.startswith(("Int", "UInt", "Integer"))
    if base == "Annotated":
        for meta in parts[1:]:
            if isinstance(meta, ast.Call) and _last(meta.func) == "Shape":
                return " ".join(str(a.value) for a in meta.args), False
            if isinstance(meta, ast.Constant) and isinstance(meta.value, str):
                return " ".join(meta.value.replace(",", " ").split()), False
        return None
    if base == "Tensor":
        if len(parts) == 1 and isinstance(parts[0], ast.List):
            parts = parts[0].elts
        words = []
        for p in parts:
            if isinstance(p, ast.Starred):
                words.append("*" + p.value.id)
            elif isinstance(p, ast.Constant) and p.value is Ellipsis:
                words.append("...")
            else:
                words.append(ast.unparse(p).replace(" ", ""))
        return " ".join(words), False
    return None


def module_aliases(tree):
    out = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            spec = jaxtyping_string(stmt.value, out)
            if spec is not None:
                out[stmt.targets[0].id] = spec
    return out


# -- inputs of the annotated shapes ---------------------------------------------------------------------------------
def sizes_for(names, trial):
    return {name: (2, 3, 5)[trial] + 4 * i for i, name in enumerate(sorted(names))}


def make_input(shape, integer, sizes, trial):
    dims = []
    for word in shape.split():
        word = word.split("=")[-1]
        if word == "...":
            dims.extend((2,) * trial)
        elif word.startswith("*"):
            dims.extend((3,) * trial)
        elif word.startswith("#"):
            dims.append(1 if trial == 0 else sizes[word[1:]])
        elif word.startswith(("_", "?")):
            dims.append(6)
        elif word.isdigit():
            dims.append(int(word))
        else:
            dims.append(eval(word, {}, dict(sizes)))     # a name or an expression over names
    return torch.randint(0, 10, dims) if integer else torch.randn(dims)


def shape_names(shape):
    return {w.lstrip("#*") for w in shape.split() if w.lstrip("#*").isidentifier() and not w.startswith(("_", "?"))}


# -- running a fixture ----------------------------------------------------------------------------------------------
class Harness:
    def __init__(self, path):
        self.path = path
        self.source = path.read_text()
        self.tree = ast.parse(self.source)
        self.aliases = module_aliases(self.tree)
        self.failures = set()                 # (line, code) seen in the module's own code
        self.standalone = []                  # (label, line of the return annotation, runner)

    def fixture_line(self):
        frame = sys._getframe(2)
        while frame is not None and frame.f_code.co_filename != str(self.path):
            frame = frame.f_back
        return frame.f_lineno if frame is not None else 0

    def specs(self, fdef):
        params = {}
        for arg in fdef.args.posonlyargs + fdef.args.args + fdef.args.kwonlyargs:
            if arg.annotation is not None:
                spec = jaxtyping_string(arg.annotation, self.aliases)
                if spec is not None:
                    params[arg.arg] = spec
        return params, self.return_specs(fdef.returns)

    def return_specs(self, node):
        """A list of (shape, integer) or None, one per returned tensor (a tuple annotation has several)."""
        if node is None:
            return None
        if isinstance(node, ast.Subscript) and _last(node.value) in ("tuple", "Tuple"):
            specs = [jaxtyping_string(e, self.aliases) for e in _elements(node)]
            return specs if any(specs) else None
        spec = jaxtyping_string(node, self.aliases)
        return None if spec is None else [spec]

    def wrap(self, fn, fdef, failures):
        params, ret = self.specs(fdef)
        if not params and ret is None:
            return fn
        signature = inspect.signature(fn)
        harness = self

        @functools.wraps(fn)
        def checked(*args, **kwargs):
            bound = signature.bind(*args, **kwargs)
            with jaxtyping.jaxtyped("context"):
                for name, (shape, _) in params.items():
                    value = bound.arguments.get(name)
                    if isinstance(value, torch.Tensor) and not isinstance(value, Shaped[torch.Tensor, shape]):
                        failures.add((harness.fixture_line(), "CNN114"))
                        raise Refused(name)
                out = fn(*args, **kwargs)
                values = out if isinstance(out, tuple) and len(ret or ()) > 1 else (out,)
                for spec, value in zip(ret or (), values):
                    if spec is not None and isinstance(value, torch.Tensor) and not isinstance(
                            value, Shaped[torch.Tensor, spec[0]]):
                        failures.add((fdef.returns.lineno, "CNN113"))
            return out

        return checked

    def check_assignment(self, value, shape, line):
        if isinstance(value, torch.Tensor) and not isinstance(value, Shaped[torch.Tensor, shape]):
            self.current.add((line, "CNN113"))
        return value

    def instrumented(self):
        """The module with every annotated assignment `y: A = v` turned into `y = __check__(v, "shape", line)`."""
        harness = self

        class Rewrite(ast.NodeTransformer):
            def visit_AnnAssign(self, node):
                spec = jaxtyping_string(node.annotation, harness.aliases)
                if spec is None or node.value is None:
                    return node
                call = ast.Call(ast.Name("__check__", ast.Load()),
                                [node.value, ast.Constant(spec[0]), ast.Constant(node.annotation.lineno)], [])
                return ast.copy_location(ast.Assign([node.target], call), node)

        return ast.fix_missing_locations(Rewrite().visit(ast.parse(self.source)))

    def run(self):
        self.current = self.failures
        scope = {"__name__": "annotation_fixture", "__check__": self.check_assignment}
        tree = self.instrumented()
        for stmt in tree.body:
            self._exec(ast.Module([stmt], []), scope)
            if isinstance(stmt, ast.FunctionDef):
                scope[stmt.name] = self.wrap(scope[stmt.name], stmt, self.failures)
                self._standalone(stmt.name, stmt, lambda args, f=stmt.name: scope[f](*args))
            elif isinstance(stmt, ast.ClassDef):
                cls = scope[stmt.name]
                for item in stmt.body:
                    if isinstance(item, ast.FunctionDef):
                        setattr(cls, item.name, self.wrap(getattr(cls, item.name), item, self.failures))
                forward = next((i for i in stmt.body if isinstance(i, ast.FunctionDef) and i.name == "forward"), None)
                if forward is not None:
                    self._standalone(stmt.name, forward, lambda args, c=cls: c()(*args), skip_self=True)
        for stmt in tree.body:
            if isinstance(stmt, ast.FunctionDef) and not stmt.args.args and not stmt.args.posonlyargs:
                self._call(lambda s=stmt: scope[s.name]())
        return self.failures

    def _exec(self, module, scope):
        try:
            exec(compile(module, str(self.path), "exec"), scope)
        except Refused:
            pass

    def _call(self, thunk):
        try:
            thunk()
        except Refused:
            pass

    def _standalone(self, label, fdef, call, skip_self=False):
        params, ret = self.specs(fdef)
        required = (fdef.args.posonlyargs + fdef.args.args)[1 if skip_self else 0:]
        required = required[:len(required) - len(fdef.args.defaults)]
        if ret is None or not required or any(a.arg not in params for a in required):
            return
        self.standalone.append((label, fdef.returns.lineno, [params[a.arg] for a in required], call))

    def run_standalone(self):
        """{(line, CNN113)} of returns that fail for every choice of sizes, and those failing for some."""
        every, some = None, set()
        for trial in range(TRIALS):
            seen = set()
            for label, line, specs, call in self.standalone:
                names = set().union(*(shape_names(s) for s, _ in specs))
                sizes = sizes_for(names, trial)
                args = [make_input(shape, integer, sizes, trial) for shape, integer in specs]
                self.current = found = set()
                wrapped = self.wrap_standalone(call, found)
                wrapped(args)
                seen |= found
            every = seen if every is None else every & seen
            some |= seen
        return every or set(), some

    def wrap_standalone(self, call, found):
        def run(args):
            before = set(self.failures)
            call(args)
            found.update(self.failures - before)
            self.failures.clear()
            self.failures |= before
        return run


def expected(path):
    out = set()
    for number, line in enumerate(path.read_text().splitlines(), 1):
        m = EXPECT.search(line)
        if m:
            out |= {(number, c.strip()) for c in m.group("codes").split(",")}
    return out


def test_fixtures_exist():
    assert len(FILES) >= 4


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_annotations_agree_with_torch(path):
    harness = Harness(path)
    in_code = set(harness.run())
    every, some = harness.run_standalone()
    want = expected(path)
    got = in_code | every
    assert got == want, f"torch/jaxtyping found {sorted(got)}, the fixture expects {sorted(want)}"
    # a return that fails for some sizes only is no error for every input: it must not be expected either
    assert not ((some - every) & want)

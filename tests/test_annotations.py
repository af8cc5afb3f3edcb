"""Reading shape annotations: jaxtyping strings are compared with what jaxtyping itself parses them into; the
other spellings and the matching of a spec against shapes are checked on small cases."""

import libcst as cst
import pytest

from cnnlint.extract.annotations import AnnotationReader, collect_aliases, jaxtyping_axes
from cnnlint.extract.imports import resolve_imports
from cnnlint.shapes import annotated as A
from cnnlint.shapes import dims as D

jaxtyping = pytest.importorskip("jaxtyping")
torch = pytest.importorskip("torch")

SHAPES = ["b c h w", "batch 3 32 32", "*batch 3", "... h w", "_ n", "_unused n", "#b d", "*#b d", "rows=3 cols=4",
          "c*2 dim-1", "?leaf n", "", "b c//2", "*_ d", "n n", "min(a,b)"]
INVALID = ["...x", "a,b", "*a *b", "... ...", "_4", "*4", "#_", "a#"]


def _jaxtyping_kind(dim):
    name = type(dim).__name__
    if name == "_AnonymousDim":
        return (A.ANY, None, False)
    if name == "_AnonymousVariadicDim":
        return (A.VARIADIC, None, False)
    if name == "_NamedVariadicDim":
        return (A.VARIADIC, dim.name, dim.broadcastable)
    if name == "_NamedDim":
        return (A.ANY, None, False) if dim.treepath else (A.NAMED, dim.name, dim.broadcastable)
    if name == "_FixedDim":
        return (A.FIXED, dim.size, dim.broadcastable)
    assert name == "_SymbolicDim", name
    return (A.EXPR, dim.elem, dim.broadcastable)


@pytest.mark.parametrize("shape", SHAPES)
def test_jaxtyping_grammar_agrees_with_jaxtyping(shape):
    theirs = [_jaxtyping_kind(d) for d in jaxtyping.Shaped[torch.Tensor, shape].dims]
    ours = []
    for axis in jaxtyping_axes(shape):
        # a `_name` axis is anonymous in jaxtyping (its name is documentation); an expression we cannot read is too
        value = axis.text.lstrip("#") if axis.kind == A.EXPR else axis.value
        ours.append((axis.kind, value, axis.broadcastable))
    for mine, real in zip(ours, theirs):
        if mine[0] == A.ANY and real[0] == A.EXPR:
            continue                      # min(a,b): an expression we do not evaluate is any size
        assert mine == real, (shape, ours, theirs)
    assert len(ours) == len(theirs)


@pytest.mark.parametrize("shape", INVALID)
def test_what_jaxtyping_refuses_is_no_shape(shape):
    with pytest.raises(ValueError):
        jaxtyping.Shaped[torch.Tensor, shape]
    assert jaxtyping_axes(shape) is None


SOURCE = '''
from typing import Annotated
import torch
import jaxtyping as jt
from jaxtyping import Float, Int
from torch import Tensor
from torchshapeflow import Shape
import numpy as np
Image = Float[Tensor, "c h w"]
a: jt.Float[torch.Tensor, "b 3"]
b: Int[Tensor, "b t"]
c: Float[Image, "b"]
d: Tensor[B, 3, *Xs, D // 4]
e: Tensor[[B, 10]]
f: Annotated[torch.Tensor, Shape("B", 3, 32, 32)]
g: Annotated[torch.Tensor, "B 10"]
h: "Float[Tensor, 'n']"
i: torch.Tensor
j: Float[np.ndarray, "n"]
k: Tensor[int]
'''


def _specs():
    module = cst.parse_module(SOURCE)
    reader = AnnotationReader(resolve_imports(module), collect_aliases(module))
    out = {}
    for stmt in module.body:
        for small in getattr(stmt, "body", []):
            if isinstance(small, cst.AnnAssign):
                spec = reader.spec(small.annotation)
                out[small.target.value] = None if spec is None else (
                    " ".join(a.text for a in spec.axes), spec.dtype)
    return out


def test_spellings():
    specs = _specs()
    assert specs["a"] == ("b 3", "float")
    assert specs["b"] == ("b t", "long")
    assert specs["c"] == ("b c h w", "float")              # jaxtyping appends the aliased array's axes
    assert specs["d"] == ("B 3 *Xs D // 4", None)
    assert specs["e"] == ("B 10", None)
    assert specs["f"] == ("B 3 32 32", None)
    assert specs["g"] == ("B 10", None)
    assert specs["h"] == ("n", "float")
    assert specs["i"] is None and specs["j"] is None and specs["k"] is None


def _fresh(name):
    return D.sym(name + "'")


def test_one_name_is_one_size_in_a_call():
    spec = A.ShapeSpec(tuple(jaxtyping_axes("b c")), "")
    env = {}
    first = A.bind(spec, (4, None), env, _fresh)
    assert first.shape == (4, D.sym("c'")) and not first.requirements
    second = A.bind(spec, (5, 7), env, _fresh)
    assert [(r.axis, r.got, r.expected) for r in second.requirements] == [(0, 5, 4), (1, 7, D.sym("c'"))]


def test_variadic_and_rank():
    spec = A.ShapeSpec(tuple(jaxtyping_axes("*batch d")), "")
    env = {}
    assert A.bind(spec, (2, 5, 8), env, _fresh).requirements == []
    assert env["*batch"] == (2, 5) and env["d"] == 8
    assert A.bind(spec, (2, 5), env, _fresh).rank == (2, "3")
    assert A.bind(A.ShapeSpec(tuple(jaxtyping_axes("a b c")), ""), (1, 2), {}, _fresh).rank == (2, "3")


def test_expressions_use_bound_names():
    spec = A.ShapeSpec(tuple(jaxtyping_axes("b c*2")), "")
    env = {"c": D.sym("c")}
    binding = A.bind(spec, (3, None), env, _fresh)
    assert binding.shape == (3, D.mul(D.sym("c"), 2))

"""Shape annotations in the source -> :class:`cnnlint.shapes.annotated.ShapeSpec`, or None for any other annotation.

Three spellings are read, from the file's own imports (cnnlint.extract.imports):

* jaxtyping: ``Float[Tensor, "b c h w"]``, ``jt.Int[torch.Tensor, "batch 3 32 32"]``, ``Shaped[Image, "b"]`` (an
  aliased spec, axes appended); axes as jaxtyping parses them: ``28``, ``name``, ``_`` / ``_name`` (any single axis),
  ``...`` / ``*name`` (any number of axes), ``#name`` (size 1 too), ``name=3`` (3), ``?name`` (per PyTree leaf: any),
  ``c*2`` / ``dim-1`` (``+ - * //`` over names and integers; anything else is any axis).
* Pyrefly: ``Tensor[B, 3, 32, 32]`` (also ``Tensor[[B, 3, 32, 32]]``), names are dimension type variables,
  ``*Xs`` and ``...`` any number of axes, ``D // NHead`` an expression.
* TorchShapeFlow: ``Annotated[torch.Tensor, Shape("B", 3, 32, 32)]``.

Names bound at module level (``Image = Float[Tensor, "c h w"]``, ``X: TypeAlias = ...``, ``type X = ...``) are
followed. Nothing here evaluates the linted code: it reads expressions.
"""

from __future__ import annotations

import ast
import re

import libcst as cst

from ..shapes.annotated import ANY, EXPR, FIXED, NAMED, VARIADIC, Axis, ShapeSpec
from .imports import dotted, qualify

TORCH_TENSORS = {"torch.Tensor", "torch.FloatTensor", "torch.LongTensor", "torch.nn.Parameter",
                 "torch.nn.parameter.Parameter"}
_JAXTYPING_DTYPE = re.compile(r"^(?:Shaped|Bool|Num|Inexact|Real|Key|Integer|(?P<float>B?Float\w*)|"
                              r"(?P<int>U?Int\d*)|Complex\w*)$")
_ANNOTATED = {"typing.Annotated", "typing_extensions.Annotated"}
_TSF_SHAPE = "torchshapeflow.Shape"
_CODE = cst.Module(body=[])
MAX_ALIAS_DEPTH = 6


def collect_aliases(module: cst.Module) -> dict:
    """Module-level names bound to an expression that may be a shape annotation: name -> CST expression."""
    out = {}
    for stmt in module.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target,
                                                                                         cst.Name):
                name, value = small.targets[0].target.value, small.value
            elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.value is not None:
                name, value = small.target.value, small.value
            elif isinstance(small, getattr(cst, "TypeAlias", ())):
                name, value = small.name.value, small.value
            else:
                continue
            if isinstance(value, (cst.Subscript, cst.Name, cst.Attribute, cst.Integer)):
                out[name] = value
    return out


class AnnotationReader:
    """Reads annotations of one file; `imports` maps local names to canonical ones, `aliases` as collected above."""

    def __init__(self, imports: dict, aliases: dict):
        self.imports = imports
        self.aliases = aliases
        self._cache: dict = {}

    def spec(self, annotation) -> ShapeSpec | None:
        """The shape spec of an annotation (a cst.Annotation or an expression), cached per node."""
        expr = annotation.annotation if isinstance(annotation, cst.Annotation) else annotation
        key = id(expr)
        hit = self._cache.get(key)
        if hit is not None and hit[0] is expr:
            return hit[1]
        try:
            out = self._read(expr, 0)
        except (ValueError, SyntaxError, RecursionError, cst.ParserSyntaxError):
            out = None
        self._cache[key] = (expr, out)
        return out

    def tuple_specs(self, annotation):
        """`tuple[Float[Tensor, "b n"], Float[Tensor, "b"]]` -> a spec (or None) per element; None for anything
        else, `tuple[X, ...]` included."""
        expr = annotation.annotation if isinstance(annotation, cst.Annotation) else annotation
        if not isinstance(expr, cst.Subscript) or self.resolve(expr.value) not in ("tuple", "typing.Tuple"):
            return None
        elements = [e.slice.value for e in expr.slice if isinstance(e.slice, cst.Index)]
        if len(elements) != len(expr.slice) or any(isinstance(e, cst.Ellipsis) for e in elements):
            return None
        specs = [self.spec(e) for e in elements]
        return specs if any(specs) else None

    # -- names ------------------------------------------------------------------------------------------------------
    def resolve(self, expr) -> str | None:
        """The canonical dotted name of a Name/Attribute from the file's imports (`jt.Float` -> jaxtyping.Float)."""
        return qualify(dotted(expr), self.imports)

    def _alias(self, expr):
        return self.aliases.get(expr.value) if isinstance(expr, cst.Name) and expr.value not in self.imports else None

    # -- reading ------------------------------------------------------------------------------------------------------
    def _read(self, expr, depth):
        if depth > MAX_ALIAS_DEPTH:
            return None
        if isinstance(expr, cst.SimpleString) and "[" in expr.value:       # a quoted annotation
            text = ast.literal_eval(expr.value)
            return self._read(cst.parse_expression(text), depth + 1) if isinstance(text, str) else None
        alias = self._alias(expr)
        if alias is not None:
            return self._read(alias, depth + 1)
        if not isinstance(expr, cst.Subscript):
            return None
        base = self.resolve(expr.value)
        elements = [e.slice.value for e in expr.slice if isinstance(e.slice, cst.Index)]
        if base is None or len(elements) != len(expr.slice):
            return None
        text = _CODE.code_for_node(expr)
        if base.startswith("jaxtyping."):
            return self._jaxtyping(base[len("jaxtyping."):], elements, text, depth)
        if base in _ANNOTATED and elements:
            return self._annotated(elements, text, depth)
        if base in TORCH_TENSORS:
            stars = [getattr(e.slice, "star", None) == "*" for e in expr.slice]     # Tensor[*Xs, N]
            return self._pyrefly([cst.StarredElement(v) if star else v for v, star in zip(elements, stars)], text)
        return None

    def _is_torch(self, expr) -> bool:
        return self.resolve(expr) in TORCH_TENSORS

    def _jaxtyping(self, dtype_name, elements, text, depth):
        m = _JAXTYPING_DTYPE.match(dtype_name)
        if m is None or len(elements) != 2 or not isinstance(elements[1], cst.SimpleString):
            return None
        shape = ast.literal_eval(elements[1].value)
        if not isinstance(shape, str):
            return None
        axes = jaxtyping_axes(shape)
        if axes is None:
            return None
        array = elements[0]
        inner = None
        if not self._is_torch(array):
            inner = self._read(array, depth + 1)       # Float[Image, "b"]: Image's axes follow
            if inner is None:
                return None
            axes = axes + list(inner.axes)
            if sum(a.kind == VARIADIC for a in axes) > 1:
                return None
        dtype = "float" if m.group("float") else "long" if m.group("int") else (inner.dtype if inner else None)
        return ShapeSpec(tuple(axes), text, dtype)

    def _annotated(self, elements, text, depth):
        first = elements[0]
        if self._is_torch(first):
            for meta in elements[1:]:
                if isinstance(meta, cst.Call) and self.resolve(meta.func) == _TSF_SHAPE:
                    axes = [_tsf_axis(a.value) for a in meta.args if a.keyword is None and a.star == ""]
                    if len(axes) == len(meta.args):
                        return ShapeSpec(tuple(axes), text)
                if isinstance(meta, cst.SimpleString):       # the shorthand Annotated[torch.Tensor, "B 3 H W"]
                    shape = ast.literal_eval(meta.value)
                    if isinstance(shape, str) and shape.replace(",", " ").split():
                        return ShapeSpec(tuple(_tsf_axis_text(t) for t in shape.replace(",", " ").split()), text)
            return None
        return self._read(first, depth + 1)         # Annotated[Float[Tensor, "b c"], ...]

    def _pyrefly(self, elements, text):
        if len(elements) == 1 and isinstance(elements[0], (cst.List, cst.Tuple)):
            elements = [e.value if not isinstance(e, cst.StarredElement) else e for e in elements[0].elements]
        axes = []
        for e in elements:
            axis = self._pyrefly_axis(e)
            if axis is None:
                return None
            axes.append(axis)
        if sum(a.kind == VARIADIC for a in axes) > 1:
            return None
        return ShapeSpec(tuple(axes), text)

    def _pyrefly_axis(self, e):
        written = _CODE.code_for_node(e)
        if isinstance(e, cst.Integer):
            return Axis(FIXED, int(e.value), text=written)
        if isinstance(e, cst.Ellipsis):
            return Axis(VARIADIC, None, text=written)
        if isinstance(e, cst.StarredElement) and isinstance(e.value, cst.Name):
            return Axis(VARIADIC, e.value.value, text=written)
        if isinstance(e, cst.Name):
            alias = self._alias(e)
            if isinstance(alias, cst.Integer):
                return Axis(FIXED, int(alias.value), text=written)
            if e.value in self.imports or e.value in ("int", "float", "bool", "None", "Any"):
                return None                          # a type, not a size: this is no shape annotation
            return Axis(NAMED, e.value, text=written)
        tree = _tree_of_text(written)             # D // NHead: the same little language as jaxtyping's
        return Axis(EXPR, tree, text=written) if tree is not None else None


def _tsf_axis(e):
    if isinstance(e, cst.Integer):
        return Axis(FIXED, int(e.value), text=e.value)
    value = ast.literal_eval(e.value) if isinstance(e, cst.SimpleString) else None
    return _tsf_axis_text(value) if isinstance(value, str) else Axis(ANY, text=_CODE.code_for_node(e))


def _tsf_axis_text(token):
    if token.isdigit():
        return Axis(FIXED, int(token), text=token)
    return Axis(NAMED, token, text=token) if token.isidentifier() else Axis(ANY, text=token)


def jaxtyping_axes(shape: str):
    """The axes of a jaxtyping shape string, as jaxtyping itself parses it; None where jaxtyping would refuse it."""
    axes = []
    for elem in shape.split():
        written = elem
        if "," in elem and "(" not in elem or elem.endswith("#"):
            return None
        if "..." in elem:
            if elem != "...":
                return None
            axes.append(Axis(VARIADIC, None, text=written))
            continue
        broadcastable = variadic = anonymous = treepath = False
        while elem:
            if elem[0] == "#":
                broadcastable = True
            elif elem[0] == "*":
                variadic = True
            elif elem[0] == "_":
                anonymous = True
            elif elem[0] == "?":
                treepath = True
            elif elem.count("=") == 1:
                elem = elem.split("=")[1]
                continue
            else:
                break
            elem = elem[1:]
        if not elem or elem.isidentifier():
            if anonymous and broadcastable:
                return None
            if variadic:
                axes.append(Axis(VARIADIC, None if anonymous or treepath else elem, broadcastable, written))
            elif anonymous or treepath:
                axes.append(Axis(ANY, text=written))
            else:
                axes.append(Axis(NAMED, elem, broadcastable, written))
        elif anonymous or variadic or treepath:
            return None                  # `_4`, `*4`, `?c*2`: jaxtyping refuses them
        elif elem.isdigit():
            axes.append(Axis(FIXED, int(elem), broadcastable, written))
        else:
            tree = _tree_of_text(elem)
            axes.append(Axis(EXPR, tree, broadcastable, written) if tree is not None else Axis(ANY, text=written))
    if sum(a.kind == VARIADIC for a in axes) > 1:
        return None
    return axes


_AST_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.FloorDiv: "//"}


def _tree_of_text(text):
    """`c*2` -> ("*", ("name", "c"), 2); None for anything but + - * // over names and integers (f-strings, calls)."""
    if "{" in text or "#" in text:
        return None
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        return None
    return _tree_of_ast(node)


def _tree_of_ast(node):
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.Name):
        return ("name", node.id)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _tree_of_ast(node.operand)
        return None if inner is None else ("neg", inner)
    if isinstance(node, ast.BinOp) and type(node.op) in _AST_OPS:
        left, right = _tree_of_ast(node.left), _tree_of_ast(node.right)
        if left is None or right is None:
            return None
        return (_AST_OPS[type(node.op)], left, right)
    return None

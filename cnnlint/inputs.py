"""Where a model's input shape comes from, in order of trust.

1. A comment on the line above the class: ``# cnnlint: input=(N, 3, 32, 32)`` (several: ``(4, 3, 32, 32), (4, 10)``;
   integer indices: ``dtype=long``).
2. An example call in the same file: ``model(torch.randn(4, 3, 32, 32))`` (found by the evaluator); a call whose
   argument contradicts forward's shape annotation is still used, and reported (CNN114).
3. The shape annotations of forward's parameters: ``x: Float[Tensor, "b 3 32 32"]`` -> ``(b, 3, 32, 32)``
   (jaxtyping, Pyrefly, TorchShapeFlow; cnnlint.extract.annotations), when the first one has a fixed rank.
4. A dataset named in the file: MNIST -> 1x28x28, CIFAR-10/100 -> 3x32x32, ``RandomResizedCrop(224)`` -> 3x224x224,
   used only when the model's first layer takes that many channels.
5. Otherwise symbolic, shaped by the first layer: ``Conv2d(3, ...)`` -> ``(N, 3, H, W)``.
"""

from __future__ import annotations

import re

from . import values as V
from .shapes.common import as_dim
from .shapes.datasets import IMAGE_DATASETS
from .shapes.keras_layers import keras_shape
from .shapes.torch_layers import CONTAINERS

_COMMENT = re.compile(r"#\s*cnnlint:\s*input\s*=\s*(?P<spec>.*)$")
_TUPLE = re.compile(r"\(([^()]*)\)")
_TARGET = re.compile(r"^\s*(?:class\s+(?P<cls>\w+)|(?P<var>\w+)\s*(?::[^=]*)?=)")
_SYMBOL = re.compile(r"^[A-Za-z_]\w*$")


def parse_spec(spec: str):
    """'(N, 3, 32, 32), (4, 10) dtype=long' -> ([('N', 3, 32, 32), (4, 10)], 'long'), or None if malformed."""
    dtype = None
    m = re.search(r"dtype\s*=\s*(\w+)", spec)
    if m:
        dtype = m.group(1)
        spec = spec[:m.start()]
    shapes = []
    for group in _TUPLE.findall(spec):
        dims = []
        for part in (p.strip() for p in group.split(",")):
            if not part:
                continue
            if part.lstrip("-").isdigit():
                dims.append(int(part))
            elif _SYMBOL.match(part):
                dims.append(part)
            else:
                return None
        shapes.append(tuple(dims))
    return (shapes, dtype) if shapes else None


def comment_inputs(source: str) -> dict:
    """{class or variable name: (shapes, dtype)} from `# cnnlint: input=` comments above definitions."""
    out = {}
    if "cnnlint:" not in source:
        return out
    lines = source.splitlines()
    for i, line in enumerate(lines):
        m = _COMMENT.search(line)
        if not m or line.lstrip()[:1] != "#":
            continue
        parsed = parse_spec(m.group("spec"))
        if parsed is None:
            continue
        for nxt in lines[i + 1:i + 20]:
            stripped = nxt.strip()
            if not stripped or stripped.startswith("#") or stripped.startswith("@"):
                continue
            t = _TARGET.match(nxt)
            if t:
                out[t.group("cls") or t.group("var")] = parsed
            break
    return out


_DATASETS = (
    (re.compile(r"\b(?:Fashion|K|E|Q)?MNIST\b"), IMAGE_DATASETS["MNIST"]),
    (re.compile(r"\bCIFAR(?:10|100)\b"), IMAGE_DATASETS["CIFAR10"]),
    (re.compile(r"\b(?:RandomResizedCrop|CenterCrop)\(\s*(\d+)\s*\)"), None),
)


def dataset_hint(source: str):
    """(C, H, W) when the file names exactly one kind of image dataset, else None."""
    found = set()
    if "MNIST" not in source and "CIFAR" not in source and "Crop(" not in source:
        return None
    for pattern, shape in _DATASETS:
        for m in pattern.finditer(source):
            if shape is None:
                size = int(m.group(1))
                found.add((3, size, size))
            else:
                found.add(shape)
    return found.pop() if len(found) == 1 else None


def first_layer(interp, module, depth=0, lax=False):
    """The first leaf layer a model applies to its (first) input, found by reading forward; None if unclear. With
    `lax`, `x = helper(x, ...)...` (a function of the code, not a layer) is read past, as if it kept x as it is: the
    caller must check that the input the layer names does reach it unchanged."""
    import libcst as cst  # here: the configuration reads input specs without loading LibCST (cached runs)
    if depth > 8:
        return None
    if isinstance(module, V.Layer):
        if module.kind == "torch.nn.Sequential":
            children = [c for c in module.children.values()]
            return first_layer(interp, children[0], depth + 1, lax) if children else None
        if module.kind in CONTAINERS:
            return None
        return module
    if not isinstance(module, V.Instance):
        return None
    if module.base is not None:
        return module.base          # a subclass of a torch layer takes what that layer takes
    forward, _ = module.cls.lookup("forward")
    if not isinstance(forward, cst.FunctionDef):
        bases = {b.name for b in module.cls.external_bases()}
        if "torch.nn.Sequential" in bases and module.modules:
            return first_layer(interp, next(iter(module.modules.values())), depth + 1, lax)
        return None
    return _first_layer_result(_first_layer_in(interp, module, forward, depth, lax))


def _first_layer_in(interp, module, method, depth, lax=False):
    """The first layer `method` applies to its first parameter, following `self.helper(x)` calls."""
    import libcst as cst
    params = list(method.params.params)
    if len(params) < 2 or depth > 8:
        return None
    arg = params[1].name.value
    return _first_layer_of(interp, module, _taken(interp, module, params[0].name.value, method.body.body), arg,
                           depth, lax)


def _first_layer_result(found):
    return None if found is _PASS else found


def _taken(interp, module, self_name, stmts):
    """The statements a method runs, where an `if` on the module's own state (`if self.stem is not None:`) is
    decided; an `if` that cannot be decided ends the list with itself."""
    import libcst as cst
    from .extract.domain import Frame, truth
    out = []
    for stmt in stmts:
        if isinstance(stmt, cst.If):
            frame = Frame({self_name: module}, self_obj=module)
            try:
                decided = truth(interp.eval(stmt.test, frame))
            except Exception:
                decided = None
            if decided is True:
                out.extend(_taken(interp, module, self_name, stmt.body.body))
                continue
            if decided is False:
                orelse = stmt.orelse
                if isinstance(orelse, cst.If):
                    out.extend(_taken(interp, module, self_name, [orelse]))
                elif orelse is not None:
                    out.extend(_taken(interp, module, self_name, orelse.body.body))
                continue
        out.append(stmt)
    return out


def _first_layer_of(interp, module, stmts, arg, depth, lax=False):
    """The first layer these statements apply to `arg`; _PASS when they only return it unchanged."""
    import libcst as cst
    for stmt in stmts:
        if _returns_name(stmt, arg):
            return _PASS
        call = _first_call_on(stmt, arg)
        if call is None:
            continue
        if call is _Stop:
            return None
        target = call.func
        if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) and target.value.value == "self":
            name = target.attr.value
            sub = module.modules.get(name)
            if sub is not None:
                return first_layer(interp, sub, depth + 1, lax)
            helper, _ = module.cls.lookup(name)
            if isinstance(helper, cst.FunctionDef):
                found = _first_layer_in(interp, module, helper, depth + 1, lax)
                if found is _PASS and _assigns_name(stmt, arg, call):
                    continue        # `x = self._transform_input(x)` that leaves x as it is here
                return None if found is _PASS else found
        elif lax and isinstance(target, cst.Name) and _rebinds(stmt, arg):
            continue                # `x = _unsqueeze(x, 5, 2)[0]`: assumed to keep x (the caller checks)
        return None
    return None


_PASS = object()       # "returns its input unchanged": the caller goes on to its next statement


def unpacked_rank(module) -> int | None:
    """The rank a model's forward states for its input by unpacking its shape before it is rebound
    (`B, N, C = x.shape`, `b, c, h, w = x.size()`): the number of names, else None."""
    import libcst as cst
    if not isinstance(module, V.Instance):
        return None
    method, _ = module.cls.lookup(module.cls.call_method())
    if not isinstance(method, cst.FunctionDef):
        return None
    params = list(method.params.posonly_params) + list(method.params.params)
    if len(params) < 2 or not isinstance(method.body, cst.IndentedBlock):
        return None
    arg = params[1].name.value
    for stmt in method.body.body:
        if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1):
            continue
        small = stmt.body[0]
        if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(
                small.targets[0].target, cst.Tuple) and _shape_of(small.value, arg):
            elements = small.targets[0].target.elements
            return None if any(isinstance(e, cst.StarredElement) for e in elements) else len(elements)
        if _rebinds(stmt, arg):
            return None
    return None


def _shape_of(expr, name) -> bool:
    """`name.shape` or `name.size()`."""
    import libcst as cst
    if isinstance(expr, cst.Call) and not expr.args:
        expr = expr.func
        attr = "size"
    else:
        attr = "shape"
    return isinstance(expr, cst.Attribute) and expr.attr.value == attr and isinstance(expr.value, cst.Name) and \
        expr.value.value == name


def _returns_name(stmt, name) -> bool:
    import libcst as cst
    return isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(
        stmt.body[0], cst.Return) and isinstance(stmt.body[0].value, cst.Name) and stmt.body[0].value.value == name


def _rebinds(stmt, name) -> bool:
    """`name = ...` (or `name, rest = ...`) as the whole statement."""
    import libcst as cst
    if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Assign)):
        return False
    for target in (t.target for t in stmt.body[0].targets):
        items = [target] if isinstance(target, cst.Name) else [e.value for e in getattr(target, "elements", ())]
        if any(isinstance(e, cst.Name) and e.value == name for e in items):
            return True
    return False


def _assigns_name(stmt, name, call) -> bool:
    """`name = <call>` as the whole statement."""
    import libcst as cst
    if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Assign)):
        return False
    assign = stmt.body[0]
    return assign.value is call and len(assign.targets) == 1 and isinstance(assign.targets[0].target, cst.Name) \
        and assign.targets[0].target.value == name


def _first_call_on(stmt, arg):
    """The first call in a statement whose first argument is the bare name `arg`."""
    import libcst as cst
    found = []

    class Finder(cst.CSTVisitor):
        def visit_Call(self, node):
            if found:
                return False
            if node.args and isinstance(node.args[0].value, cst.Name) and node.args[0].value.value == arg:
                found.append(node)
                return False
            return True

    names = []

    class Uses(cst.CSTVisitor):
        def visit_Name(self, node):
            names.append(node.value)

    if isinstance(stmt, (cst.SimpleStatementLine,)):
        stmt.visit(Finder())
        if not found:
            # `x = x.permute(...)`, `x = x * 2` ...: the input is touched before any layer
            stmt.visit(Uses())
            if arg in names:
                return _Stop
    elif not isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
        # `if self.stem is not None: x = self.stem(x)`: which layer comes first is not known from the text
        stmt.visit(Uses())
        if arg in names:
            return _Stop
    return found[0] if found else None


_Stop = object()      # "the input is touched before any layer": no first layer to read the shape from


def guess_input(layer, solver, hint=None):
    """A symbolic input shape for a model whose first layer is `layer`, and its dtype; None when unclear."""
    if layer is None or layer.args.get("__unknown__"):
        return None
    kind = layer.type_name
    a = layer.args
    n_batch = solver.symbol("N")

    def spatial(n):
        names = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}[n]
        return tuple(solver.symbol(s) for s in names)

    if kind.startswith(("Conv", "LazyConv")) and kind[-2:] in ("1d", "2d", "3d"):
        n = int(kind[-2])
        channels = as_dim(a.get("in_channels"))
        if channels is None:
            return None
        if hint is not None and n == 2 and hint[0] == channels:
            return (n_batch,) + tuple(hint), "dataset"
        return (n_batch, channels) + spatial(n), "guess"
    if kind in ("Linear",):
        features = as_dim(a.get("in_features"))
        return ((n_batch, features), "guess") if features is not None else None
    if kind in ("BatchNorm2d", "InstanceNorm2d"):
        channels = as_dim(a.get("num_features"))
        return ((n_batch, channels) + spatial(2), "guess") if channels is not None else None
    if kind == "Embedding":
        return (n_batch, solver.symbol("L")), "guess-long"
    if kind in ("LSTM", "GRU", "RNN"):
        size = as_dim(a.get("input_size"))
        if size is None or a.get("batch_first") not in (True, False):
            return None
        seq = solver.symbol("L")
        return ((n_batch, seq, size) if a.get("batch_first") else (seq, n_batch, size)), "guess"
    return None


# names for the axes a Keras shape leaves open (None), by the number of axes after the batch: channels last
def annotation_inputs(fdef, reader, fresh, skip_self=False):
    """Arguments for a function (or a forward) made from the shape annotations of its parameters, names shared
    between them (`b` in two parameters is one size); None unless the first one has a shape of known rank.
    Parameters after it without an annotation get unknown values; those with defaults keep them."""
    from .shapes.annotated import instantiate
    params = fdef.params
    if any(p.default is None for p in params.kwonly_params):
        return None
    positional = (list(params.posonly_params) + list(params.params))[1 if skip_self else 0:]
    env: dict = {}
    args = []
    for param in positional:
        if param.default is not None:
            break
        spec = reader.spec(param.annotation) if param.annotation is not None else None
        shape = instantiate(spec, env, fresh) if spec is not None else None
        if shape is None and not args:
            return None
        if spec is None:
            args.append(V.UNKNOWN)
        else:
            args.append(V.Tensor(shape, dtype=spec.dtype))
    return args or None


def keras_input(sequential, solver):
    """A Keras Sequential's input: a leading keras.Input, or input_shape= / batch_input_shape= on its first layer."""
    given = sequential.args.get("__input__")
    if isinstance(given, V.Tensor) and given.shape is not None:
        return given.shape, "keras-input"
    first = next(iter(sequential.children.values()), None)
    if not isinstance(first, V.Layer):
        return None
    shape = first.args.get("input_shape")
    if isinstance(shape, (list, tuple)) and all(isinstance(d, int) or d is None for d in shape):
        return keras_shape(shape, solver), "keras-input"
    batch = first.args.get("batch_input_shape")
    if isinstance(batch, (list, tuple)) and batch and all(isinstance(d, int) or d is None for d in batch):
        return keras_shape(batch[1:], solver, batch[0]), "keras-input"
    return None

"""Building fixes: new argument values written in the user's style, at the node the user wrote them.

A fix that sets a constructor argument is *safe* only when the argument was written with literals
(`16 * 5 * 5`): replacing a variable (`hidden_dim`) would change the model for every other configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .diagnostics import Fix
from .shapes import dims as D
from .shapes.keras_layers import KERAS_LAYERS
from .shapes.torch_layers import LAYERS
from .values import ForeignSite, Tensor


def argument_node(layer, param):
    """The CST expression the user wrote for a constructor parameter, or None."""
    import libcst as cst  # here, not at the top: loading the rules must not load LibCST (cached runs)
    call = layer.call
    spec = LAYERS.get(layer.kind) or KERAS_LAYERS.get(layer.kind)
    if not isinstance(call, cst.Call) or spec is None:
        return None
    positional = [a for a in call.args if a.keyword is None and not a.star]
    if param in spec.params:
        index = spec.params.index(param)
        if index < len(positional) and all(not a.star for a in call.args[:index + 1]):
            return positional[index].value
    for a in call.args:
        if a.keyword is not None and a.keyword.value == param:
            return a.value
    return None


def _literal_only(node) -> bool:
    import libcst as cst
    if isinstance(node, cst.Integer):
        return True
    if isinstance(node, cst.BinaryOperation):
        return _literal_only(node.left) and _literal_only(node.right)
    if isinstance(node, (cst.Tuple, cst.List)):
        return all(_literal_only(e.value) for e in node.elements)
    return False


def _is_product(node) -> bool:
    import libcst as cst
    return isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Multiply)


def flattened_factors(run, tensor):
    """The sizes a flatten/view multiplied into the last axis of `tensor` (16, 4, 4), when all are known."""
    data = run.producer(tensor)
    if data is None or not isinstance(tensor, Tensor) or not tensor.shape:
        return None
    source = next(iter(data["args"].values()), None) if isinstance(data["args"], dict) else None
    if not isinstance(source, Tensor) or not source.shape:
        return None
    last = tensor.shape[-1]
    for start in range(1, len(source.shape)):
        tail = source.shape[start:]
        if all(isinstance(d, int) for d in tail) and D.product(tail) == last and len(tail) > 1:
            return list(tail)
    return None


def set_argument(layer, param, value, factors=None, what=None, old=None):
    """A Fix that sets `param` of `layer` to the int `value` (at `old`, the expression that wrote it, when given),
    or None when the argument cannot be found."""
    import libcst as cst
    old = argument_node(layer, param) if old is None else old
    if old is None or not isinstance(value, int):
        return None
    text = " * ".join(map(str, factors)) if factors and _is_product(old) else str(value)
    return Fix(f"set {param}={text}" if what is None else what, _literal_only(old),
               [(old, cst.parse_expression(text))])


def written_factors(run, tensor):
    """The factors the user wrote for the width of `tensor` when it comes from a Dense/Linear sized by a product
    of literals (Dense(7 * 7 * 128) gives [7, 7, 128]), looking through layers that keep the shape."""
    import libcst as cst
    for _ in range(6):
        data = run.producer(tensor)
        layer = data.get("layer") if data is not None else None
        if layer is None:
            return None
        if layer.type_name in ("Dense", "Linear"):
            node = argument_node(layer, "units" if layer.type_name == "Dense" else "out_features")
            factors = []
            while isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Multiply):
                if not isinstance(node.right, cst.Integer):
                    return None
                factors.insert(0, int(node.right.value))
                node = node.left
            return [int(node.value)] + factors if isinstance(node, cst.Integer) and factors else None
        source = next(iter(data["args"].values()), None) if isinstance(data["args"], dict) else None
        if not isinstance(source, Tensor) or source.shape != tensor.shape:
            return None
        tensor = source
    return None


def set_target_size(layer, param, dims, numel, factors=None):
    """A Fix for a reshape target (`target_shape=(7, 7, 256)`) holding `dims`, whose element count must be the
    int `numel`: set the one size that makes it hold numel. Certain when the target differs in one place from the
    factors the user wrote for that width (Dense(7 * 7 * 128)), or when only one size can make it fit; None
    otherwise, and when the target was not written as a literal tuple."""
    import libcst as cst
    node = argument_node(layer, param)
    if not isinstance(node, (cst.Tuple, cst.List)) or len(node.elements) != len(dims) or not isinstance(numel, int):
        return None
    if not all(isinstance(d, int) and d > 0 for d in dims):
        return None
    if factors is not None and len(factors) == len(dims) and D.product(factors) == numel:
        candidates = [(i, f) for i, (f, d) in enumerate(zip(factors, dims)) if f != d]
    else:
        candidates = [(i, numel // D.product(dims[:i] + dims[i + 1:])) for i in range(len(dims))
                      if numel % D.product(dims[:i] + dims[i + 1:]) == 0]
    if len(candidates) != 1:
        return None
    index, size = candidates[0]
    old = node.elements[index].value
    return Fix(f"set {param}[{index}]={size}", _literal_only(node), [(old, cst.parse_expression(str(size)))])


def replace_call_argument(call, index, new_text, description, safe=False):
    """A Fix replacing the index-th argument of a call expression."""
    import libcst as cst
    if not isinstance(call, cst.Call) or index >= len(call.args) or call.args[index].star:
        return None
    old = call.args[index].value
    return Fix(description, safe, [(old, cst.parse_expression(new_text))])


def code_of(node) -> str:
    import libcst as cst
    return cst.Module(body=[]).code_for_node(node)


# -- where a size came from: the argument expression of the layer that made it ---------------------------------
#
# A size that arrives at a layer was made by an earlier one: the channels of a feature map by the conv before it
# (`ndf * 4`), the features of a sequence by the Embedding (`emb`) or by a bidirectional LSTM (`2 * hidden`), a
# flattened width by the channels and the sizes flattened with them. Written at the flagged argument, that
# expression keeps the model right for every value of its names, so the fix is safe; it is written only when
# each name it reads holds there what it held where the producing layer was built (see _in_scope), and the
# number it gives now is checked against the size that arrives.

# layers and ops that keep every axis of their input as it is
_KEEP_LAYERS = {"ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish", "Hardswish",
                "Hardsigmoid", "Hardtanh", "Sigmoid", "Tanh", "Softplus", "Identity", "Dropout", "Dropout1d",
                "Dropout2d", "Dropout3d", "AlphaDropout", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d",
                "SyncBatchNorm", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "GroupNorm", "LayerNorm",
                "RMSNorm", "LocalResponseNorm"}
_KEEP_OPS = {"torch.relu", "torch.nn.functional.relu", "torch.nn.functional.relu6", "torch.nn.functional.leaky_relu",
             "torch.nn.functional.gelu", "torch.nn.functional.silu", "torch.nn.functional.elu", "torch.sigmoid",
             "torch.tanh", "torch.nn.functional.dropout", "torch.nn.functional.dropout2d", "Tensor.relu",
             "Tensor.contiguous", "Tensor.sigmoid", "Tensor.tanh", "torch.nn.functional.layer_norm",
             "torch.nn.functional.batch_norm"}
# pools keep the batch and channel axes (n spatial axes after them)
_POOL_LAYERS = {f"{kind}Pool{n}d" for kind in ("Max", "Avg", "AdaptiveAvg", "AdaptiveMax", "LP") for n in (1, 2, 3)}
_POOL_OPS = {f"{prefix}{kind}_pool{n}d" for prefix in ("torch.", "torch.nn.functional.")
             for kind in ("max", "avg", "adaptive_avg", "adaptive_max") for n in (1, 2, 3)}
_FLATTENS = {"torch.flatten", "Tensor.flatten", "Tensor.view", "Tensor.reshape", "torch.reshape"}
_RNNS = {"LSTM", "GRU", "RNN"}


@dataclass
class Term:
    """A factor of a size: the expression `node` written in `call` (the constructor of the layer that made it),
    times `scale` (2 for the output of a bidirectional RNN); a number alone when node is None."""

    value: int
    node: Any = None
    call: Any = None
    scale: int = 1
    layer: Any = None
    param: Any = None       # the constructor parameter `node` was written for (its `written` hops: where passed)


def size_terms(run, tensor, axis, steps=16):
    """The factors of the size of `axis` of `tensor`, traced back to the arguments that made them, or None."""
    for _ in range(steps):
        if not isinstance(tensor, Tensor) or not tensor.shape or not -len(tensor.shape) <= axis < len(tensor.shape):
            return None
        rank = len(tensor.shape)
        axis %= rank
        size = tensor.shape[axis]
        data = run.producer(tensor)
        if not isinstance(size, int) or data is None or not isinstance(data["args"], dict):
            return None
        source = next(iter(data["args"].values()), None)
        layer = data.get("layer")
        op = data["op"]
        if layer is not None:
            if not layer.kind.startswith("torch.nn."):
                return None
            made = _made_by(layer, data, tensor, axis, size)
            if made is not None:
                return made
            kind = layer.type_name
            if kind == "Flatten":
                return _flattened(run, tensor, source, size) if axis == rank - 1 else None
            spatial = int(kind[-2]) if kind in _POOL_LAYERS else None
            if not (kind in _KEEP_LAYERS or (spatial is not None and axis < rank - spatial)):
                return None
        elif op in _FLATTENS and axis == rank - 1:
            return _flattened(run, tensor, source, size)
        elif op == "Tensor.__getitem__":
            axis = _indexed_axis(data["args"].get("index"), axis)
            if axis is None:
                return None
        elif not (op in _KEEP_OPS or (op in _POOL_OPS and axis < rank - int(op[-2]))):
            return None
        if not isinstance(source, Tensor) or source.shape is None or \
                (op != "Tensor.__getitem__" and len(source.shape) != rank) or source.shape[axis] != size:
            return None
        tensor = source
    return None


def _made_by(layer, data, tensor, axis, size):
    """[Term] when `layer` made the size of `axis` from one of its arguments, else None."""
    kind, rank = layer.type_name, len(tensor.shape)
    param, scale = None, 1
    if kind == "Linear" and axis == rank - 1:
        param = "out_features"
    elif kind == "Embedding" and axis == rank - 1:
        param = "embedding_dim"
    elif kind.startswith(("Conv", "ConvTranspose")) and kind[-2:] in ("1d", "2d", "3d"):
        n = int(kind[-2])
        if (rank, axis) in ((n + 2, 1), (n + 1, 0)):
            param = "out_channels"
    elif (kind in _RNNS or kind in {k + "Cell" for k in _RNNS}) and axis == rank - 1:
        if layer.arg("proj_size", 0) not in (0, None):
            return None
        param = "hidden_size"
        if layer.arg("bidirectional") is True and kind in _RNNS and size == 2 * layer.arg(param, 0):
            flag = argument_node(layer, "bidirectional")
            if not (isinstance(flag, _cst().Name) and flag.value == "True"):
                return None     # `bidirectional=bidir`: 2 * hidden holds only while bidir does
            scale = 2
    elif kind.startswith("Adaptive") and kind[-6:-2] == "Pool" and axis >= rank - int(kind[-2]):
        n = int(kind[-2])
        node = argument_node(layer, "output_size")
        value = layer.arg("output_size")
        if isinstance(node, (_cst().Tuple, _cst().List)):
            k = axis - (rank - n)
            if not isinstance(value, (tuple, list)) or len(node.elements) != n or len(value) != n:
                return None
            node, value = node.elements[k].value, value[k]
        whole = not isinstance(value, (tuple, list))
        return [Term(size, node, layer.call, 1, layer, "output_size" if whole else None)] \
            if node is not None and value == size else None
    if param is None:
        return None
    node = argument_node(layer, param)
    if node is None and layer.written.get(param):
        node = layer.written[param][0][0]     # built in another module: only where the size was passed counts
    value = layer.arg(param)
    if node is None or not isinstance(value, int) or isinstance(value, bool) or value * scale != size:
        return None
    return [Term(size, node, layer.call, scale, layer, param)]


def _indexed_axis(index, axis):
    """The axis of the indexed tensor that axis `axis` of x[index] is, when the index kept it whole."""
    if not isinstance(index, tuple):
        return None
    out = source = 0
    for item in index:
        if item == "drop":
            source += 1
            continue
        if item == "new":
            if out == axis:
                return None
            out += 1
            continue
        if item not in ("keep", "slice"):
            return None
        if out == axis:
            return source if item == "keep" else None
        out, source = out + 1, source + 1
    return None


def _flattened(run, tensor, source, size):
    """The factors of a last axis that flattens the trailing axes of `source` ((N, C, H, W) -> (N, C*H*W))."""
    if not isinstance(source, Tensor) or not source.shape:
        return None
    start = len(tensor.shape) - 1
    tail = source.shape[start:]
    if len(tail) < 2 or tuple(source.shape[:start]) != tuple(tensor.shape[:start]) or \
            not all(isinstance(d, int) for d in tail) or D.product(tail) != size:
        return None
    terms = []
    for k, d in enumerate(tail):
        traced = size_terms(run, source, start + k)
        terms.extend(traced if traced is not None else [Term(d)])
    return terms


def _cst():
    import libcst as cst
    return cst


# -- whether an expression means at one argument what it meant at another --------------------------------------

_PARENTS: dict = {}          # id(module) -> (module, {id(node): parent})


def _parents(module):
    cached = _PARENTS.get(id(module))
    if cached is not None and cached[0] is module:
        return cached[1]
    parents = {}
    stack = [module]
    while stack:
        node = stack.pop()
        for child in node.children:
            parents[id(child)] = node
            stack.append(child)
    _PARENTS.clear()            # one module at a time: a fix is built for the file being fixed
    _PARENTS[id(module)] = (module, parents)
    return parents


def _place(parents, node):
    """(scope, index of the statement of the scope's body holding `node`) when `node` lies in a function or at
    module level and runs each time its scope does (no branch, loop, try or with around it); else None."""
    cst = _cst()
    while id(node) in parents:
        parent = parents[id(node)]
        if isinstance(parent, (cst.Lambda, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp, cst.ClassDef,
                               cst.IfExp, cst.BooleanOperation)):
            return None
        if isinstance(parent, cst.Module) or (isinstance(parent, cst.IndentedBlock) and
                                              isinstance(parents.get(id(parent)), cst.FunctionDef)):
            body = parent.body
            index = next((i for i, s in enumerate(body) if s is node), None)
            scope = parent if isinstance(parent, cst.Module) else parents[id(parent)]
            return (scope, index) if index is not None else None
        if isinstance(parent, (cst.BaseCompoundStatement, cst.IndentedBlock)):
            return None
        node = parent
    return None


def _body(scope):
    return scope.body if isinstance(scope, _cst().Module) else scope.body.body


def _bound(target, out):
    """The names (`x`) and attributes (`self.x`) an assignment target binds."""
    cst = _cst()
    if isinstance(target, cst.Name):
        out.append(target.value)
    elif isinstance(target, cst.Attribute):
        from .extract.imports import dotted
        out.append(dotted(target) or "?")
    elif isinstance(target, (cst.Tuple, cst.List)):
        for e in target.elements:
            _bound(e.value, out)
    elif isinstance(target, cst.StarredElement):
        _bound(target.value, out)


def _bindings(root):
    """[(key, node)]: every binding below `root` of a name or attribute, and every global/nonlocal (key '*')."""
    cst = _cst()
    out = []
    stack = [root]
    while stack:
        node = stack.pop()
        keys = []
        if isinstance(node, cst.AssignTarget) or isinstance(node, (cst.AnnAssign, cst.AugAssign)):
            _bound(node.target, keys)
        elif isinstance(node, (cst.For, cst.CompFor)):
            _bound(node.target, keys)
        elif isinstance(node, cst.NamedExpr):
            _bound(node.target, keys)
        elif isinstance(node, cst.AsName):
            _bound(node.name, keys)
        elif isinstance(node, cst.Del):
            _bound(node.target, keys)
        elif isinstance(node, (cst.FunctionDef, cst.ClassDef)) and node is not root:
            keys.append(node.name.value)
        elif isinstance(node, cst.ImportAlias) and node.asname is None:
            from .extract.imports import dotted
            keys.append((dotted(node.name) or "?").split(".")[0])
        elif isinstance(node, (cst.Global, cst.Nonlocal)):
            keys.append("*")
        out.extend((k, node) for k in keys)
        stack.extend(node.children)
    return out


def _reads(node):
    """The names and `self.x` attributes an expression of names, numbers and arithmetic reads, or None for an
    expression of anything else (a call, a subscript, a float)."""
    cst = _cst()
    if isinstance(node, cst.Integer):
        return set()
    if isinstance(node, cst.Name):
        return {node.value}
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name):
        return {f"{node.value.value}.{node.attr.value}"}
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, (cst.Add, cst.Subtract, cst.Multiply,
                                                                            cst.FloorDivide, cst.Power)):
        left, right = _reads(node.left), _reads(node.right)
        return None if left is None or right is None else left | right
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        return _reads(node.expression)
    return None


def _in_scope(module, expr, producer, consumer):
    """Whether `expr`, written in the constructor call `producer`, holds the same value written in the
    constructor call `consumer`: both calls in the same function (or both at module level), each run once
    whenever it runs (no branch or loop around it), and every name it reads bound once: a parameter never
    assigned, or one assignment at the top of the body before both calls; a module constant assigned once; an
    attribute `self.x` assigned once in the class, at the top of this method, before both calls."""
    cst = _cst()
    reads = _reads(expr)
    if reads is None or producer is consumer or module is None:
        return False
    parents = _parents(module)
    here, there = _place(parents, producer), _place(parents, consumer)
    if here is None or there is None or here[0] is not there[0]:
        return False
    scope, first = here[0], min(here[1], there[1])
    body = _body(scope)
    bindings = _bindings(scope)
    if any(k == "*" for k, _ in bindings):
        return False
    params = []
    if isinstance(scope, cst.FunctionDef):
        p = scope.params
        params = [x.name.value for x in (*p.posonly_params, *p.params, *p.kwonly_params)]
        params += [s.name.value for s in (p.star_arg, p.star_kwarg) if isinstance(s, cst.Param)]

    def assigned_once_before(key, found):
        if len(found) != 1 or not isinstance(found[0], cst.AssignTarget):
            return False
        statement = next((i for i, s in enumerate(body[:first]) if isinstance(s, cst.SimpleStatementLine)
                          and len(s.body) == 1 and isinstance(s.body[0], cst.Assign)
                          and len(s.body[0].targets) == 1 and s.body[0].targets[0] is found[0]), None)
        return statement is not None

    for key in reads:
        found = [node for k, node in bindings if k == key]
        if "." in key:
            base = key.split(".")[0]
            owner = parents.get(id(parents.get(id(scope))))
            if not (params and base == params[0] and isinstance(owner, cst.ClassDef)
                    and not any(k == base for k, _ in bindings)):
                return False
            in_class = [node for k, node in _bindings(owner) if k == key]
            if len(in_class) != 1 or not assigned_once_before(key, found):
                return False
        elif key in params:
            if found:
                return False
        elif found:
            if not assigned_once_before(key, found):
                return False
        else:
            # a module constant, read from a function or a method of a class of the module
            if isinstance(scope, cst.FunctionDef) and not (isinstance(parents.get(id(scope)), cst.Module)
                                                            or _method_of_module_class(parents, scope)):
                return False
            everywhere = _bindings(module)
            if any(k == "*" for k, _ in everywhere):
                return False
            found = [node for k, node in everywhere if k == key]
            if len(found) != 1 or not isinstance(found[0], cst.AssignTarget):
                return False
            place = _place(parents, found[0])
            if place is None or place[0] is not module:
                return False
    return True


def _method_of_module_class(parents, scope):
    """A method of a class defined at module level."""
    cst = _cst()
    block = parents.get(id(scope))
    cls = parents.get(id(block))
    return isinstance(block, cst.IndentedBlock) and isinstance(cls, cst.ClassDef) and \
        isinstance(parents.get(id(cls)), cst.Module)


def _factor_text(node):
    """The code of an expression to multiply by: parenthesized unless it is a name, a number or a product."""
    cst = _cst()
    text = code_of(node)
    plain = node
    while isinstance(plain, cst.BinaryOperation) and isinstance(plain.operator, cst.Multiply) and not plain.lpar:
        if not isinstance(plain.right, (cst.Name, cst.Attribute, cst.Integer)):
            break
        plain = plain.left
    if isinstance(plain, (cst.Name, cst.Attribute, cst.Integer)) or plain.lpar:
        return text
    return f"({text})"


def set_size(run, layer, param, tensor, axis, at=None, runs=()):
    """A Fix that sets `param` of `layer` to the size of `axis` of `tensor`, written as the expressions that made
    that size when they mean the same at the argument (`emb`, `2 * hidden`, `ndf * 4 * 4 * 4`): such a fix
    follows the dataflow and is safe. Else the number, as set_argument writes it; None when the size is not
    known. `at`: where the finding is (rulekit's where_built): the caller's argument for a size passed down to
    the layer's constructor (`Head(hidden, 10)` for `nn.Linear(cin, n)`), which is then the one edited. `runs`:
    the file's runs, one of which built the layer (a module-level model is built by the module's own run)."""
    cst = _cst()
    got = tensor.shape[axis] if isinstance(tensor, Tensor) and tensor.shape else None
    if not isinstance(got, int) or not isinstance(layer.call, cst.Call):
        return None
    # the run that built the layer: every layer the fix names must have been built there, each by a constructor
    # that ran once
    owner = next((r for r in (run, *runs) if any(made is layer for made in getattr(r, "layers", ()))), None)
    built, mine = {}, set()
    for made in getattr(owner, "layers", ()):
        built[id(made.call)] = built.get(id(made.call), 0) + 1
        mine.add(id(made))
    once = built.get(id(layer.call)) == 1
    passed = once and isinstance(at, cst.BaseExpression) and at is not layer.call
    old = at if passed else argument_node(layer, param)
    site = at if passed else layer.call
    terms = size_terms(run, tensor, axis)
    module = getattr(getattr(run, "file", None), "module", None)
    if old is not None and terms and D.product([t.value for t in terms]) == got and once:
        texts, traced = [], 0
        # a factor 1 written as a number says nothing (an AdaptiveAvgPool2d(1) before the flatten)
        kept = [t for t in terms if not (t.value == 1 and (t.node is None or isinstance(t.node, cst.Integer)))]
        terms = kept or terms[:1]
        for t in terms:
            node = _written_at(t, owner, built, mine, module, site)
            if node is not None:
                text = _factor_text(node) if len(terms) > 1 or t.scale != 1 else code_of(node)
                texts.append(f"{t.scale} * {text}" if t.scale != 1 else text)
                traced += 1
            else:
                texts.append(str(t.value))
        text = " * ".join(texts)
        if traced and "#" not in text and "\n" not in text:      # one line, no comment copied from elsewhere
            new = _cst().parse_expression(text)
            return Fix(f"set {param}={text}", _safe(old, new, traced == len(terms)), [(old, new)])
    factors = [f for f in flattened_factors(run, tensor) or () if f != 1]
    return set_argument(layer, param, got, factors if len(factors) > 1 else None, old=old)


def _written_at(t, owner, built, mine, module, site):
    """The expression that wrote the size of term `t` and means the same at `site`: the producing layer's own
    argument (`ndf * 4`), or, for a size passed down to it (`nn.Conv2d(cin, cout)` in a block), the caller's
    argument it was passed as (`ConvBlock(width * 2, width * 4)`), when that call made this one layer; else None."""
    cst = _cst()
    if t.node is None or id(t.layer) not in mine:
        return None
    if built.get(id(t.call)) == 1 and _in_scope(module, t.node, t.call, site):
        return t.node
    for place, _ in t.layer.written.get(t.param, ()) if t.param is not None else ():
        if not isinstance(place, cst.BaseExpression):
            break
        through = sum(1 for made in owner.layers if _site_node(made.call) is _site_node(t.call) and
                      any(p is place for p, _ in made.written.get(t.param, ())))
        if through == 1 and _in_scope(module, place, place, site):
            return place
    return None


def _site_node(call):
    """The node of a constructor call, in this module or another (a ForeignSite)."""
    return call.node if isinstance(call, ForeignSite) else call


def _safe(old, new, traced):
    """A fix written in the names of the dataflow is safe; one that writes numbers in place of the user's names
    changes the model for their other values."""
    before, after = _reads(old), _reads(new)
    if _literal_only(old):
        return True
    if traced:
        return bool(after)
    return before is not None and before <= after


def drop_sequential_layer(runs, layer, description):
    """An unsafe Fix that removes `layer` from the `nn.Sequential(...)` it is written in as an argument (the
    Softmax ending a classifier), keeping the layout of the lines around it; None when it was written elsewhere.
    `runs`: the runs of the file (the Sequential may have been built by another one: a module-level model)."""
    run = runs[0]
    cst = _cst()
    from .extract.imports import dotted
    call = layer.call
    module = getattr(getattr(run, "file", None), "module", None)
    if not isinstance(call, cst.Call) or module is None:
        return None
    parents = _parents(module)
    arg = parents.get(id(call))
    seq = parents.get(id(arg))
    if not isinstance(arg, cst.Arg) or arg.keyword is not None or arg.star or not isinstance(seq, cst.Call) or \
            (dotted(seq.func) or "").rsplit(".", 1)[-1] != "Sequential" or len(seq.args) < 2 or \
            any(a.star or a.keyword is not None for a in seq.args):
        return None
    if not any(made.kind == "torch.nn.Sequential" and made.call is seq and
               any(child is layer for child in made.children.values()) for other in runs for made in other.layers):
        return None
    k = next(i for i, a in enumerate(seq.args) if a is arg)

    def drop(updated):
        args = list(updated.args)
        if k == len(args) - 1:
            # the previous argument ends as the last one did (its comma or none, the line break before the `)`),
            # keeping its own comment
            comma, before = args[k].comma, args[k - 1].comma
            if isinstance(comma, cst.Comma) and isinstance(before, cst.Comma) and \
                    isinstance(comma.whitespace_after, cst.ParenthesizedWhitespace) and \
                    isinstance(before.whitespace_after, cst.ParenthesizedWhitespace):
                comma = comma.with_changes(whitespace_after=comma.whitespace_after.with_changes(
                    first_line=before.whitespace_after.first_line))
            args[k - 1] = args[k - 1].with_changes(comma=comma)
        del args[k]
        return updated.with_changes(args=args)
    return Fix(description, False, [(seq, drop)])

"""Building fixes: new argument values written in the user's style, at the node the user wrote them.

A fix that sets a constructor argument is *safe* only when the argument was written with literals
(`16 * 5 * 5`): replacing a variable (`hidden_dim`) would change the model for every other configuration.
"""

from __future__ import annotations

from .diagnostics import Fix
from .shapes import dims as D
from .shapes.keras_layers import KERAS_LAYERS
from .shapes.torch_layers import LAYERS
from .values import Tensor


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


def set_argument(layer, param, value, factors=None, what=None):
    """A Fix that sets `param` of `layer` to the int `value`, or None when the argument cannot be found."""
    import libcst as cst
    old = argument_node(layer, param)
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

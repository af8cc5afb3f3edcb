"""Building fixes: new argument values written in the user's style, at the node the user wrote them.

A fix that sets a constructor argument is *safe* only when the argument was written with literals
(`16 * 5 * 5`): replacing a variable (`hidden_dim`) would change the model for every other configuration.
"""

from __future__ import annotations

from .diagnostics import Fix
from .shapes import dims as D
from .shapes.torch_layers import LAYERS
from .values import Tensor


def argument_node(layer, param):
    """The CST expression the user wrote for a constructor parameter, or None."""
    import libcst as cst  # here, not at the top: loading the rules must not load LibCST (cached runs)
    call = layer.call
    spec = LAYERS.get(layer.kind)
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

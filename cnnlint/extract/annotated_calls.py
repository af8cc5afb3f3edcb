"""The evaluator's part of shape annotations: what a parameter, a return value or an annotated assignment is said to
be becomes a fact of the call.

Each annotated tensor passes through a graph node (``annotation.argument``, ``annotation.return``,
``annotation.assign``) that keeps the spec and what the match requires; rules CNN113 and CNN114 judge those
requirements. The tensor that flows on is the one that arrived, completed by the annotation where it was unknown
(a named size bound earlier, a fixed size), so that the code after it is checked against what the user wrote.
"""

from __future__ import annotations

import libcst as cst

from ..shapes import annotated as A
from ..shapes.annotated import ARGUMENT, ASSIGN, RETURN
from ..values import UNKNOWN, Tensor


class AnnotationsMixin:
    """Needs `self.file.annotations` (an AnnotationReader), `self.run` and `self.shape_envs` (one dict of bindings
    per function call being evaluated; the module's at the bottom)."""

    def fresh_symbol(self, name):
        """A new symbol for a size named `name` in an annotation: the name itself unless this run already has it."""
        solver = self.run.solver
        candidate = name
        while candidate in solver.lower:
            candidate += "'"
        return solver.symbol(candidate)

    def bind_parameters(self, fdef, local, call, offset, env):
        """Check and complete the tensors bound to annotated parameters; `offset`: arguments the call did not write
        (a bound `self`)."""
        reader = self.file.annotations
        params = fdef.params
        positional = list(params.posonly_params) + list(params.params)
        for position, param in enumerate(positional + list(params.kwonly_params)):
            if param.annotation is None:
                continue
            name = param.name.value
            value = local.get(name)
            if not isinstance(value, Tensor):
                continue
            spec = reader.spec(param.annotation)
            if spec is None:
                continue
            where = _argument_node(call, name, position - offset if position < len(positional) else None)
            local[name] = self.apply_annotation(ARGUMENT, spec, value, env, where, subject=name,
                                                function=fdef.name.value, annotation=param.annotation.annotation)

    def check_return(self, fdef, result, env):
        if fdef.returns is None:
            return result
        if type(result) is tuple:
            return self._check_tuple_return(fdef, result, env)
        if not (result is UNKNOWN or isinstance(result, Tensor)):
            return result
        spec = self.file.annotations.spec(fdef.returns)
        if spec is None:
            return result
        if result is UNKNOWN:
            # what the body did is not known; what the function returns is what its annotation says
            shape = A.instantiate(spec, env, self.fresh_symbol)
            return self.run.record(RETURN, {"spec": spec}, Tensor(shape, dtype=spec.dtype), None)
        return self.apply_annotation(RETURN, spec, result, env, fdef.returns.annotation, function=fdef.name.value)

    def _check_tuple_return(self, fdef, result, env):
        specs = self.file.annotations.tuple_specs(fdef.returns)
        if specs is None or len(specs) != len(result):
            return result
        nodes = [e.slice.value for e in fdef.returns.annotation.slice]      # each element's own annotation
        return tuple(
            self.apply_annotation(RETURN, spec, value, env, node, function=fdef.name.value, element=i)
            if spec is not None and isinstance(value, Tensor) else value
            for i, (spec, value, node) in enumerate(zip(specs, result, nodes)))

    def annotate_assignment(self, small, value):
        """`y: Float[Tensor, "b 10"] = f(x)`: the value is checked against the annotation, then completed by it."""
        if not isinstance(value, Tensor):
            return value
        spec = self.file.annotations.spec(small.annotation)
        if spec is None:
            return value
        subject = small.target.value if isinstance(small.target, cst.Name) else None
        # inside a function its names are the call's; at module level each statement has its own
        env = self.shape_envs[-1] if len(self.shape_envs) > 1 else {}
        return self.apply_annotation(ASSIGN, spec, value, env, small.annotation.annotation, subject=subject)

    def apply_annotation(self, op, spec, value, env, where, **about):
        if value is self.run.probe:
            return value                # a probe run (Run.probe) passes its input on as it is
        binding = A.bind(spec, value.shape, env, self.fresh_symbol)
        shape = value.shape if binding.rank is not None else binding.shape
        out = Tensor(shape, dtype=value.dtype or spec.dtype, param=value.param)
        return self.run.record(op, {"input": value, "spec": spec, "binding": binding, **about}, out, where)


def _argument_node(call, name, index):
    """The argument expression of `call` that a parameter received, else the call itself."""
    if not isinstance(call, cst.Call):
        return call
    positional = []
    for arg in call.args:
        if arg.keyword is not None:
            if arg.keyword.value == name:
                return arg.value
        elif arg.star:
            break                       # *args: the positions after it are not known
        else:
            positional.append(arg.value)
    if index is not None and 0 <= index < len(positional):
        return positional[index]
    return call

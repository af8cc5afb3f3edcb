"""`cnnlint shapes`: per-layer shapes and parameter counts of each model run, as torchinfo would print them,
computed from the source alone."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import values as V
from .shapes import dims as D
from .shapes.keras_layers import keras_parameter_count
from .shapes.torch_params import parameter_count


def call_parameters(call):
    layer = call.layer
    if layer is None:
        return None
    if call.parts is not None:
        return composite_parameters(call)
    if layer.kind.startswith("keras."):
        return keras_parameter_count(layer, call.input_shape)
    return parameter_count(layer)


def composite_parameters(call):
    """A Keras layer made of layers: the parameters of the layers called inside it, each counted once, and its
    own weights (add_weight) if it is a user layer."""
    inner = distinct_parameters(call.parts)
    own = own_weights(call.layer) if isinstance(call.layer, V.Instance) else 0
    return None if inner is None or own is None else inner + own


def distinct_parameters(calls):
    """The parameters of the layers these calls ran, each layer counted once (a shared layer holds one set)."""
    counts = {id(c.layer): call_parameters(c) for c in calls}
    return None if None in counts.values() else sum(counts.values())


def own_weights(instance):
    """The elements of the parameter tensors an instance holds itself (nn.Parameter, Keras add_weight)."""
    total = 0
    for value in instance.attrs.values():
        if isinstance(value, V.Tensor) and value.param:
            n = D.product(value.shape) if value.shape is not None else None
            if not isinstance(n, int):
                return None
            total += n
    return total


@dataclass
class Row:
    name: str
    type: str
    line: int | None
    output_shape: tuple | None          # dims as ints and strings ("N", "(H - 4)//2"); None when unknown
    params: int | None


@dataclass
class ModelSummary:
    name: str
    inputs: list                        # input shapes as tuples of ints/strings
    source: str                         # where the input came from
    rows: list = field(default_factory=list)
    total_params: int | None = None
    constraints: list = field(default_factory=list)     # "fc1: H in 32..35"
    graph: object = None                # (run graph, first node, last node) for the picture
    complete: bool = True


def plain(shape):
    if shape is None:
        return None
    return tuple(d if isinstance(d, int) else ("?" if d is None else d.key()) for d in shape)


def total_parameters(root):
    """Every parameter of the model, each module counted once (shared modules too), as model.parameters() does."""
    seen = set()
    total = 0

    def walk(module):
        nonlocal total
        if id(module) in seen or total is None:
            return
        seen.add(id(module))
        if isinstance(module, V.Instance):
            own = own_weights(module)
            if module.base is not None:      # a subclass of a torch layer holds that layer's weights
                base = parameter_count(module.base)
                own = own + base if own is not None and base is not None else None
            total = total + own if own is not None and total is not None else None
            children = module.modules.values()
        elif module.children or module.kind.endswith(("Sequential", "ModuleList", "ModuleDict")):
            if module.args.get("__opaque__"):
                total = None
                return
            children = module.children.values()
        else:
            n = parameter_count(module)
            total = total + n if n is not None and total is not None else None
            return
        for child in children:
            if V.is_module(child):
                walk(child)
            elif child is V.UNKNOWN:
                total = None

    walk(root)
    return total


def _ranges(values):
    values = sorted(values)
    if len(values) == 1:
        return f"= {values[0]}"
    if values == list(range(values[0], values[-1] + 1)):
        return f"in {values[0]}..{values[-1]}"
    return "in {" + ", ".join(map(str, values[:6])) + (", ..." if len(values) > 6 else "") + "}"


def constraints(solver):
    """What each accepted check implies about the input: '`fc1`: Linear needs H in 32..35' or, for H and W
    together, the square sizes that fit and how many other pairs do."""
    out = []
    for fact, label in zip(solver.facts, solver.labels):
        found = solver.solutions(fact, 0, limit=2000)
        if not found:
            continue
        names = sorted({k for s in found for k in s})
        who = label or "a check"
        if len(names) == 1:
            out.append(f"{who} needs {names[0]} {_ranges({s[names[0]] for s in found})}")
        elif names == ["H", "W"]:
            square = {s["H"] for s in found if s["H"] == s["W"]}
            others = len(found) - len(square)
            text = f"{who} needs H = W {_ranges(square)}" if square else f"{who} constrains H and W"
            out.append(text + (f" (or one of {others} other H x W pairs)" if others else ""))
        else:
            out.append(f"{who} holds for {len(found)} combinations of {', '.join(names)}")
    return out


def summarize(result, positions):
    """ModelSummary per model run of a FileResult kept with its analysis."""
    out = []
    seen = set()
    for run in result.analysis.model_runs:
        key = (run.name, tuple(map(str, run.input_shapes)))
        if key in seen:
            continue
        seen.add(key)
        summary = ModelSummary(run.name, [plain(s) for s in run.input_shapes], run.source, complete=run.complete)
        for call in run.calls:
            start, _ = positions.of(call.node) if call.node is not None else (None, None)
            summary.rows.append(Row(call.name, call.type, start[0] if start else None, plain(call.output_shape),
                                    call_parameters(call)))
        if run.root is not None and not V.is_keras(run.root):
            summary.total_params = total_parameters(run.root)
        else:   # a Keras model: the layers it calls (and so builds), each counted once
            summary.total_params = distinct_parameters(run.calls)
        summary.constraints = constraints(run.run.solver) if run.run is not None else []
        summary.graph = (run.run.graph, run.first_node, run.last_node) if run.run is not None else None
        out.append(summary)
    return out

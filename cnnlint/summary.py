"""`cnnlint shapes`: per-layer shapes, parameter counts and mult-adds of each model run, as torchinfo would print
them, computed from the source alone; the rows where a check fails carry their findings."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import values as V
from .shapes import dims as D
from .shapes.common import ntuple
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
        # an nn.ParameterList / ParameterDict is evaluated as the list / dict of its parameters
        held = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else [value]
        for item in held:
            if isinstance(item, V.Tensor) and item.param:
                n = D.product(item.shape) if item.shape is not None else None
                if not isinstance(n, int):
                    return None
                total += n
    return total


# torch layers made of sub-modules: torchinfo counts the mult-adds of the leaf modules their forward calls
# (Linear, LayerNorm, Dropout), not of a MultiheadAttention (its out_proj is used as a weight, never called)
TORCH_COMPOSED = {"MultiheadAttention", "TransformerEncoderLayer", "TransformerDecoderLayer", "TransformerEncoder",
                  "TransformerDecoder", "Transformer"}


def _attention_parameters(layer):
    from .shapes.common import as_int
    e, b = as_int(layer.arg("d_model")), layer.args.get("bias", True)
    return None if e is None or b not in (True, False) else 4 * e * e + (4 * e if b else 0)


def _composed_leaf_parameters(layer):
    """The parameters of the leaf modules a Transformer layer (or stack) calls: all but its attentions'."""
    if layer.type_name == "MultiheadAttention":
        return 0
    if layer.type_name in ("TransformerEncoderLayer", "TransformerDecoderLayer"):
        total, attention = parameter_count(layer), _attention_parameters(layer)
        if total is None or attention is None:
            return None
        return total - attention * (2 if layer.type_name == "TransformerDecoderLayer" else 1)
    from .shapes.common import as_int
    inner = layer.args.get("encoder_layer", layer.args.get("decoder_layer"))
    count = as_int(layer.arg("num_layers"))
    norm = layer.args.get("norm")
    each = _composed_leaf_parameters(inner) if hasattr(inner, "args") else None
    extra = parameter_count(norm) if hasattr(norm, "args") else 0
    return None if each is None or count is None or extra is None else each * count + extra
# torch layers whose parameters are not named `weight` / `bias` (weight_ih_l0, ...): torchinfo multiplies them by
# the first two output sizes
TORCH_RECURRENT = {"RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"}
KERAS_RECURRENT = {"SimpleRNN", "LSTM", "GRU", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "Bidirectional", "RNN"}


def mult_adds(call, params):
    """Multiply-accumulates of one layer call, defined as torchinfo defines them (LayerInfo.calculate_macs),
    batch included: for each parameter tensor named `weight` or `bias`, its size times the output's spatial
    elements for a conv (batch and every axis after the channels) and times the batch size for any other layer;
    for RNN weights (`weight_ih_l0`, ...) times the first two output sizes. Keras layers the same way, channels
    last (a Conv2D's output without its channel axis; an RNN over its input's batch and steps; a
    BatchNormalization's trainable half, as torch has no moving statistics among its parameters). An int, a
    symbolic size, or None when a size it needs is unknown."""
    layer, out = call.layer, call.output_shape
    if layer is None:
        return None
    if call.parts is not None:
        total = 0
        for part in call.parts:
            if part.parts is not None and not part.parts:
                continue            # a user layer's own weights: no output shape of their own to count them on
            n = mult_adds(part, call_parameters(part))
            if n is None:
                return None
            total = D.add(total, n)
        return total
    if params is None:
        return None
    if params == 0:
        return 0
    if out is None or any(d is None for d in out) or not out:
        return None
    name = layer.type_name
    if layer.kind.startswith("keras."):
        if name in KERAS_RECURRENT:
            shape = call.input_shape
            if shape is None or len(shape) < 2 or any(d is None for d in shape[:2]):
                return None
            factor = D.product(shape[:2])
        elif "Conv" in name:
            factor = D.product(out[:-1])
        else:
            factor = out[0]
        if name == "BatchNormalization":
            params //= 2
        return D.mul(params, factor)
    if name in TORCH_COMPOSED:
        leaves = _composed_leaf_parameters(layer)
        return None if leaves is None else D.mul(leaves, out[0])
    if name in TORCH_RECURRENT:
        factor = D.product(out[:2])
    elif "Conv" in name:
        factor = D.product(out[:1] + out[2:])
    else:
        factor = out[0]
    return D.mul(params, factor)


def kernel(layer):
    """A conv or pool layer's kernel size as a tuple, or None."""
    if layer is None or not hasattr(layer, "args"):
        return None
    value = layer.args.get("kernel_size", layer.args.get("pool_size"))
    if value is None or value is V.UNKNOWN:
        return None
    digits = [c for c in layer.type_name if c.isdigit()]
    n = int(digits[-1]) if digits else (len(value) if isinstance(value, (list, tuple)) else 1)
    dims = ntuple(value, n)
    return None if None in dims else tuple(d if isinstance(d, int) else D.show(d) for d in dims)


@dataclass
class Row:
    name: str
    type: str
    line: int | None
    output_shape: tuple | None          # dims as ints and strings ("N", "(H - 4)//2"); None when unknown
    params: int | None
    mult_adds: object = None            # int, a symbolic size's text, or None when unknown
    kernel: tuple | None = None
    connected_to: list = field(default_factory=list)    # the rows (or "input") whose outputs it reads
    findings: list = field(default_factory=list)        # Diagnostics of the checks that fail at this row
    layer: bool = True                  # False: a tensor operation (view, cat, +), listed where a check fails

    @property
    def failed(self):
        return any(d.severity == "error" for d in self.findings)


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
    path: str = ""
    aliases: list = field(default_factory=list)         # variables bound to the model (`model = Net()`)
    total_mult_adds: object = None
    findings: list = field(default_factory=list)        # findings in the model no row stands for
    also_run: list = field(default_factory=list)        # (inputs, source) of its other runs, not shown

    @property
    def failed(self):
        return any(r.failed for r in self.rows) or any(d.severity == "error" for d in self.findings)

    @property
    def merges(self):
        """Whether some row reads another row than the one before it (a merge, a skip): the dataflow is not a
        chain, and a "Connected to" column says more than the order of the rows."""
        previous = "input"
        for row in self.rows:
            if row.layer:
                if row.connected_to and row.connected_to != [previous]:
                    return True
                previous = row.name
        return False


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
        if isinstance(module, V.Either):
            counts = {0 if alt is None else total_parameters(alt) for alt in module.alternatives}
            n = counts.pop() if len(counts) == 1 else None    # one of them: known when they agree
            total = total + n if n is not None and total is not None else None
            return
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


# which input a table shows when a model was run several times: the one the user gave, else the most concrete
SOURCE_RANK = {"input": 0, "comment": 1, "keras-input": 1, "example": 2, "annotation": 3, "dataset": 4, "guess": 5}


def is_loss(run):
    """A loss object called on tensors (`criterion(out, y)`): a function of the training script, not a model."""
    root = run.root
    return isinstance(root, V.Layer) and root.type_name.endswith("Loss")


def _aliases(run):
    """Variables bound to the model a run called: the module's (`model = Net()`, `model = keras.Model(...)`) and
    the name it was called by (`net(x)` inside `def main():`)."""
    import libcst as cst
    names = []
    for name, value in (run.run.file.globals.items() if run.run is not None else ()):
        if (run.root is not None and value is run.root) or (
                isinstance(value, V.Layer) and value.args.get("__run__") is run):
            names.append(name)
    call = getattr(run, "call", None)
    if isinstance(call, cst.Call) and isinstance(call.func, cst.Name) and call.func.value not in names:
        names.append(call.func.value)
    return [n for n in names if n != run.name]


def summarize(result, positions, text=None, selection=None):
    """One ModelSummary per model of a FileResult kept with its analysis (`lint_text(..., keep_analysis=True)`):
    of a model run several times, the run on the input the user gave, else on the most concrete one."""
    groups: list = []           # [(keys, runs)]: runs sharing a name or a constructor call are one model
    for run in result.analysis.model_runs:
        if is_loss(run):
            continue
        keys = _model_keys(run)
        joined = [g for g in groups if g[0] & keys]
        if not joined:
            groups.append((keys, [run]))
            continue
        first = joined[0]            # the model keeps its place in the order; groups it bridges join it
        first[0].update(keys)
        first[1].append(run)
        for g in joined[1:]:
            groups.remove(g)
            first[0].update(g[0])
            first[1].extend(g[1])
    out = []
    for _, runs in groups:
        best = min(runs, key=lambda r: SOURCE_RANK.get(r.source, 9))
        summary = _summarize_run(best, result, positions, text, selection)
        seen = {tuple(map(str, best.input_shapes))}
        for other in runs:
            key = tuple(map(str, other.input_shapes))
            if key not in seen:
                seen.add(key)
                summary.also_run.append(([plain(s) for s in other.input_shapes], other.source))
        out.append(summary)
    return out


def _model_keys(run):
    """What makes runs one model: the same name, or a root built by the same constructor call with the same layers
    (a script's `model = build_model()` then `model.fit(X)`, and `build_model()` run as a builder). A constructor
    call building different layers (`make(5)` and `make(7)`) is two models."""
    site = getattr(run.root, "call", None)
    if site is None:
        return {run.name}
    return {run.name, (id(site), tuple((c.type, call_parameters(c)) for c in run.calls))}


def _summarize_run(run, result, positions, text, selection):
    summary = ModelSummary(run.name, [plain(s) for s in run.input_shapes], run.source, complete=run.complete,
                           path=result.path, aliases=_aliases(run))
    graph = run.run.graph if run.run is not None else None
    owner = {}                  # graph node -> the row that stands for it
    macs = []
    for call in run.calls:
        start, _ = positions.of(call.node) if call.node is not None else (None, None)
        params = call_parameters(call)
        n = mult_adds(call, params)
        macs.append(n)
        row = Row(call.name, call.type, start[0] if start else None, plain(call.output_shape), params,
                  n if isinstance(n, int) or n is None else D.show(n), kernel(call.layer))
        row.node = call.graph_node
        if call.parts is not None and run.run is not None:
            # a Keras layer made of layers: every op recorded inside its call is its own
            for comp in run.run.composite_calls:
                if comp.layer is call.layer and comp.start <= call.graph_node < comp.end:
                    for n in range(comp.start, comp.end):
                        owner.setdefault(n, row)
                    break
        for part in call.parts or ():
            owner.setdefault(part.graph_node, row)
        for n in range(call.start if call.start is not None else call.graph_node, call.graph_node):
            owner.setdefault(n, row)
        owner[call.graph_node] = row
        summary.rows.append(row)
    if None not in macs:
        total = sum_dims(macs)
        summary.total_mult_adds = total if isinstance(total, int) else D.show(total)
    if run.root is not None and not V.is_keras(run.root):
        summary.total_params = total_parameters(run.root)
    else:   # a Keras model: the layers it calls (and so builds), each counted once
        summary.total_params = distinct_parameters(run.calls)
    summary.constraints = constraints(run.run.solver) if run.run is not None else []
    summary.graph = (graph, run.first_node, run.last_node) if run.run is not None else None
    if graph is not None:
        _attach_findings(summary, run, result, positions, text, selection, owner)
        _connect(summary, run, graph, owner)
    for row in summary.rows:
        row.__dict__.pop("node", None)
    return summary


def sum_dims(values):
    total = 0
    for v in values:
        total = D.add(total, v)
    return total


def _attach_findings(summary, run, result, positions, text, selection, owner):
    """The findings of the run that happened inside this model: on the row of the layer that fails, on a row
    of its own for a tensor operation (a view, a cat), else on the row of the layer whose constructor is
    flagged."""
    from .lint import Selection, to_diagnostics
    from .rulekit import describe_op
    graph = run.run.graph
    selection = selection or Selection()
    text = text if text is not None else result.module.code
    constructed = {}
    for call in run.calls:
        if call.layer is not None and getattr(call.layer, "call", None) is not None:
            constructed.setdefault(id(call.layer.call), owner[call.graph_node])
    inserted = []
    for finding in getattr(run.run, "findings", ()):
        gid = finding.gid
        inside = gid is not None and run.first_node <= gid < run.last_node and gid in graph
        if not inside and id(finding.node) not in constructed:
            continue
        found, _ = to_diagnostics(result.module, text, result.path, [finding], selection, positions)
        if not found:
            continue            # # noqa
        diagnostic = found[0]
        if inside and gid in owner:
            _add_finding(owner[gid], diagnostic)
        elif inside:
            data = graph.nodes[gid]
            output = data["output"]
            first = output[0] if isinstance(output, tuple) and output else output
            label = describe_op(data)
            row = Row("", "Tensor" + label if label.startswith(".") else label, diagnostic.line,
                      plain(first.shape) if isinstance(first, V.Tensor) else None, None, None, None)
            row.node = gid
            row.layer = False
            row.findings.append(diagnostic)
            inserted.append(row)
        else:
            _add_finding(constructed[id(finding.node)], diagnostic)
    for row in sorted(inserted, key=lambda r: r.node):
        at = next((i for i, r in enumerate(summary.rows) if r.node > row.node), len(summary.rows))
        summary.rows.insert(at, row)


def _add_finding(row, diagnostic):
    """A finding on a row, once: a model called again (in a loop) fails the same check again."""
    key = (diagnostic.line, diagnostic.column, diagnostic.code, diagnostic.message)
    if all((d.line, d.column, d.code, d.message) != key for d in row.findings):
        row.findings.append(diagnostic)


def _tensors(value, depth=0):
    if isinstance(value, V.Tensor):
        yield value
    elif isinstance(value, (list, tuple)) and depth < 2:
        for v in value:
            yield from _tensors(v, depth + 1)
    elif isinstance(value, dict) and depth < 1:
        for v in value.values():
            yield from _tensors(v, depth + 1)


def _connect(summary, run, graph, owner):
    """Each layer row's sources, as Keras' summary gives them: for each tensor the call reads, in argument
    order, the row that produced it (or `input`), looking through the tensor operations between rows."""
    from .rulekit import describe_op

    def read(nodes):
        """The graph nodes of the tensors these nodes read from outside them, in argument order."""
        out = []
        for n in sorted(nodes):
            for t in _tensors(graph.nodes[n]["args"]):
                if t.node is not None and t.node not in nodes and t.node in graph:
                    out.append(t.node)
        return out

    def label(n, seen):
        if n in owner:
            return [owner[n].name or owner[n].type]
        if n < run.first_node or graph.nodes[n]["op"] in ("input", "keras.Input"):
            return ["input"]
        if n in seen:
            return []
        seen.add(n)
        found = []
        for m in read({n}) or ():
            found += [x for x in label(m, seen) if x not in found]
        return found or [describe_op(graph.nodes[n])]

    rows = {}
    for n, row in owner.items():
        rows.setdefault(id(row), set()).add(n)
    for row in summary.rows:
        if row.layer:
            own = rows.get(id(row), set())
            sources = read(own)
            if len(own) > 1:
                # a layer made of layers: what its inner ops read from outside, once each, in the order those
                # tensors were made (its own arguments are not kept)
                sources = sorted(set(sources))
            row.connected_to = [x for n in sources for x in label(n, set())]

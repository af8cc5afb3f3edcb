"""The dataflow graph of one analysis run, built as the evaluator walks forward (and any script code).

Every tensor op becomes a node of a networkx DiGraph with its op name (``torch.nn.Linear``, ``Tensor.view``,
``operator.add``), its bound arguments, its output and the CST node of the call; edges go from the op that
produced an input tensor to the op that consumes it. The rules read this graph; the chain of a finding is a walk
back along its edges.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import networkx as nx

from . import values as V
from .extract.domain import BudgetExceeded, PList, ProbeHit, join
from .extract.evaluator import Interpreter
from .shapes.solve import Solver
from .shapes.keras_layers import KERAS_BUILD_SUBLAYERS, KERAS_LAYERS
from .shapes import functions as FN
from .shapes.torch_layers import CONTAINERS, LAYERS, PROBE_TRANSPARENT_LAYERS, SEQUENTIALS
from .values import UNKNOWN, Tensor

STEP_BUDGET = 400_000     # evaluator steps one run may take
SUBCLASS_CALL = "module.subclass_forward"    # a call of a layer subclass that runs its own forward


@dataclass
class LayerCall:
    name: str
    type: str
    output_shape: Optional[tuple]
    node: object            # CST call node (position resolved on demand)
    graph_node: int
    layer: object = None
    input_shape: Optional[tuple] = None      # Keras counts parameters from the width that arrives
    parts: Optional[list] = None             # a Keras layer made of layers: the calls inside it (its parameters)
    start: Optional[int] = None              # a layer subclass's own forward: the first graph node recorded in it


@dataclass
class CompositeCall:
    """A call of a Keras layer made of layers (a Sequential, a user Layer or Model subclass): graph nodes
    [start, end) were recorded inside it. A functional model lists it as one layer, as Keras does."""

    layer: object
    cst: object
    start: int
    end: int
    output: object


@dataclass
class ModelRun:
    """One top-level call of a model: its name, its inputs, and the leaf-module calls in execution order."""

    name: str
    input_shapes: list
    source: str                       # "comment" | "example" | "annotation" | "dataset" | "guess"
    calls: list = field(default_factory=list)
    complete: bool = True
    root: object = None               # the module that was called
    first_node: int = 0               # graph nodes [first_node, last_node) were recorded during this call
    last_node: int = 0
    output_nodes: list = field(default_factory=list)    # graph nodes of the tensors the model returns
    run: object = field(default=None, repr=False)
    call: object = field(default=None, repr=False)      # the CST call that ran it (`model(x)`), when there is one


def _in_place(op):
    """An op that changes its input tensor itself: `x.unsqueeze_(1)`, `x.copy_(y)`."""
    name = op.rsplit(".", 1)[-1]
    return name.endswith("_") and not name.endswith("__")


def _keras_composite(module):
    """A Keras Sequential or functional model, or an instance of a user Keras Layer/Model subclass."""
    if isinstance(module, V.Layer):
        return module.kind in ("keras.Sequential", "keras.Model")
    return V.is_keras(module)


def _tensors_in(value, depth=0):
    if isinstance(value, Tensor):
        yield value
    elif isinstance(value, (list, tuple)) and depth < 2:
        for v in value:
            yield from _tensors_in(v, depth + 1)
    elif isinstance(value, dict) and depth < 1:
        for v in value.values():
            yield from _tensors_in(v, depth + 1)


_SPATIAL = ("conv", "maxpool", "avgpool", "lppool", "max_pool", "avg_pool", "lp_pool", "averagepool",
            "separableconv", "depthwiseconv", "cropping")


def _sanitize(value, spatial):
    if isinstance(value, Tensor) and value.shape is not None:
        bad = [d for d in value.shape if isinstance(d, int) and (d < 0 or (spatial and d == 0))]
        if bad:
            return Tensor(tuple(None if d in bad else d for d in value.shape), dtype=value.dtype)
        return value
    if isinstance(value, tuple) and type(value) is tuple:
        return tuple(_sanitize(v, spatial) for v in value)
    return value


def assign_paths(root):
    """Names as torch's named_modules() gives them: registration order, first name wins for shared modules."""
    seen = set()

    def walk(module, prefix):
        if id(module) in seen:
            return
        seen.add(id(module))
        module.path = prefix
        if isinstance(module, V.Either):
            for alt in module.alternatives:
                if alt is not None:
                    seen.discard(id(alt))
                    walk(alt, prefix)
            return
        children = module.modules if isinstance(module, V.Instance) else module.children
        for name, child in children.items():
            if V.is_module(child):
                walk(child, f"{prefix}.{name}" if prefix else str(name))

    walk(root, "")


class Run:
    """One analysis: an evaluator, its graph, its solver, the layers it built and the model calls it made."""

    def __init__(self, file_ctx, budget=STEP_BUDGET):
        self.file = file_ctx
        self.graph = nx.DiGraph()
        self.solver = Solver()
        self.layers: list = []
        self.steps = budget
        self.budget = budget
        self.model_runs: list = []
        self.current: Optional[ModelRun] = None
        # (CST Name, tensor, is_assignment) for every tensor a name held: for hovers and inlay hints only
        self.names: Optional[list] = [] if file_ctx.record_names else None
        self.keras_counts: dict = {}
        self.composite_calls: list = []
        self.findings: list = []             # the rules' findings on this run, cascades dropped (`cnnlint shapes`)
        self.keras_built: set = set()        # ids of user Keras layers whose build() has run
        self.effects = 0                     # changes of state so far (a call that makes none is pure)
        self.external = 0                    # ... of objects a constructor being remembered did not make
        self.probe = None                    # a probe run's input: the run ends when it reaches a layer (ProbeHit)
        self.pins = None                     # a probe run's {input size symbol: the constant an assert requires}
        self.probe_trailing = 0              # how many trailing axes of the input the ops before the probe's layer pad
        self.probe_past_ops = False          # a probe run goes on past ops that do not change its input in place
        # the rank of an input guessed from a first layer that takes any rank (a Linear: (N, F), or (N, L, F) and
        # (N, H, W, F) in the rival runs), whether this run made such a guess, and then how to make the rival runs
        # (analysis)
        self.guess_rank = 2
        self.rank_guessed = False
        self.rivals = ()
        self.interp = Interpreter(file_ctx, self)

    def tick(self):
        self.steps -= 1
        if self.steps < 0:
            raise BudgetExceeded()

    # -- recording ----------------------------------------------------------------------------------------------
    def record(self, op, bound, output, cst_node, layer=None, direct=True, called=None):
        """Add an op to the graph. The node keeps the raw output (a rule may judge it); what flows on has
        impossible sizes made unknown, so one collapse is reported once, not again by every layer after it.
        `op` is the table entry's canonical name (torch.zeros is recorded as torch.randn, `a * b` as
        operator.add); `called` is the name the code called, for messages."""
        passes = None
        if self.probe is not None and any(t is self.probe for t in _tensors_in(
                list(bound.values()) if isinstance(bound, dict) else bound)):
            # an op changes the input before any layer sees it, unless it takes any shape and keeps it (a
            # dropout, a scale to [0, 1], a cast; a pad changes only trailing axes, which the first layer is told):
            # the probe goes on from its output. With probe_past_ops, an op that makes another tensor of it leaves
            # the input as it is (`input_ids.size()`, position ids made from it): the first layer given the input
            # itself still names its shape
            main = next(iter(bound.values()), None) if isinstance(bound, dict) else None
            passes = (0 if layer is not None and layer.kind in PROBE_TRANSPARENT_LAYERS
                      else None if layer is not None else FN.probe_passes(called or op, bound))
            if passes is None or main is not self.probe or not isinstance(output, Tensor):
                passes = None
                if not self.probe_past_ops or _in_place(called or op):
                    raise ProbeHit(None)
        nid = self.graph.number_of_nodes()
        self.effects += 1
        self.external += 1
        self.graph.add_node(nid, op=op, args=bound, output=output, cst=self.interp.site(cst_node), layer=layer,
                            direct=direct, called=called or op)
        for t in _tensors_in(list(bound.values()) if isinstance(bound, dict) else bound):
            if t.node is not None and t.node != nid:
                self.graph.add_edge(t.node, nid)
        spatial = op.rsplit(".", 1)[-1].lower().startswith(_SPATIAL)
        if spatial:
            first = output[0] if isinstance(output, tuple) and output else output
            if isinstance(first, Tensor) and first.shape:
                # the input must be large enough for this op to run (Keras maps are channels-last: all but batch)
                for d in first.shape[1:] if op.startswith("keras.") else first.shape[2:]:
                    self.solver.require_positive(d)
        output = _sanitize(output, spatial=spatial)
        for t in _tensors_in(output):
            if t.node is None:
                t.node = nid
        if passes == 0:
            # it keeps the input as it is: the same probe goes on (a cast under an undecided `if pixel_values.dtype
            # != ...` then leaves the variable the probe on both paths)
            return self.probe
        if passes is not None:
            self.probe = output
            self.probe_trailing = max(self.probe_trailing, passes)
        return output

    # -- module calls -----------------------------------------------------------------------------------------------
    def start_model(self, module, args, name=None, source="example"):
        if not V.is_keras(module):
            assign_paths(module)          # Keras layers are named the Keras way, as they are constructed
        elif isinstance(module, V.Instance) and name is None:
            # a subclassed keras.Model: small_net for SmallNet, named when constructed
            name = module.path or self.keras_auto_name(module.type_name)
        shapes = [a.shape if isinstance(a, Tensor) else None for a in args]
        run = ModelRun(name or module.type_name, shapes, source, root=module,
                       first_node=self.graph.number_of_nodes(), run=self)
        for a in args:
            if isinstance(a, Tensor) and a.node is None:
                self.record("input", {}, a, None)       # the model's input, a node of its own in the picture
        self.model_runs.append(run)
        return run

    def call_module(self, interp, module, args, kwargs, node, skip_user_forward=False, name=None, source="example"):
        if isinstance(module, V.Either):
            return self._call_either(module, lambda alt: self.call_module(interp, alt, args, kwargs, node,
                                                                          skip_user_forward, name, source))
        if isinstance(module, V.Instance) and not module.cls.is_module_class():
            # a callable object of the user's (a Keras layer, a helper class): its own __call__, if we have it
            method, owner = module.cls.lookup("__call__")
            if hasattr(method, "body"):
                return interp.call_function(V.Function(method, owner, module), args, kwargs, node)
            return UNKNOWN
        # a model run starts at a top-level call of a torch module or a Keras Sequential; a single Keras layer
        # called in functional code is part of the keras.Model(inputs, outputs) it ends up in
        keras_layer = (isinstance(module, V.Layer) and module.kind.startswith("keras.") and module.kind not in
                       CONTAINERS) or (isinstance(module, V.Instance) and module.cls.keras_kind() == "layer")
        top = self.current is None and args and isinstance(args[0], Tensor) and not keras_layer
        if top:
            self.current = self.start_model(module, args, name, source)
            self.current.call = node
        try:
            result = self._call_module(interp, module, args, kwargs, node, skip_user_forward, True)
            if top:
                self.current.output_nodes = [t.node for t in _tensors_in(result) if t.node is not None]
            return result
        except BudgetExceeded:
            if top:
                self.current.complete = False
            raise
        finally:
            if top:
                self.current.last_node = self.graph.number_of_nodes()
                self.current = None

    def _call_either(self, module, call):
        """Each module it may be, on the same input; what they return, joined. A None it may be (`self.drop_path`
        when the rate may be 0, called under `if self.drop_path is not None`) returns nothing: calling it raises."""
        result = UNKNOWN
        self.interp.doubt += 1
        try:
            for i, alt in enumerate(a for a in module.alternatives if a is not None):
                out = call(alt)
                result = out if i == 0 else join(result, out)
        finally:
            self.interp.doubt -= 1
        return result

    def probed(self, layer, args):
        """In a probe run, a layer is called: the run ends, naming it when it receives the probe itself on a path
        the code surely takes."""
        if self.probe is not None:
            if args and args[0] is self.probe and layer.kind in PROBE_TRANSPARENT_LAYERS and not self.interp.doubt:
                return                # it keeps the input's shape, whatever it is: the probe goes on from its output
            raise ProbeHit(layer if args and args[0] is self.probe and not self.interp.doubt else None)

    def _call_module(self, interp, module, args, kwargs, node, skip_user_forward, direct):
        if isinstance(module, V.Either):
            return self._call_either(module, lambda alt: self._call_module(interp, alt, args, kwargs, node,
                                                                           skip_user_forward, direct))
        if not _keras_composite(module):
            return self._call_leaf_or_module(interp, module, args, kwargs, node, skip_user_forward, direct)
        if isinstance(module, V.Layer) and module.path is None:
            module.path = self.keras_name(module)
        start = self.graph.number_of_nodes()
        output = self._call_leaf_or_module(interp, module, args, kwargs, node, skip_user_forward, direct)
        self.composite_calls.append(CompositeCall(module, interp.site(node), start, self.graph.number_of_nodes(),
                                                  output))
        return output

    def keras_build(self, interp, module, args, node):
        """A user Keras layer's build(input_shape) runs before its first call, as Keras' __call__ runs it: the
        weights it adds are the layer's. Keras passes the shape with the batch (and every open size) as None."""
        if id(module) in self.keras_built:
            return
        self.keras_built.add(id(module))
        build, owner = module.cls.lookup("build")
        if not hasattr(build, "body") or not args:
            return

        def keras_shape_of(t):
            if not isinstance(t, Tensor) or t.shape is None:
                return UNKNOWN
            return tuple(None if i == 0 or not isinstance(d, int) else d for i, d in enumerate(t.shape))
        first = args[0]
        shape = PList(keras_shape_of(t) for t in first) if isinstance(first, (list, tuple)) else keras_shape_of(first)
        interp.call_function(V.Function(build, owner, module), [shape], {}, node)

    def _call_leaf_or_module(self, interp, module, args, kwargs, node, skip_user_forward, direct):
        if isinstance(module, V.Instance):
            if module.cls.keras_kind() is not None:
                self.keras_build(interp, module, args, node)
            forward, owner = module.cls.lookup(module.cls.call_method())
            assigned = module.attrs.get(module.cls.call_method())
            if isinstance(assigned, V.Function) and not skip_user_forward:
                # `self.forward = self.forward_split_cat` in __init__: the instance's attribute is what runs
                return interp.call_function(assigned, args, kwargs, node)
            if module.base is not None:
                own = forward if hasattr(forward, "body") else None
                return self._call_layer_subclass(interp, module, own, owner, args, kwargs, node, skip_user_forward,
                                                 direct)
            if forward is not None and not skip_user_forward and hasattr(forward, "body"):
                return interp.call_function(V.Function(forward, owner, module), args, kwargs, node)
            bases = {b.name for b in module.cls.external_bases()}
            if "torch.nn.Sequential" in bases:
                return self._run_sequential(interp, list(module.modules.values()), args, kwargs, node)
            return Tensor(None) if any(isinstance(a, Tensor) for a in args) else UNKNOWN
        if module.kind not in SEQUENTIALS and module.kind != "keras.Model":
            self.probed(module, args)
        if module.args.get("__opaque__") or module.args.get("__unknown__"):
            output = Tensor(None)
            if module.kind not in CONTAINERS:
                self._record_layer_call(module, args, kwargs, output, node, direct)
            return output
        if module.kind in SEQUENTIALS:
            return self._run_sequential(interp, list(module.children.values()), args, kwargs, node)
        if module.kind in CONTAINERS:
            return UNKNOWN
        if module.kind == "keras.Model":
            return self._replay_functional(interp, module, args, kwargs, node)
        spec = LAYERS.get(module.kind) or KERAS_LAYERS.get(module.kind)
        if module.kind in KERAS_BUILD_SUBLAYERS and not module.args.get("__built__"):
            module.args["__built__"] = True          # its first call builds it: its sub-layers take names
            for sublayer in KERAS_BUILD_SUBLAYERS[module.kind]:
                self.keras_auto_name(sublayer)
        try:
            output = spec.transfer(module, *args, **kwargs)
        except (TypeError, ValueError, ZeroDivisionError, IndexError, AttributeError, OverflowError):
            output = Tensor(None)
        return self._record_layer_call(module, args, kwargs, output, node, direct)

    def _call_layer_subclass(self, interp, module, forward, owner, args, kwargs, node, inner, direct):
        """A subclass of a torch layer (`class Conv2dSame(nn.Conv2d)`): without a forward of its own it is that
        layer, judged as it; with one (a LayerNorm2d that permutes before normalizing) what its forward does is
        judged, op by op. Either way one row of the table when it has no modules of its own (a leaf, as torch
        counts), holding the weights the layer's constructor made."""
        base = module.base
        base.path = module.path
        spec = LAYERS[base.kind]
        if inner or forward is None or ".Conv" in base.kind:
            # (a convolution's subclass takes what the convolution takes, whatever its forward does first: a
            # dynamic pad, a standardized weight)
            self.probed(base, args)
        start = self.graph.number_of_nodes()
        if inner or forward is None:
            try:
                output = spec.transfer(base, *args, **kwargs)
            except (TypeError, ValueError, ZeroDivisionError, IndexError, AttributeError, OverflowError):
                output = Tensor(None)
            if inner:
                # super().forward(x) inside its forward: judged as the layer, on what it receives there; the
                # outer call is the row
                return self._record_layer_call(base, args, kwargs, output, node, direct, row=False)
        else:
            result = interp.call_function(V.Function(forward, owner, module), args, kwargs, node)
            output = Tensor(result.shape, dtype=result.dtype) if isinstance(result, Tensor) else result
        if not isinstance(output, Tensor) and not isinstance(output, tuple):
            return output
        output = self._record_layer_call(base, args, kwargs, output, node, direct, row=not module.modules,
                                         type_name=module.type_name, op=None if forward is None else SUBCLASS_CALL)
        if forward is not None and self.current is not None and self.current.calls and \
                self.current.calls[-1].layer is base:
            self.current.calls[-1].start = start       # the ops of its forward are this row's
        return output

    def _run_sequential(self, interp, children, args, kwargs, node):
        if len(args) != 1 or kwargs:
            return Tensor(None)
        x = args[0]
        for child in children:
            if not V.is_module(child):
                return Tensor(None)
            x = self._call_module(interp, child, [x], {}, node, False, False)
        return x

    def _record_layer_call(self, layer, args, kwargs, output, node, direct, row=True, type_name=None, op=None):
        """Record a call of a layer; `op` (the layer's kind by default) is what the rules see it as."""
        spec = LAYERS.get(layer.kind) or KERAS_LAYERS.get(layer.kind)
        node = self.interp.site(node)
        if layer.kind.startswith("keras.") and layer.path is None:
            layer.path = self.keras_name(layer)
        names = spec.forward_params if spec is not None else ()
        bound = {}
        for i, a in enumerate(args):
            bound[names[i] if i < len(names) else f"arg{i}"] = a
        bound.update(kwargs)
        output = self.record(op or layer.kind, bound, output, node, layer=layer, direct=direct)
        if self.current is not None and row:
            first = output[0] if isinstance(output, tuple) and output else output
            shape = first.shape if isinstance(first, Tensor) else None
            first_in = args[0] if args else None
            self.current.calls.append(LayerCall(layer.path or "", type_name or layer.type_name, shape, node,
                                                self.graph.number_of_nodes() - 1, layer,
                                                first_in.shape if isinstance(first_in, Tensor) else None))
        return output

    # -- Keras ---------------------------------------------------------------------------------------------------
    def keras_name(self, layer):
        """The name Keras gives a layer when it is constructed: its name= argument, else an automatic one."""
        given = layer.args.get("name")
        return given if isinstance(given, str) else self.keras_auto_name(layer.type_name)

    def keras_auto_name(self, class_name):
        """snake_case of the class with a counter per name, as keras.backend.get_uid counts in one session."""
        import re
        self.external += 1
        base = re.sub(r"([a-z])([A-Z])", r"\1_\2", re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", class_name)).lower()
        count = self.keras_counts.get(base, 0)
        self.keras_counts[base] = count + 1
        return base if count == 0 else f"{base}_{count}"

    def keras_model(self, inputs, outputs, name=None, node=None):
        """keras.Model(inputs, outputs): a model run made of the layer calls between them, in the order they ran;
        returns the model as a layer that can be called on other tensors (its graph is replayed), or UNKNOWN."""
        ins = [t for t in (inputs if isinstance(inputs, (list, tuple)) else [inputs]) if isinstance(t, Tensor)]
        outs = [t for t in (outputs if isinstance(outputs, (list, tuple)) else [outputs]) if isinstance(t, Tensor)]
        if not ins or not outs or any(t.node is None for t in ins + outs):
            return UNKNOWN
        import networkx as nx
        inside = set()
        for t in outs:
            inside |= nx.ancestors(self.graph, t.node) | {t.node}
        start = {t.node for t in ins}
        reachable = set()
        for t in ins:
            reachable |= nx.descendants(self.graph, t.node)
        nodes = sorted(n for n in inside & reachable if n not in start)
        # a layer made of layers called in the graph is one layer of it; its inner calls are its parameters
        covering = {}
        for comp in sorted(self.composite_calls, key=lambda c: (c.start, -c.end)):
            if not any(comp.start <= s < comp.end for s in start):
                for n in range(comp.start, comp.end):
                    covering.setdefault(n, comp)
        listed = set()
        name = name if isinstance(name, str) else self.keras_auto_name("Functional")
        run = ModelRun(name, [t.shape for t in ins], "keras-input",
                       first_node=min(start), last_node=max(nodes, default=min(start)) + 1,
                       output_nodes=[t.node for t in outs], run=self)
        for n in nodes:
            comp = covering.get(n)
            if comp is not None:
                if id(comp) not in listed:
                    listed.add(id(comp))
                    run.calls.append(self._composite_layer_call(comp, n))
                continue
            call = self._layer_call(n)
            if call is not None:
                run.calls.append(call)
        self.model_runs.append(run)
        single = not isinstance(outputs, (list, tuple))
        model = V.Layer("keras.Model", {"name": name, "__graph__": ([t.node for t in ins], [t.node for t in outs],
                                                                    nodes, single), "__run__": run},
                          self.interp.site(node))
        model.path = name
        return model

    def _replay_functional(self, interp, model, args, kwargs, node):
        """A functional keras.Model called on new tensors: its layers again, in the order they ran, on the new
        inputs (the same layer objects: a layer built for one width meets the other, as in Keras)."""
        ins, outs, nodes, single = model.args["__graph__"]
        given = args[0] if len(args) == 1 and isinstance(args[0], (list, tuple)) else args
        if kwargs or len(given) != len(ins):
            return Tensor(None)
        values = dict(zip(ins, given))

        def swap(v, depth=0):
            if isinstance(v, Tensor) and v.node in values:
                return values[v.node]
            if isinstance(v, (list, tuple)) and depth < 2:
                return type(v)(swap(x, depth + 1) for x in v)
            return v

        for n in nodes:
            data = self.graph.nodes[n]
            layer = data.get("layer")
            spec = KERAS_LAYERS.get(layer.kind) if layer is not None else None
            if spec is None or not isinstance(data["args"], dict):
                return Tensor(None)        # an op that is not a Keras layer: not replayed
            positional = [swap(v) for k, v in data["args"].items() if k in spec.forward_params]
            named = {k: swap(v) for k, v in data["args"].items() if k not in spec.forward_params}
            out = self._call_module(interp, layer, positional, named, node, False, False)
            values[n] = out[0] if isinstance(out, tuple) and out and not isinstance(out, Tensor) else out
        results = [values.get(n, Tensor(None)) for n in outs]
        return results[0] if single else results

    def _layer_call(self, n):
        """The layer call recorded as graph node n, or None for an op that is no layer."""
        data = self.graph.nodes[n]
        layer = data.get("layer")
        if layer is None:
            return None
        output = data["output"]
        first = output[0] if isinstance(output, tuple) and output else output
        first_in = next(iter(data["args"].values()), None) if isinstance(data["args"], dict) else None
        if isinstance(first_in, (list, tuple)):
            first_in = first_in[0] if first_in else None
        return LayerCall(layer.path or "", layer.type_name, first.shape if isinstance(first, Tensor) else None,
                         data["cst"], n, layer, first_in.shape if isinstance(first_in, Tensor) else None)

    def _composite_layer_call(self, comp, n):
        first = comp.output[0] if isinstance(comp.output, (list, tuple)) and comp.output else comp.output
        parts = [c for c in map(self._layer_call, range(comp.start, comp.end)) if c is not None]
        # user layers called inside it own weights too (their inner layers are among the calls above)
        parts += [LayerCall(c.layer.path or "", c.layer.type_name, None, c.cst, c.start, c.layer, parts=[])
                  for c in self.composite_calls if c is not comp and comp.start <= c.start and c.end <= comp.end
                  and isinstance(c.layer, V.Instance)]
        return LayerCall(comp.layer.path or "", comp.layer.type_name,
                         first.shape if isinstance(first, Tensor) else None, comp.cst, n, comp.layer, parts=parts)

    # -- chains for messages ------------------------------------------------------------------------------------------
    def producer(self, value):
        """The graph node that produced a tensor, or None."""
        if isinstance(value, Tensor) and value.node is not None and value.node in self.graph:
            return self.graph.nodes[value.node]
        return None

    def chain(self, value, limit=6):
        """The ops that led to a tensor, oldest first: [(graph node data), ...]."""
        out = []
        nid = value.node if isinstance(value, Tensor) else None
        while nid is not None and len(out) < limit and nid in self.graph:
            data = self.graph.nodes[nid]
            out.append(data)
            # follow the first tensor argument: the main path, not the skip connection
            first = next(_tensors_in(list(data["args"].values())), None) if isinstance(data["args"], dict) else None
            nid = first.node if first is not None and first.node != nid else None
        return list(reversed(out))

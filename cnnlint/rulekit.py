"""What a rule sees: one analysis run's annotated graph, its solver, and helpers to word a finding."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional

from .diagnostics import Finding
from .shapes import dims as D
from .shapes.common import as_dim
from .values import Tensor


@dataclass(frozen=True)
class Rule:
    code: str
    name: str                   # kebab-case
    severity: str               # "error" | "warning"
    summary: str                # one line: what it finds
    why: str                    # why it is a bug
    fix: str                    # how to fix it
    fires: tuple = ()           # example sources that must produce this code
    silent: tuple = ()          # example sources that must not
    check: Optional[Callable] = field(default=None, compare=False)


class RuleContext:
    def __init__(self, run, runs=None):
        self.run = run
        self.runs = runs if runs is not None else [run]     # every run of the file (a model's own run, a script's)
        self.solver = run.solver
        self.findings: list = []
        self.current_gid = None     # the graph node a rule is looking at, set while it iterates nodes()

    # -- reading the graph ----------------------------------------------------------------------------------
    def nodes(self, ops: Iterable[str] = None, prefix: str = None):
        """Graph node data for ops, in the order they ran."""
        ops = set(ops) if ops is not None else None
        try:
            for nid in sorted(self.run.graph.nodes):
                data = self.run.graph.nodes[nid]
                op = data.get("op")
                if op is None:
                    continue        # a node only an edge names (a tensor another run made): nothing recorded
                if (ops is not None and op in ops) or (prefix is not None and op.startswith(prefix)):
                    self.current_gid = nid
                    yield nid, data
        finally:
            self.current_gid = None

    def layer_calls(self, type_names: Iterable[str]):
        """(graph node, layer, first input tensor) for calls of torch.nn layers with these class names."""
        kinds = {f"torch.nn.{t}" for t in type_names}
        for nid, data in self.nodes(kinds):
            args = data["args"]
            first = next(iter(args.values()), None) if args else None
            yield nid, data, data["layer"], first

    def descendants(self, nid) -> set:
        """Graph nodes that depend on node nid."""
        import networkx as nx       # not at import time: a fully cached run loads no rule dependencies
        return nx.descendants(self.run.graph, nid) if nid in self.run.graph else set()

    def ancestors(self, nid) -> set:
        """Graph nodes node nid depends on."""
        import networkx as nx
        return nx.ancestors(self.run.graph, nid) if nid in self.run.graph else set()

    def weight_owner(self, tensor, steps=4):
        """The layer whose weight a tensor is (`self.weight`, perhaps through shape-keeping ops such as
        F.normalize), or None."""
        for _ in range(steps):
            data = self.run.producer(tensor)
            if data is None:
                return None
            if data["op"] == "module.weight":
                return data["args"].get("layer")
            source = next((a for a in data["args"].values() if isinstance(a, Tensor)), None) if isinstance(
                data["args"], dict) else None
            if not isinstance(source, Tensor) or source.shape != getattr(tensor, "shape", None):
                return None
            tensor = source
        return None

    @property
    def layers(self):
        return self.run.layers

    # -- wording --------------------------------------------------------------------------------------------
    def where_built(self, layer, data=None, param=None):
        """The node to flag for a layer: where the value of its constructor parameter `param` was written, when a
        caller passed it down and this layer was its only use (`Block(64, ...)` for a conv built as
        `nn.Conv2d(cin, ...)` inside Block: the caller's 64 is what to change; a parameter used by other layers too
        is right for them, so the layer's own line is), else its constructor, or the call site when it has none."""
        if layer is not None and param is not None and param in layer.written:
            chosen = None
            for place, (_, _, _, reads) in layer.written[param]:
                if reads != 1:
                    break
                chosen = place
            if chosen is not None:
                return chosen
        if layer is not None and layer.call is not None:
            return layer.call
        return data["cst"] if data is not None else None

    def layer_label(self, layer):
        """`fc1` (Linear); a layer of a Sequential model, whose path is a bare index, by the model and its
        position: `head[2]` (Linear), `model[0].conv` (Conv2d)."""
        name = layer.path if layer.path else None
        if name and name.split(".")[0].isdigit():
            root = self._container_model(layer)
            if root is not None:
                head, _, rest = name.partition(".")
                name = f"{root}[{head}]" + (f".{rest}" if rest else "")
        return f"`{name}` ({layer.type_name})" if name else layer.type_name

    def _container_model(self, layer):
        """The name of the model run whose root holds `layer` at its path (a Sequential called as the model)."""
        from .values import Instance
        for model in self.run.model_runs:
            module = model.root
            for part in layer.path.split("."):
                children = module.modules if isinstance(module, Instance) else getattr(module, "children", {})
                module = children.get(part, children.get(int(part)) if part.isdigit() else None)
                if module is None:
                    break
            if module is layer:
                return model.name
        return None

    def chain(self, value, limit=6):
        """Related entries that tell where a tensor came from, oldest first: [(CST node, 'conv2: Conv2d -> (4, 16,
        5, 5)')]. Ops that keep the shape of the op before them (activations, dropout) are left out."""
        out = []
        previous = None
        for data in self.run.chain(value, 4 * limit):
            shape = shape_text(data["output"])
            if data["cst"] is not None and shape != previous:
                out.append((data["cst"], f"{describe_op(data)} -> {shape}"))
            previous = shape
        return out[-limit:]

    def report(self, code, node, message, related=(), gid=None, fix=None):
        """A finding at CST `node`; `gid` is the graph node judged, used to drop cascades of an earlier error."""
        if node is None:
            return
        self.findings.append(Finding(code, node, message, list(related),
                                     gid if gid is not None else self.current_gid, fix))

    def call_site(self, data):
        """Where a forward-side fix goes: the call, or the constructor for a layer run inside a Sequential."""
        layer = data.get("layer")
        if data.get("direct", True) or layer is None or layer.call is None:
            return data["cst"]
        return layer.call

    # -- deciding -------------------------------------------------------------------------------------------
    def differs(self, a, b) -> bool:
        """True only when no input consistent with what is known makes a == b."""
        a, b = as_dim(a), as_dim(b)
        if a is None or b is None:
            return False
        if not self.solver.can_equal(a, b):
            return True
        node = self.run.graph.nodes[self.current_gid] if self.current_gid in self.run.graph else None
        label = describe_op(node) if node is not None else ""
        self.solver.settle(a, b, label, self.current_gid)
        return False


def set_hint(param, got, expected, fix=None) -> str:
    """The fix to suggest: the size that arrives when it is known (in the names that made it when the fix writes
    them: `set input_size=emb (100)`), else that no size (of the input, of a parameter) gives the expected one."""
    if isinstance(got, int):
        written = fix.description.partition("=")[2] if fix is not None and \
            fix.description.startswith(f"set {param}=") else ""
        if any(c.isalpha() for c in written):
            return f"set {param}={written} ({got})"
        return f"set {param}={got}"
    return f"no size makes it {show(expected)}"


def describe_op(data) -> str:
    layer = data.get("layer")
    if layer is not None:
        return f"{layer.path}: {layer.type_name}" if layer.path else layer.type_name
    op = data.get("called") or data["op"]
    return {"operator.add": "+", "operator.sub": "-", "operator.mul": "*", "operator.truediv": "/",
            "operator.matmul": "@", "Tensor.__getitem__": "indexing"}.get(op, op.replace("torch.nn.functional.", "F.").replace("Tensor.", "."))


def shape_text(value) -> str:
    if isinstance(value, tuple) and value and isinstance(value[0], Tensor):
        value = value[0]
    if isinstance(value, Tensor):
        return D.show_shape(value.shape)
    return "?"


def show(d) -> str:
    return D.show(as_dim(d) if not isinstance(d, D.Expr) else d)

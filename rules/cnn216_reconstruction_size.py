"""CNN216 reconstruction-size: a model trained to reproduce its input (a loss of its output against the very tensor
it was given) whose output has another size than that input."""

from cnnlint.rulekit import Rule, shape_text, show
from cnnlint.shapes import dims as D
from cnnlint.values import Tensor

from ._helpers import LOSS_FUNCTIONS, loss_calls, written

RULE = Rule(
    code="CNN216",
    name="reconstruction-size",
    severity="warning",
    summary="A loss compares a model's output with the tensor the model was given (an autoencoder, a denoiser) "
            "while the model returns another size than it takes",
    why="A reconstruction model must give back the shape it receives. Convolutions without padding shrink each "
        "side by kernel - 1, a stride-2 conv followed by a stride-2 transposed conv turns 28 into 27: the loss of "
        "the output against the input then cannot be computed (torch raises at the first batch) or, where a size "
        "is 1, broadcasts and trains on the wrong pairs.",
    fix="Pad the convolutions (padding=kernel_size // 2), give the transposed convolutions output_padding (or "
        "output_size=x.shape[-2:]), or interpolate the output back to the input size.",
    fires=("""
import torch, torch.nn as nn, torch.nn.functional as F
# cnnlint: input=(4, 1, 28, 28)
class AE(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Conv2d(1, 8, 3)
        self.dec = nn.Conv2d(8, 1, 3)
    def forward(self, x):
        return self.dec(F.relu(self.enc(x)))
def main():
    model = AE()
    for images, _ in torch.utils.data.DataLoader([]):
        recon = model(images)
        loss = F.mse_loss(recon, images)
""",),
    silent=("""
import torch, torch.nn as nn, torch.nn.functional as F
# cnnlint: input=(4, 1, 28, 28)
class AE(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Conv2d(1, 8, 3, padding=1)
        self.dec = nn.Conv2d(8, 1, 3, padding=1)
    def forward(self, x):
        return self.dec(F.relu(self.enc(x)))
def main():
    model = AE()
    for images, _ in torch.utils.data.DataLoader([]):
        recon = model(images)
        loss = F.mse_loss(recon, images)
""",),
)

# ops a reconstruction may end in after its last layer (they keep the shape)
KEEPING = {"torch.nn.functional.relu", "torch.relu", "torch.sigmoid", "torch.tanh", "Tensor.sigmoid", "Tensor.tanh",
           "Tensor.clamp", "Tensor.contiguous", "torch.clamp", "Tensor.relu"}


def check(ctx):
    for data, name, x, target, _, label in loss_calls(ctx, set(LOSS_FUNCTIONS.values())):
        if isinstance(x, Tensor) and isinstance(target, Tensor) and x.shape is not None and target.shape is not None:
            continue            # both known: CNN112 and CNN207 judge the loss itself
        call = data.get("cst")
        exprs = _loss_arguments(call)
        if exprs is None:
            continue
        given, compared = exprs
        model_call = _model_call(ctx.run.file.module, call, given)
        if model_call is None or not _same_code(model_call.args[0].value, compared):
            continue
        layer = _last_layer(ctx.run, x)
        if layer is None or layer.call is None:
            continue
        known = _known_run(ctx, layer)
        if known is None:
            continue
        run, model, inputs, output = known
        axis = next((k for k in range(1, len(inputs)) if not run.solver.can_equal(output[k], inputs[k])), None)
        if axis is None:
            continue
        shrinking = _resizing_layers(model)
        symbolic = any(not isinstance(d, int) for d in inputs[1:])
        source = {"comment": "its input comment", "dataset": "the dataset the file names", "example":
                  "the example call", "annotation": "its annotations"}.get(model.source, "its first layer")
        ctx.report("CNN216", call,
                   f"{written(data)} compares the output of {model.name} with the tensor it was given, but "
                   f"{model.name} returns {D.show_shape(output)} for an input {D.show_shape(inputs)}: axis {axis} is "
                   f"{show(output[axis])}, not {show(inputs[axis])}"
                   + (", for every input size" if symbolic else f" (the input from {source})")
                   + (f"; the layers that resize it: {', '.join(shrinking)}" if shrinking else "")
                   + "; pad the convolutions (padding=kernel_size // 2) or size the decoder to give the input's "
                     "size back", [(model_call, f"{model.name} is called here")])


def _loss_arguments(call):
    """The input and target expressions of a loss call: criterion(out, x), F.mse_loss(input=out, target=x)."""
    import libcst as cst
    if not isinstance(call, cst.Call):
        return None
    positional = [a.value for a in call.args if a.keyword is None and not a.star]
    named = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
    given = positional[0] if positional else named.get("input")
    compared = positional[1] if len(positional) > 1 else named.get("target")
    return (given, compared) if given is not None and compared is not None else None


def _same_code(a, b) -> bool:
    import libcst as cst
    code = cst.Module(body=[]).code_for_node
    return " ".join(code(a).split()) == " ".join(code(b).split())


def _model_call(module, call, given):
    """The call whose result the loss is given: `model(images)` written in place, or the last `out = model(x)`
    before the loss in the blocks around it. None when it is neither."""
    import libcst as cst
    if isinstance(given, cst.Call):
        return given if given.args and given.args[0].keyword is None and not given.args[0].star else None
    if not isinstance(given, cst.Name) or module is None:
        return None
    for body, index in _enclosing_bodies(module, call):
        for stmt in reversed(body[:index]):
            if not isinstance(stmt, cst.SimpleStatementLine):
                continue
            for small in stmt.body:
                if isinstance(small, cst.Assign) and len(small.targets) == 1 and \
                        isinstance(small.targets[0].target, cst.Name) and small.targets[0].target.value == given.value:
                    value = small.value
                    if isinstance(value, cst.Call) and value.args and value.args[0].keyword is None and \
                            not value.args[0].star:
                        return value
                    return None
    return None


def _enclosing_bodies(module, target):
    """(statement list, index of the statement holding target) for each block around target, innermost first."""
    import libcst as cst
    path = []

    def walk(node):
        if node is target:
            return True
        for child in node.children:
            path.append(child)
            if walk(child):
                return True
            path.pop()
        return False

    if not walk(module):
        return []
    out = []
    chain = [module] + path
    for i, node in enumerate(chain[:-1]):
        body = node.body if isinstance(node, (cst.Module, cst.IndentedBlock)) else None
        if isinstance(body, (list, tuple)) and chain[i + 1] in body:
            out.append((list(body), list(body).index(chain[i + 1])))
    return list(reversed(out))


def _last_layer(run, tensor, limit=6):
    """The torch layer that produced a tensor, looking through the shape-keeping ops after it."""
    data = run.producer(tensor)
    for _ in range(limit):
        if data is None:
            return None
        layer = data.get("layer")
        if layer is not None and data.get("op", "").startswith("torch.nn."):
            return layer
        if data.get("op") not in KEEPING:
            return None
        args = data.get("args") if isinstance(data.get("args"), dict) else {}
        first = next((v for v in args.values() if isinstance(v, Tensor)), None)
        data = run.producer(first) if first is not None else None
    return None


def _known_run(ctx, layer):
    """(run, model run, input shape, output shape) of a run of the same model on a known input, found by the
    constructor of its last layer; None when no run of it knows both shapes."""
    for run in ctx.runs:
        if run is ctx.run:
            continue
        for model in run.model_runs:
            if not model.input_shapes or model.input_shapes[0] is None or len(model.output_nodes) != 1:
                continue
            node = model.output_nodes[0]
            if node not in run.graph:
                continue
            output = run.graph.nodes[node]["output"]
            if not isinstance(output, Tensor) or output.shape is None:
                continue
            last = _last_layer(run, output)
            if last is None or last.call is not layer.call:
                continue
            inputs = tuple(model.input_shapes[0])
            if len(inputs) != len(output.shape) or len(inputs) < 3:
                continue
            return run, model, inputs, tuple(output.shape)
    return None


def _resizing_layers(model, limit=4):
    """`enc.0` (Conv2d) 28 -> 26: the layer calls that change the spatial size."""
    out = []
    for call in model.calls:
        if call.input_shape is None or call.output_shape is None or len(call.input_shape) != len(call.output_shape):
            continue
        before, after = call.input_shape[2:], call.output_shape[2:]
        if before and any(D.sub(a, b) != 0 for a, b in zip(after, before)):
            out.append(f"`{call.name}` ({call.type}) {'x'.join(show(d) for d in before)} -> "
                       f"{'x'.join(show(d) for d in after)}")
    return out[:limit] + (["..."] if len(out) > limit else [])

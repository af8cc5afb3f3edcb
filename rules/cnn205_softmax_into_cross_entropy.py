"""CNN205 softmax-into-cross-entropy: probabilities fed to a loss that applies log_softmax itself."""

from cnnlint.diagnostics import Fix
from cnnlint.fixes import drop_sequential_layer
from cnnlint.rulekit import Rule, describe_op
from cnnlint.values import Tensor

from ._helpers import origin

RULE = Rule(
    code="CNN205",
    name="softmax-into-cross-entropy",
    severity="warning",
    summary="A Softmax output fed to CrossEntropyLoss / F.cross_entropy",
    why="CrossEntropyLoss applies log_softmax to its input itself: it expects raw logits. Fed probabilities, it "
        "computes log_softmax(softmax(x)), whose gradients are squashed; training stalls or converges badly.",
    fix="Return logits from the model (drop the final Softmax) and apply softmax only for prediction.",
    fires=("""
import torch, torch.nn as nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(20, 5)
        self.softmax = nn.Softmax(dim=1)
    def forward(self, x):
        return self.softmax(self.fc(x))
model = Net()
criterion = nn.CrossEntropyLoss()
loss = criterion(model(torch.randn(8, 20)), torch.randint(0, 5, (8,)))
""",),
    silent=("""
import torch, torch.nn as nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(20, 5)
    def forward(self, x):
        return self.fc(x)
model = Net()
criterion = nn.CrossEntropyLoss()
loss = criterion(model(torch.randn(8, 20)), torch.randint(0, 5, (8,)))
""",),
)

CROSS_ENTROPY = {"torch.nn.CrossEntropyLoss", "torch.nn.functional.cross_entropy"}
SOFTMAX = {"torch.nn.Softmax", "torch.softmax", "torch.nn.functional.softmax"}
THROUGH = {"Tensor.view", "torch.reshape", "Tensor.squeeze", "Tensor.contiguous", "torch.flatten", "Tensor.float"}


def check(ctx):
    for nid, data in ctx.nodes(CROSS_ENTROPY):
        if data["called"] not in CROSS_ENTROPY:      # F.nll_loss shares the table entry of F.cross_entropy
            continue
        args = data["args"]
        x = next(iter(args.values()), None) if args else None
        if not isinstance(x, Tensor):
            continue
        src = origin(ctx, x, through=THROUGH)
        if src is None or src["op"] not in SOFTMAX:
            continue
        ctx.report("CNN205", data["cst"],
                   f"the input of cross-entropy comes from {describe_op(src)}: CrossEntropyLoss applies "
                   f"log_softmax itself and expects raw logits; drop the softmax",
                   [(ctx.call_site(src), "softmax applied here")] if ctx.call_site(src) is not None else [],
                   fix=drop_softmax(ctx, src))


def drop_softmax(ctx, src):
    """Unsafe: return the logits instead of their softmax, where the softmax is a call of its own, or a layer of
    an nn.Sequential (the layer is removed from it)."""
    import libcst as cst  # only when a fix is built: a cached run never loads LibCST

    call = src["cst"]
    layer = src.get("layer")
    if not src.get("direct", True) and layer is not None:
        return drop_sequential_layer([ctx.run] + ctx.runs, layer, "drop the Softmax layer: return logits")
    if not src.get("direct", True) or not isinstance(call, cst.Call) or not call.args or call.args[0].star:
        return None
    return Fix("drop the softmax: return logits", False, [(call, call.args[0].value)])

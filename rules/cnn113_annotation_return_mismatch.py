"""CNN113 annotation-return-mismatch: what a function returns (or a value assigned to an annotated name)
contradicts the shape annotation the user wrote for it."""

from cnnlint.shapes.annotated import ASSIGN, RETURN
from cnnlint.rulekit import Rule, shape_text

from ._helpers import annotation_conflict

RULE = Rule(
    code="CNN113",
    name="annotation-return-mismatch",
    severity="error",
    summary="A function's output (or an annotated assignment) contradicts its shape annotation "
            "(jaxtyping, Pyrefly, TorchShapeFlow)",
    why="The annotation is the contract callers rely on; the code computes another shape for every input the "
        "parameters' annotations allow. jaxtyping with a runtime checker raises; without one, the wrong shape "
        "travels on and fails (or silently broadcasts) somewhere else.",
    fix="Fix the computation (the chain shows where the shape went another way) or correct the annotation.",
    fires=("""
import torch.nn as nn
from jaxtyping import Float
from torch import Tensor
class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(64, 20)
    def forward(self, x: Float[Tensor, "b 64"]) -> Float[Tensor, "b 10"]:
        return self.fc(x)
""",),
    silent=("""
import torch.nn as nn
from jaxtyping import Float
from torch import Tensor
class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(64, 10)
    def forward(self, x: Float[Tensor, "b 64"]) -> Float[Tensor, "b 10"]:
        return self.fc(x)
""",),
)


def check(ctx):
    for nid, data in ctx.nodes({RETURN, ASSIGN}):
        conflict = annotation_conflict(ctx, data)
        if conflict is None:
            continue
        args = data["args"]
        value, spec = args["input"], args["spec"]
        if data["op"] == RETURN and args.get("element") is not None:
            what = f"element {args['element']} of what `{args.get('function')}` returns is {shape_text(value)}"
        elif data["op"] == RETURN:
            what = f"`{args.get('function')}` returns {shape_text(value)}"
        else:
            what = f"the value assigned to `{args.get('subject') or '...'}` is {shape_text(value)}"
        ctx.report("CNN113", data["cst"], f"{what}, which contradicts its annotation `{spec.text}`: {conflict}",
                   ctx.chain(value))

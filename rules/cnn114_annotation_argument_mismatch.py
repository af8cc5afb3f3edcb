"""CNN114 annotation-argument-mismatch: a call passes a tensor whose shape contradicts the parameter's shape
annotation."""

from cnnlint.shapes.annotated import ARGUMENT
from cnnlint.rulekit import Rule, shape_text

from ._helpers import annotation_conflict

RULE = Rule(
    code="CNN114",
    name="annotation-argument-mismatch",
    severity="error",
    summary="A call passes a tensor whose shape contradicts the parameter's shape annotation",
    why="The parameter's annotation (jaxtyping, Pyrefly, TorchShapeFlow) says which shapes the function takes; "
        "sizes with one name must agree across parameters. A runtime checker raises at the call; without one the "
        "function runs on a shape it was not written for.",
    fix="Pass a tensor of the annotated shape (reshape, transpose or slice it first), or correct the annotation.",
    fires=("""
import torch
from jaxtyping import Float
from torch import Tensor
def scale(x: Float[Tensor, "b 3 h w"]) -> Float[Tensor, "b 3 h w"]:
    return x * 2
scale(torch.randn(4, 1, 28, 28))
""",),
    silent=("""
import torch
from jaxtyping import Float
from torch import Tensor
def scale(x: Float[Tensor, "b 3 h w"]) -> Float[Tensor, "b 3 h w"]:
    return x * 2
scale(torch.randn(4, 3, 28, 28))
""",),
)


def check(ctx):
    for nid, data in ctx.nodes({ARGUMENT}):
        conflict = annotation_conflict(ctx, data)
        if conflict is None:
            continue
        args = data["args"]
        value = args["input"]
        ctx.report("CNN114", data["cst"],
                   f"`{args.get('function')}` takes `{args.get('subject')}: {args['spec'].text}`, but this "
                   f"argument is {shape_text(value)}: {conflict}", ctx.chain(value))

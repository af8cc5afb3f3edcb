"""CNN112 loss-shape: a loss given an input and target (or class weights) that torch rejects."""

from cnnlint.rulekit import Rule, shape_text, show
from cnnlint.shapes import dims as D
from cnnlint.shapes.common import as_dim
from cnnlint.values import Tensor

from ._helpers import loss_calls

RULE = Rule(
    code="CNN112",
    name="loss-shape",
    severity="error",
    summary="cross_entropy / nll_loss target that is neither class indices (N, d1, ...) nor, for cross_entropy, "
            "probabilities shaped like the input; a class weight of another size than C; binary cross-entropy "
            "with a target of another shape; a regression loss whose operands cannot broadcast",
    why="cross_entropy and nll_loss take logits (N, C) or (N, C, d1, ...) and a target of class indices (N,) or "
        "(N, d1, ...) (integers), or for cross_entropy class probabilities of the input's own shape (floats): "
        "anything else raises ('Expected input batch_size (4) to match target batch_size (5)', '0D or 1D target "
        "tensor expected, multi-target not supported'), a one-hot integer target raises 'Expected floating point "
        "type for target with class probabilities, got Long', and a weight= needs one entry per class. "
        "binary_cross_entropy(_with_logits) requires the target's shape to equal the input's ('Target size "
        "(torch.Size([4])) must be the same as input size (torch.Size([4, 1]))').",
    fix="Give class indices of shape (N,) (targets.long(), or argmax(1) of a one-hot target), or float "
        "probabilities of the logits' shape; squeeze(1) a (N, 1) output or unsqueeze(1) a (N,) target for BCE.",
    fires=("""
import torch, torch.nn as nn
criterion = nn.CrossEntropyLoss()
logits = torch.randn(8, 5)
labels = torch.randint(0, 5, (8, 1))
loss = criterion(logits, labels)
""",),
    silent=("""
import torch, torch.nn as nn
criterion = nn.CrossEntropyLoss()
logits = torch.randn(8, 5)
labels = torch.randint(0, 5, (8, 1))
loss = criterion(logits, labels.squeeze(1))
""",),
)

CLASSIFICATION = ("cross_entropy", "nll_loss")
BINARY = ("binary_cross_entropy", "binary_cross_entropy_with_logits")
POINTWISE = ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss")


def check(ctx):
    for data, name, x, target, weight, label in loss_calls(ctx, CLASSIFICATION + BINARY + POINTWISE):
        if not (isinstance(x, Tensor) and isinstance(target, Tensor)) or x.shape is None or target.shape is None:
            continue
        if name in CLASSIFICATION:
            problem = _classification(ctx, name, x, target, weight)
        elif name in BINARY:
            problem = _binary(ctx, x, target)
        else:
            problem = not_broadcastable(ctx, x, target)
        if problem:
            ctx.report("CNN112", data["cst"], f"{label}({shape_text(x)}, {shape_text(target)}): {problem}",
                       ctx.chain(x, 3) + ctx.chain(target, 3))


def certainly_other_shape(ctx, a, b):
    """True when no consistent input makes shapes a and b equal (ranks differ, or some size certainly does).
    Unlike ctx.differs it assumes nothing when they may agree: a regression loss does not need them to."""
    return len(a) != len(b) or any(_never_equal(ctx, x, y) for x, y in zip(a, b))


def _never_equal(ctx, a, b):
    a, b = as_dim(a), as_dim(b)
    return a is not None and b is not None and not ctx.solver.can_equal(a, b)


def trusted_dtype(ctx, t):
    """A tensor's dtype when an op made it (torch.randint, one_hot, .float(), ...); None for a model input, whose
    dtype cnnlint assumed."""
    data = ctx.run.producer(t)
    return t.dtype if data is not None and data["op"] != "input" else None


def _classification(ctx, name, x, target, weight):
    if x.rank < 2:
        return None          # unbatched (C,) logits: torch's rules for the target differ, not judged
    classes = x.shape[1]
    if weight is not None and weight.shape is not None and ctx.differs(D.product(weight.shape), classes):
        return (f"weight= has {show(D.product(weight.shape))} entries ({shape_text(weight)}) but the input has "
                f"{show(classes)} classes (axis 1); torch raises 'weight tensor should be defined either for all "
                f"{show(classes)} classes or no classes'")
    indices = (x.shape[0],) + x.shape[2:]
    dtype = trusted_dtype(ctx, target)
    if name == "cross_entropy" and target.rank == x.rank:
        if certainly_other_shape(ctx, x.shape, target.shape):
            return (f"a target with as many axes as the input is read as class probabilities and must have the "
                    f"input's shape {shape_text(x)}; class indices would be {shape_text(Tensor(indices))}")
        if dtype == "long":
            return ("a target of the input's shape holds class probabilities and must be float, but this one is "
                    "integer (one-hot?); torch raises 'Expected floating point type for target with class "
                    f"probabilities, got Long'; pass class indices {shape_text(Tensor(indices))} (argmax(1)) or "
                    ".float() the target")
        return None
    if certainly_other_shape(ctx, indices, target.shape):
        also = f" or probabilities shaped like the input {shape_text(x)}" if name == "cross_entropy" else ""
        return f"expected a target of class indices {shape_text(Tensor(indices))}{also}"
    if dtype == "float":
        return ("class indices must be integers, but the target is float; torch raises 'expected target dtype "
                "to be Long or Byte, but got Float' (use .long())")
    return None


def _binary(ctx, x, target):
    if certainly_other_shape(ctx, x.shape, target.shape):
        return "the target must have the input's shape (binary cross-entropy does not broadcast)"
    if trusted_dtype(ctx, target) == "long":
        return "the target must be float (probabilities in [0, 1]), but it is integer; use target.float()"
    return None


def not_broadcastable(ctx, x, target):
    """Why the shapes of x and target cannot broadcast, in words; None when they may."""
    for a, b in zip(reversed(x.shape), reversed(target.shape)):
        if _never_equal(ctx, a, b) and not ctx.solver.can_be_one(a) and not ctx.solver.can_be_one(b):
            return f"sizes {show(a)} and {show(b)} cannot broadcast"
    return None

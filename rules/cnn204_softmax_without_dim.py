"""CNN204 softmax-without-dim: softmax / log_softmax / nn.Softmax with the axis left implicit."""

from cnnlint.diagnostics import Fix
from cnnlint.rulekit import Rule, shape_text

RULE = Rule(
    code="CNN204",
    name="softmax-without-dim",
    severity="warning",
    summary="softmax, log_softmax, softmin or nn.Softmax without dim",
    why="Without dim torch guesses the axis (0 for 0-, 1- and 3-D inputs, else 1) and warns 'Implicit dimension "
        "choice for softmax has been deprecated'. On an unbatched or 3-D input the guess normalises across the "
        "batch or the sequence instead of the classes.",
    fix="Name the axis: F.softmax(x, dim=-1) / nn.Softmax(dim=1).",
    fires=("""
import torch.nn.functional as F
import torch
probs = F.softmax(torch.randn(4, 10))
""",),
    silent=("""
import keras
from keras import layers
head = keras.Sequential([keras.Input(shape=(16,)), layers.Dense(4), layers.Softmax()])
""", """
import torch.nn.functional as F
import torch
probs = F.softmax(torch.randn(4, 10), dim=1)
""",),
)

FUNCS = {"torch.softmax", "torch.nn.functional.softmax", "torch.nn.functional.log_softmax",
         "torch.nn.functional.softmin", "torch.log_softmax"}
LAYERS = ("Softmax", "LogSoftmax", "Softmin")


def check(ctx):
    for nid, data in ctx.nodes(FUNCS):
        if data["args"].get("dim", None) is None and "dim" in data["args"]:
            x = data["args"].get("input")
            name = data["called"].replace("torch.nn.functional.", "F.")
            # the fix names the class axis of (N, C, ...) logits; torch's implicit choice is axis 0 (the batch!) for
            # 3-D inputs, which is the bug this rule is about
            implicit = None if getattr(x, "rank", None) is None else (0 if x.rank <= 1 else 1)
            ctx.report("CNN204", data["cst"],
                       f"{name} without dim on {shape_text(x)}: torch picks the axis implicitly (and warns); "
                       f"pass dim= explicitly", ctx.chain(x, 3),
                       fix=add_dim(data["cst"], implicit) if implicit is not None else None)
    for layer in ctx.layers:
        # torch layers only: keras.layers.Softmax takes axis=-1 by default, which is well defined
        if layer.kind.startswith("torch.nn.") and layer.type_name in LAYERS and layer.call is not None \
                and layer.args.get("dim") is None and not layer.args.get("__unknown__"):
            ctx.report("CNN204", layer.call,
                       f"nn.{layer.type_name}() without dim: torch picks the axis implicitly at each call (and "
                       f"warns); pass dim= explicitly (dim=1 for (N, C) logits)", fix=add_dim(layer.call, 1))


def add_dim(call, dim):
    """Unsafe: name the axis torch would pick (dim=1 for (N, C) logits)."""
    import libcst as cst  # only when a fix is built: a cached run never loads LibCST

    if not isinstance(call, cst.Call) or any(a.star for a in call.args):
        return None
    new = call.with_changes(args=[*call.args, cst.Arg(keyword=cst.Name("dim"), value=cst.Integer(str(dim)),
                                                       equal=cst.AssignEqual(cst.SimpleWhitespace(""),
                                                                             cst.SimpleWhitespace("")))])
    return Fix(f"pass dim={dim}", False, [(call, new)])

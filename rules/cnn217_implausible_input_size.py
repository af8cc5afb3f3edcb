"""CNN217 implausible-input-size: a model whose checks hold only for input sizes far from any the file uses."""

import re

from cnnlint.rulekit import Rule, describe_op, show
from cnnlint.shapes import dims as D
from cnnlint.shapes.solve import MAX_SIZE

RULE = Rule(
    code="CNN217",
    name="implausible-input-size",
    severity="warning",
    summary="A model that runs only for absurd input sizes: every size its checks accept is far larger than what "
            "the file's data or transforms use (or than any image or sequence)",
    why="With the input size left open, cnnlint reports an error only when no size at all makes a layer fit. A "
        "layer sized for another input — a Linear(1280) after a stack that divides the length by 32 — still fits "
        "one range of sizes (here 40,929 to 40,960 samples), so no error is certain; but no input the file deals "
        "with is in that range, and the model raises on every one of them.",
    fix="Size the layer for the input the model is meant for (cnnlint gives the size that arrives there), or end "
        "the feature extractor with an adaptive pooling so that the size no longer depends on the input.",
    fires=("""
import torch.nn as nn
class AudioNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(*[nn.Conv1d(1, 1, 3, stride=2, padding=1) for _ in range(5)])
        self.fc = nn.Linear(1280, 10)
    def forward(self, x):
        return self.fc(self.features(x).flatten(1))
""",),
    silent=("""
import torch.nn as nn
class AudioNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(*[nn.Conv1d(1, 1, 3, stride=2, padding=1) for _ in range(5)])
        self.fc = nn.Linear(250, 10)
    def forward(self, x):
        return self.fc(self.features(x).flatten(1))
""",),
)

LIMIT = 10 ** 7
# sizes a file's own data pipeline names: torchvision transforms and image-size keywords
_TRANSFORM_SIZE = re.compile(r"\b(?:Resize|CenterCrop|RandomCrop|RandomResizedCrop)\(\s*\(?\s*(\d+)(?:\s*,\s*(\d+))?")


def hinted_sizes(ctx):
    """[(size, where it comes from)]: the sizes of the images the file's own data uses (an example call of the model
    would have been its input: a model run on a symbolic input has none)."""
    from cnnlint.inputs import dataset_hint
    source = ctx.run.file.source or ""
    out = []
    hint = dataset_hint(source)
    if hint is not None:
        out.append((max(hint[1:]), f"the dataset it names ({hint[1]}x{hint[2]})"))
    for m in _TRANSFORM_SIZE.finditer(source):
        sizes = [int(g) for g in m.groups() if g]
        out.append((max(sizes), f"its transforms ({m.group(0).split('(')[0]} to {'x'.join(map(str, sizes))})"))
    return out


def check(ctx):
    solver = ctx.solver
    spatial, image = set(), set()
    for model in ctx.run.model_runs:
        for shape in model.input_shapes:
            for d in (shape or ())[1:]:
                names = D.symbols(d) if isinstance(d, D.Expr) else set()
                if len(names) == 1 and d == D.sym(next(iter(names))):
                    spatial |= names
                    if len(shape) == 4:
                        image |= names          # a side of an (N, C, H, W) image: the file's image sizes apply
    if not spatial:
        return
    hints = None
    for diff, (got, expected, gid) in zip(list(solver.facts), list(solver.sides)):
        names = D.symbols(diff)
        if len(names) != 1 or not names <= spatial or gid is None or gid not in ctx.run.graph:
            continue
        name = next(iter(names))
        found = solver.value_range(diff, name, LIMIT)
        if found is None:
            continue
        if hints is None:
            hints = hinted_sizes(ctx)
        used = hints if name in image else []
        bound = 4 * max(s for s, _ in used) if used else MAX_SIZE
        if found and found[0] <= bound:
            continue
        data = ctx.run.graph.nodes[gid]
        layer = data.get("layer")
        where = ctx.where_built(layer, data) if layer is not None else data["cst"]
        if any(f.node is where or f.gid == gid for f in ctx.findings):
            continue            # this layer is flagged already (a Linear over the width axis: CNN202)
        label = ctx.layer_label(layer) if layer is not None else describe_op(data)
        needs = f"{show(got)} = {show(expected)}"
        if found:
            works = (f"{name} = {found[0]:,}" if found[0] == found[1] else
                     f"{name} from {found[0]:,} to {found[1]:,}")
            said = f"needs {needs}, which only {works} gives"
        else:
            said = f"needs {needs}, which no {name} up to {LIMIT:,} gives"
        if used:
            size, origin = max(used)
            beyond = f"far beyond the sizes the file uses: {origin}"
            at = D.evaluate(got, {name: size})
            if at is not None and at > 0:
                beyond += f", for which {show(got)} is {at}"
        else:
            beyond = f"beyond any image or sequence of up to {MAX_SIZE:,}"
        ctx.report("CNN217", where,
                   f"{label} {said}: {beyond}. It was probably sized for another input; size it for the input the "
                   f"model is meant for, or end the features with an adaptive pooling",
                   ctx.chain(data["args"].get("input") if isinstance(data["args"], dict) else None), gid=gid)

"""CNN105 attention-embed-dim: attention or transformer layers fed another model width."""

from cnnlint.rulekit import Rule, shape_text, show
from cnnlint.shapes.common import as_dim
from cnnlint.values import Tensor

RULE = Rule(
    code="CNN105",
    name="attention-embed-dim",
    severity="error",
    summary="MultiheadAttention embed_dim or Transformer d_model differs from the last axis of its input",
    why="Attention projects the last axis with (embed_dim, embed_dim) weights; torch raises 'was expecting "
        "embedding dimension of E' when another width arrives.",
    fix="Make embed_dim / d_model equal to the width of the tensors you pass (or project them first).",
    fires=("""
import torch.nn as nn
# cnnlint: input=(4, 10, 256)
class Enc(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(d_model=512, nhead=8, batch_first=True)
    def forward(self, x):
        return self.layer(x)
""",),
    silent=("""
import torch.nn as nn
# cnnlint: input=(4, 10, 512)
class Enc(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(d_model=512, nhead=8, batch_first=True)
    def forward(self, x):
        return self.layer(x)
""",),
)

WIDTH = {"MultiheadAttention": "embed_dim", "TransformerEncoderLayer": "d_model",
         "TransformerDecoderLayer": "d_model", "Transformer": "d_model",
         "TransformerEncoder": "encoder_layer", "TransformerDecoder": "decoder_layer"}


def check(ctx):
    for nid, data, layer, x in ctx.layer_calls(WIDTH):
        if not isinstance(x, Tensor) or x.rank not in (2, 3):
            continue
        param = WIDTH[layer.type_name]
        if param.endswith("_layer"):       # a stack: its width is its layer's d_model
            inner = layer.arg(param)
            if not hasattr(inner, "args"):
                continue
            layer, param = inner, "d_model"
        expected = as_dim(layer.arg(param))
        got = x.shape[-1]
        if ctx.differs(got, expected):
            label = ctx.layer_label(layer)
            ctx.report("CNN105", ctx.where_built(layer, data, param),
                       f"{label} expects {param}={show(expected)}, but the tensor it receives is {shape_text(x)}: "
                       f"its last axis is {show(got)}",
                       ctx.chain(x) + [(data["cst"], f"{label} is called here")])

"""The constructor parameters of torch.nn layer classes, as torch 2.13 declares them: what a constructor call
that torch rejects with a TypeError looks like (a keyword it does not take, a required argument missing).
tests/test_exceptions.py checks the table against the installed torch. Classes taking *args or **kwargs are left out.
"""

from __future__ import annotations

# class name -> (required parameters, optional parameters), in positional order
SIGNATURES = {
    "AdaptiveAvgPool1d": ("output_size", ""),
    "AdaptiveAvgPool2d": ("output_size", ""),
    "AdaptiveAvgPool3d": ("output_size", ""),
    "AdaptiveMaxPool1d": ("output_size", "return_indices"),
    "AdaptiveMaxPool2d": ("output_size", "return_indices"),
    "AdaptiveMaxPool3d": ("output_size", "return_indices"),
    "AlphaDropout": ("", "p inplace"),
    "AvgPool1d": ("kernel_size", "stride padding ceil_mode count_include_pad"),
    "AvgPool2d": ("kernel_size", "stride padding ceil_mode count_include_pad divisor_override"),
    "AvgPool3d": ("kernel_size", "stride padding ceil_mode count_include_pad divisor_override"),
    "BCELoss": ("", "weight size_average reduce reduction"),
    "BCEWithLogitsLoss": ("", "weight size_average reduce reduction pos_weight"),
    "BatchNorm1d": ("num_features", "eps momentum affine track_running_stats device dtype bias"),
    "BatchNorm2d": ("num_features", "eps momentum affine track_running_stats device dtype bias"),
    "BatchNorm3d": ("num_features", "eps momentum affine track_running_stats device dtype bias"),
    "Bilinear": ("in1_features in2_features out_features", "bias device dtype"),
    "CELU": ("", "alpha inplace"),
    "CTCLoss": ("", "blank reduction zero_infinity"),
    "ChannelShuffle": ("groups", ""),
    "CircularPad1d": ("padding", ""),
    "CircularPad2d": ("padding", ""),
    "CircularPad3d": ("padding", ""),
    "ConstantPad1d": ("padding value", ""),
    "ConstantPad2d": ("padding value", ""),
    "ConstantPad3d": ("padding value", ""),
    "Conv1d": ("in_channels out_channels kernel_size", "stride padding dilation groups bias padding_mode device dtype"),
    "Conv2d": ("in_channels out_channels kernel_size", "stride padding dilation groups bias padding_mode device dtype"),
    "Conv3d": ("in_channels out_channels kernel_size", "stride padding dilation groups bias padding_mode device dtype"),
    "ConvTranspose1d": ("in_channels out_channels kernel_size", "stride padding output_padding groups bias dilation padding_mode device dtype"),
    "ConvTranspose2d": ("in_channels out_channels kernel_size", "stride padding output_padding groups bias dilation padding_mode device dtype"),
    "ConvTranspose3d": ("in_channels out_channels kernel_size", "stride padding output_padding groups bias dilation padding_mode device dtype"),
    "CosineEmbeddingLoss": ("", "margin size_average reduce reduction"),
    "CosineSimilarity": ("", "dim eps"),
    "CrossEntropyLoss": ("", "weight size_average ignore_index reduce reduction label_smoothing"),
    "Dropout": ("", "p inplace"),
    "Dropout1d": ("", "p inplace"),
    "Dropout2d": ("", "p inplace"),
    "Dropout3d": ("", "p inplace"),
    "ELU": ("", "alpha inplace"),
    "Embedding": ("num_embeddings embedding_dim", "padding_idx max_norm norm_type scale_grad_by_freq sparse _weight _freeze device dtype"),
    "EmbeddingBag": ("num_embeddings embedding_dim", "max_norm norm_type scale_grad_by_freq mode sparse _weight include_last_offset padding_idx device dtype"),
    "FeatureAlphaDropout": ("", "p inplace"),
    "Flatten": ("", "start_dim end_dim"),
    "GELU": ("", "approximate"),
    "GLU": ("", "dim"),
    "GRUCell": ("input_size hidden_size", "bias device dtype"),
    "GaussianNLLLoss": ("", "full eps reduction"),
    "GroupNorm": ("num_groups num_channels", "eps affine device dtype bias"),
    "Hardshrink": ("", "lambd"),
    "Hardsigmoid": ("", "inplace"),
    "Hardswish": ("", "inplace"),
    "Hardtanh": ("", "min_val max_val inplace min_value max_value"),
    "HingeEmbeddingLoss": ("", "margin size_average reduce reduction"),
    "HuberLoss": ("", "reduction delta"),
    "InstanceNorm1d": ("num_features", "eps momentum affine track_running_stats device dtype bias"),
    "InstanceNorm2d": ("num_features", "eps momentum affine track_running_stats device dtype bias"),
    "InstanceNorm3d": ("num_features", "eps momentum affine track_running_stats device dtype bias"),
    "KLDivLoss": ("", "size_average reduce reduction log_target"),
    "L1Loss": ("", "size_average reduce reduction"),
    "LPPool1d": ("norm_type kernel_size", "stride ceil_mode"),
    "LPPool2d": ("norm_type kernel_size", "stride ceil_mode"),
    "LPPool3d": ("norm_type kernel_size", "stride ceil_mode"),
    "LSTMCell": ("input_size hidden_size", "bias device dtype"),
    "LayerNorm": ("normalized_shape", "eps elementwise_affine bias device dtype"),
    "LazyConv1d": ("out_channels kernel_size", "stride padding dilation groups bias padding_mode device dtype"),
    "LazyConv2d": ("out_channels kernel_size", "stride padding dilation groups bias padding_mode device dtype"),
    "LazyConv3d": ("out_channels kernel_size", "stride padding dilation groups bias padding_mode device dtype"),
    "LazyLinear": ("out_features", "bias device dtype"),
    "LeakyReLU": ("", "negative_slope inplace"),
    "Linear": ("in_features out_features", "bias device dtype"),
    "LocalResponseNorm": ("size", "alpha beta k"),
    "LogSoftmax": ("", "dim"),
    "MSELoss": ("", "size_average reduce reduction"),
    "MarginRankingLoss": ("", "margin size_average reduce reduction"),
    "MaxPool1d": ("kernel_size", "stride padding dilation return_indices ceil_mode"),
    "MaxPool2d": ("kernel_size", "stride padding dilation return_indices ceil_mode"),
    "MaxPool3d": ("kernel_size", "stride padding dilation return_indices ceil_mode"),
    "Mish": ("", "inplace"),
    "MultiLabelMarginLoss": ("", "size_average reduce reduction"),
    "MultiLabelSoftMarginLoss": ("", "weight size_average reduce reduction"),
    "MultiMarginLoss": ("", "p margin weight size_average reduce reduction"),
    "MultiheadAttention": ("embed_dim num_heads", "dropout bias add_bias_kv add_zero_attn kdim vdim batch_first device dtype"),
    "NLLLoss": ("", "weight size_average ignore_index reduce reduction"),
    "PReLU": ("", "num_parameters init device dtype"),
    "PairwiseDistance": ("", "p eps keepdim"),
    "PixelShuffle": ("upscale_factor", ""),
    "PixelUnshuffle": ("downscale_factor", ""),
    "PoissonNLLLoss": ("", "log_input full size_average eps reduce reduction"),
    "RMSNorm": ("normalized_shape", "eps elementwise_affine device dtype"),
    "RNNCell": ("input_size hidden_size", "bias nonlinearity device dtype"),
    "RReLU": ("", "lower upper inplace"),
    "ReLU": ("", "inplace"),
    "ReLU6": ("", "inplace"),
    "ReflectionPad1d": ("padding", ""),
    "ReflectionPad2d": ("padding", ""),
    "ReflectionPad3d": ("padding", ""),
    "ReplicationPad1d": ("padding", ""),
    "ReplicationPad2d": ("padding", ""),
    "ReplicationPad3d": ("padding", ""),
    "SELU": ("", "inplace"),
    "SiLU": ("", "inplace"),
    "SmoothL1Loss": ("", "size_average reduce reduction beta"),
    "SoftMarginLoss": ("", "size_average reduce reduction"),
    "Softmax": ("", "dim"),
    "Softmin": ("", "dim"),
    "Softplus": ("", "beta threshold"),
    "Softshrink": ("", "lambd"),
    "SyncBatchNorm": ("num_features", "eps momentum affine track_running_stats process_group device dtype bias"),
    "Threshold": ("threshold value", "inplace"),
    "Transformer": ("", "d_model nhead num_encoder_layers num_decoder_layers dim_feedforward dropout activation custom_encoder custom_decoder layer_norm_eps batch_first norm_first bias device dtype"),
    "TransformerDecoder": ("decoder_layer num_layers", "norm"),
    "TransformerDecoderLayer": ("d_model nhead", "dim_feedforward dropout activation layer_norm_eps batch_first norm_first bias device dtype"),
    "TransformerEncoder": ("encoder_layer num_layers", "norm enable_nested_tensor mask_check"),
    "TransformerEncoderLayer": ("d_model nhead", "dim_feedforward dropout activation layer_norm_eps batch_first norm_first bias device dtype"),
    "TripletMarginLoss": ("", "margin p eps swap size_average reduce reduction"),
    "Unflatten": ("dim unflattened_size", ""),
    "Upsample": ("", "size scale_factor mode align_corners recompute_scale_factor"),
    "UpsamplingBilinear2d": ("", "size scale_factor"),
    "UpsamplingNearest2d": ("", "size scale_factor"),
    "ZeroPad1d": ("padding", ""),
    "ZeroPad2d": ("padding", ""),
    "ZeroPad3d": ("padding", ""),
}


def rejects(kind: str, positional: int, keywords) -> str | None:
    """Why torch raises TypeError for this constructor call (`positional` arguments and these keyword names,
    all of them known), or None when it does not or the class is not in the table."""
    if not kind.startswith("torch.nn."):
        return None
    entry = SIGNATURES.get(kind[len("torch.nn."):])
    if entry is None:
        return None
    required, optional = entry[0].split(), entry[1].split()
    params = required + optional
    if positional > len(params):
        return f"takes at most {len(params)} positional arguments"
    for k in keywords:
        if k not in params:
            return f"got an unexpected keyword argument '{k}'"
        if params.index(k) < positional:
            return f"got multiple values for argument '{k}'"
    missing = [p for p in required[positional:] if p not in keywords]
    if missing:
        return f"missing required argument '{missing[0]}'"
    return None

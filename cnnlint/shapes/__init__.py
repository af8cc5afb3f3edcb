"""Shapes: symbolic dimensions, the transfer-function tables of layers and functions, and the size solver."""

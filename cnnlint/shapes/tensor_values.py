"""The values of small 1-D tensors the code computes from constants (RegNet's widths: `torch.arange(depth) * w_a +
w_0`, rounded, quantised, `.int().tolist()`): torch's arithmetic on them, so that the sizes they end up as are
known.

Only what is certain is computed: float results are rounded to float32 after each step, as torch's default dtype
computes them, and a rounding (round, floor, ceil, int) whose input lies within a hair of the boundary where the
last bit of a float32 library function could change it gives up, so a value here is the value torch computes.
"""

from __future__ import annotations

import math
import struct

MAX_VALUES = 256
_HAIR = 1e-4


def f32(x: float) -> float:
    return struct.unpack("f", struct.pack("f", x))[0]


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _cast(values, dtype):
    return tuple(f32(float(v)) if dtype == "float" else v for v in values)


def _near_boundary(x: float, kind: str) -> bool:
    if not isinstance(x, float):
        return False
    if kind == "round":
        return abs((x - math.floor(x)) - 0.5) < _HAIR * max(1.0, abs(x))
    return abs(x - round(x)) < _HAIR * max(1.0, abs(x)) and x != round(x)


def _rounded(values, kind):
    out = []
    for x in values:
        if _near_boundary(x, kind):
            return None
        if kind == "round":
            r = round(x)                       # half to even, as torch.round
        elif kind == "floor":
            r = math.floor(x)
        elif kind == "ceil":
            r = math.ceil(x)
        else:
            r = int(x)                         # .int() / .long(): towards zero
        out.append(float(r) if kind != "trunc" else r)
    return out


_BINARY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
           "truediv": lambda a, b: a / b, "div": lambda a, b: a / b, "divide": lambda a, b: a / b,
           "floordiv": lambda a, b: a // b, "pow": lambda a, b: a ** b}
_UNARY = {"log": math.log, "exp": math.exp, "sqrt": math.sqrt, "abs": abs, "neg": lambda x: -x}


def _op_name(name: str) -> str:
    return name.rsplit(".", 1)[-1].rstrip("_")


def operand(value):
    """(values, is_float) of a tensor with values or a Python number, else None."""
    values = getattr(value, "values", None)
    if values is not None:
        return values, getattr(value, "dtype", None) != "long"
    if _number(value):
        return (value,), isinstance(value, float)
    return None


def compute(name: str, bound: dict, output_dtype):
    """(values, dtype) of the op's result, or None when not computed. `bound` holds the op's arguments by name."""
    op = _op_name(name)
    try:
        if op in _BINARY:
            first = bound.get("input", bound.get("self"))
            second = bound.get("other", bound.get("exponent"))
            a, b = operand(first), operand(second)
            if a is None or b is None or (len(a[0]) != len(b[0]) and 1 not in (len(a[0]), len(b[0]))):
                return None
            is_float = a[1] or b[1] or op in ("truediv", "div", "divide")
            xs, ys = a[0], b[0]
            n = max(len(xs), len(ys))
            xs, ys = (xs * n if len(xs) == 1 else xs), (ys * n if len(ys) == 1 else ys)
            if op in ("truediv", "div", "divide", "floordiv") and any(y == 0 for y in ys):
                return None
            if op == "pow" and not is_float and any(y < 0 for y in ys):
                return None
            out = [_BINARY[op](x, y) for x, y in zip(xs, ys)]
            dtype = "float" if is_float else "long"
            return _cast(out, dtype), dtype
        x = operand(bound.get("input"))
        if x is None:
            return None
        values, is_float = x
        if op in _UNARY:
            return _cast([_UNARY[op](float(v)) for v in values], "float"), "float"
        if op in ("round", "floor", "ceil"):
            if not is_float:
                return values, "long"
            out = _rounded(values, op)
            return None if out is None else (_cast(out, "float"), "float")
        if op in ("int", "long"):
            out = _rounded(values, "trunc") if is_float else list(values)
            return None if out is None else (tuple(out), "long")
        if op in ("float", "double"):
            return _cast(values, "float"), "float"
        if op == "unique":
            return tuple(sorted(set(values))), ("float" if is_float else "long")
        if op == "diff":
            return tuple(b - a for a, b in zip(values, values[1:])), ("float" if is_float else "long")
        if op in ("max", "min", "sum") and bound.get("dim") is None:
            fn = {"max": max, "min": min, "sum": sum}[op]
            out = fn(values)
            return (f32(float(out)) if is_float else out,), ("float" if is_float else "long")
    except (ArithmeticError, ValueError, TypeError):
        return None
    return None

"""A small abstract interpreter for the Python that builds and runs models.

It evaluates ``__init__`` (constants, arithmetic, loops over known ranges, lists, helper methods, user classes,
torch layers) and ``forward`` (tensor ops through the transfer tables) over the same value domain. What it cannot
decide is UNKNOWN, which silences everything that depends on it. It never imports or runs the linted code.

Every tensor op it meets is recorded as a node of the run's dataflow graph (cnnlint.graph), which the rules read.
"""

from __future__ import annotations

import ast
import math
import operator

import libcst as cst

from .. import values as V
from ..shapes import dims as D
from ..shapes import functions as FN
from ..shapes.torch_layers import CONTAINERS, LAYERS
from ..values import UNKNOWN, Tensor
from .imports import canonical, dotted

MAX_UNROLL = 1024          # iterations of one loop, unrolled; longer loops are joined instead
MAX_DEPTH = 40             # nested user-function calls


class BudgetExceeded(Exception):
    """The analysis of one model took more steps than it may; what it found so far still stands."""


class PList(list):
    """A list built by the linted code. Changed under a condition we cannot decide, it becomes unknown."""

    __slots__ = ("born", "poisoned")

    def __init__(self, items=(), born=0):
        super().__init__(items)
        self.born = born
        self.poisoned = False


class PDict(dict):
    """A dict built by the linted code. A key set under an undecidable condition is *maybe* there: its value is
    unknown and asking whether it is there is undecidable too; anything less precise poisons the dict."""

    __slots__ = ("born", "poisoned", "maybe")

    def __init__(self, items=(), born=0):
        super().__init__(items)
        self.born = born
        self.poisoned = False
        self.maybe = set()


class BuiltinMethod:
    __slots__ = ("obj", "name")

    def __init__(self, obj, name):
        self.obj = obj
        self.name = name


class Builtin:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name


BUILTINS = {name: Builtin(name) for name in (
    "range len int float bool str list tuple dict set min max sum abs round enumerate zip reversed sorted isinstance "
    "getattr setattr hasattr super print any all divmod pow iter next map filter type id callable issubclass "
    "NotImplementedError ValueError TypeError RuntimeError AssertionError KeyError Exception").split()}


UNKNOWN_REST = "**?"      # keyword marking a call whose other keyword arguments are not known


class Frame:
    __slots__ = ("locals", "returns", "halt", "self_obj", "closure", "uncertain", "func", "in_module")

    def __init__(self, local_vars=None, self_obj=None, closure=None, func=None, in_module=False):
        self.locals = local_vars if local_vars is not None else {}
        self.returns = []
        self.halt = None          # None | "return" | "break" | "continue"
        self.self_obj = self_obj
        self.closure = closure
        self.uncertain = 0        # depth of undecidable conditions around the current statement
        self.func = func
        self.in_module = in_module


def truth(v):
    """Python truthiness, or None when it cannot be decided."""
    if v is UNKNOWN or isinstance(v, (Tensor, D.Expr)):
        return None
    if isinstance(v, (PList, PDict)) and v.poisoned:
        return None
    if isinstance(v, V.Layer):
        return bool(v.children) if v.kind in CONTAINERS else True
    if isinstance(v, (V.Instance, V.ClassValue, V.Function, V.External, V.TensorMethod, Builtin, BuiltinMethod)):
        return True
    try:
        return bool(v)
    except Exception:
        return None


def join(a, b):
    """The least precise value both a and b are: what a variable holds after an undecidable branch."""
    if a is b:
        return a
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        if a.shape is None or b.shape is None or len(a.shape) != len(b.shape):
            shape = None
        else:
            shape = tuple(x if x == y else None for x, y in zip(a.shape, b.shape))
        return Tensor(shape, node=a.node if a.node == b.node else None, dtype=a.dtype if a.dtype == b.dtype else None)
    if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b) and type(a) is type(b):
        return type(a)(join(x, y) for x, y in zip(a, b)) if type(a) is not tuple else tuple(
            join(x, y) for x, y in zip(a, b))
    if type(a) is type(b) and isinstance(a, (int, float, str, bool, D.Expr)) and a == b:
        return a
    if a is None and b is None:
        return None
    return UNKNOWN


def _is_dimlike(v):
    return isinstance(v, D.Expr) or (isinstance(v, int) and not isinstance(v, bool))


_BINOPS = {
    cst.Add: operator.add, cst.Subtract: operator.sub, cst.Multiply: operator.mul, cst.Divide: operator.truediv,
    cst.FloorDivide: operator.floordiv, cst.Modulo: operator.mod, cst.Power: operator.pow,
    cst.MatrixMultiply: operator.matmul, cst.BitOr: operator.or_, cst.BitAnd: operator.and_,
    cst.BitXor: operator.xor, cst.LeftShift: operator.lshift, cst.RightShift: operator.rshift,
}
_AUG = {cst.AddAssign: cst.Add, cst.SubtractAssign: cst.Subtract, cst.MultiplyAssign: cst.Multiply,
        cst.DivideAssign: cst.Divide, cst.FloorDivideAssign: cst.FloorDivide, cst.ModuloAssign: cst.Modulo,
        cst.PowerAssign: cst.Power, cst.MatrixMultiplyAssign: cst.MatrixMultiply, cst.BitOrAssign: cst.BitOr,
        cst.BitAndAssign: cst.BitAnd}
_TENSOR_OPS = {cst.Add: "operator.add", cst.Subtract: "operator.sub", cst.Multiply: "operator.mul",
               cst.Divide: "operator.truediv", cst.FloorDivide: "operator.floordiv", cst.Modulo: "operator.mod",
               cst.Power: "operator.pow", cst.MatrixMultiply: "operator.matmul"}
_COMPARE = {cst.Equal: operator.eq, cst.NotEqual: operator.ne, cst.LessThan: operator.lt,
            cst.GreaterThan: operator.gt, cst.LessThanEqual: operator.le, cst.GreaterThanEqual: operator.ge}


_LOOP_EXIT_CACHE: dict = {}


def _contains_loop_exit(stmts) -> bool:
    """Whether a loop body has break/continue outside nested loops and functions. A walk over statements only:
    LibCST's visitors rebuild every node they pass, which costs more than the whole analysis."""
    key = id(stmts[0]) if stmts else 0
    if key in _LOOP_EXIT_CACHE and _LOOP_EXIT_CACHE[key][0] is stmts[0]:
        return _LOOP_EXIT_CACHE[key][1]

    def walk(body):
        for stmt in body:
            if isinstance(stmt, cst.SimpleStatementLine):
                if any(isinstance(small, (cst.Break, cst.Continue)) for small in stmt.body):
                    return True
            elif isinstance(stmt, cst.If):
                if walk(stmt.body.body) or (stmt.orelse is not None and walk(
                        [stmt.orelse] if isinstance(stmt.orelse, cst.If) else stmt.orelse.body.body)):
                    return True
            elif isinstance(stmt, (cst.With,)):
                if walk(stmt.body.body):
                    return True
            elif isinstance(stmt, cst.Try):
                blocks = [stmt.body.body] + [h.body.body for h in stmt.handlers]
                blocks += [b.body.body for b in (stmt.orelse, stmt.finalbody) if b is not None]
                if any(walk(b) for b in blocks):
                    return True
        return False

    found = walk(stmts)
    if len(_LOOP_EXIT_CACHE) > 50_000:
        _LOOP_EXIT_CACHE.clear()
    if stmts:
        _LOOP_EXIT_CACHE[key] = (stmts[0], found)
    return found


_DISPATCH: dict = {}


class Interpreter:
    """Evaluates statements and expressions of one file for one analysis (cnnlint.graph.Run)."""

    def __init__(self, file_ctx, run):
        self.file = file_ctx
        self.run = run
        self.depth = 0
        self.stack = []

    # -- statements -----------------------------------------------------------------------------------------
    def exec_body(self, stmts, frame):
        for stmt in stmts:
            if frame.halt:
                return
            self.exec_stmt(stmt, frame)

    def exec_stmt(self, stmt, frame):
        self.run.tick()
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if frame.halt:
                    return
                self.exec_small(small, frame)
        elif isinstance(stmt, cst.If):
            self.exec_if(stmt, frame)
        elif isinstance(stmt, cst.For):
            self.exec_for(stmt, frame)
        elif isinstance(stmt, cst.While):
            self.exec_unknown_loop(stmt.body.body, frame, None)
        elif isinstance(stmt, cst.Try) or isinstance(stmt, getattr(cst, "TryStar", cst.Try)):
            self.exec_body(stmt.body.body, frame)
            if stmt.orelse is not None:
                self.exec_body(stmt.orelse.body.body, frame)
            if stmt.finalbody is not None:
                self.exec_body(stmt.finalbody.body.body, frame)
        elif isinstance(stmt, cst.With):
            for item in stmt.items:
                value = self.eval(item.item, frame)
                if item.asname is not None:
                    self.assign(item.asname.name, UNKNOWN if not isinstance(value, Tensor) else value, frame)
            self.exec_body(stmt.body.body, frame)
        elif isinstance(stmt, cst.FunctionDef):
            func = V.Function(stmt, closure=frame.locals if not frame.in_module else None)
            frame.locals[stmt.name.value] = self.decorate(func, stmt, frame)
        elif isinstance(stmt, cst.ClassDef):
            frame.locals[stmt.name.value] = self.make_class(stmt, frame)
        elif isinstance(stmt, cst.IndentedBlock):
            self.exec_body(stmt.body, frame)

    def decorate(self, func, node, frame):
        for dec in node.decorators:
            name = dotted(dec.decorator) if not isinstance(dec.decorator, cst.Call) else dotted(dec.decorator.func)
            if name in ("staticmethod", "classmethod", "property", "torch.jit.ignore", "torch.no_grad", "abstractmethod",
                        "torch.jit.unused", "torch.jit.export", "functools.wraps"):
                continue
            if name and name.split(".")[-1] in ("staticmethod", "classmethod", "property", "cached_property"):
                continue
            if name in ("torch.jit.script", "torch.compile", "torch.fx.wrap"):
                continue
            return UNKNOWN   # an unknown decorator may replace the function
        return func

    def exec_small(self, small, frame):
        if isinstance(small, cst.Assign):
            value = self.eval(small.value, frame)
            for target in small.targets:
                self.assign(target.target, value, frame)
        elif isinstance(small, cst.AnnAssign):
            if small.value is not None:
                self.assign(small.target, self.eval(small.value, frame), frame)
        elif isinstance(small, cst.AugAssign):
            self.exec_augassign(small, frame)
        elif isinstance(small, cst.Expr):
            self.eval(small.value, frame)
        elif isinstance(small, cst.Return):
            frame.returns.append(self.eval(small.value, frame) if small.value is not None else None)
            frame.halt = "return"
        elif isinstance(small, cst.Raise):
            frame.halt = "return"      # a path that raises produces nothing
        elif isinstance(small, cst.Break):
            frame.halt = "break"
        elif isinstance(small, cst.Continue):
            frame.halt = "continue"
        elif isinstance(small, (cst.Import, cst.ImportFrom)):
            self.exec_local_import(small, frame)
        elif isinstance(small, cst.Del):
            pass

    def exec_local_import(self, small, frame):
        from .imports import resolve_imports
        fake = cst.Module(body=[cst.SimpleStatementLine(body=[small])])
        for local, full in resolve_imports(fake).items():
            frame.locals[local] = V.External(full)

    def exec_augassign(self, small, frame):
        target_value = self.eval(small.target, frame)
        right = self.eval(small.value, frame)
        op = _AUG.get(type(small.operator))
        if op is cst.Add and isinstance(target_value, PList):
            if isinstance(right, (list, tuple)) and not getattr(right, "poisoned", False):
                self.mutate(target_value, frame)
                target_value.extend(right)
            else:
                target_value.poisoned = True
            return
        if op is None:
            self.assign(small.target, UNKNOWN, frame)
            return
        result = self.binop(op, target_value, right, small)
        if isinstance(target_value, Tensor) and isinstance(result, Tensor):
            result = Tensor(target_value.shape if target_value.shape is not None else result.shape,
                            node=result.node, dtype=target_value.dtype)
        self.assign(small.target, result, frame)

    def mutate(self, container, frame):
        """A list or dict changed under an undecidable condition no longer has a known content."""
        if frame.uncertain > getattr(container, "born", 0):
            container.poisoned = True

    def exec_if(self, stmt, frame):
        cond = truth(self.eval(stmt.test, frame))
        orelse = stmt.orelse
        if cond is True:
            self.exec_body(stmt.body.body, frame)
        elif cond is False:
            if isinstance(orelse, cst.If):
                self.exec_if(orelse, frame)
            elif orelse is not None:
                self.exec_body(orelse.body.body, frame)
        else:
            def run_else(f):
                if isinstance(orelse, cst.If):
                    self.exec_if(orelse, f)
                elif orelse is not None:
                    self.exec_body(orelse.body.body, f)
            self.exec_both(frame, lambda f: self.exec_body(stmt.body.body, f), run_else)

    def exec_both(self, frame, first, second):
        """Run two paths from the same state and join them (both run: neither is known not to)."""
        self_obj = frame.self_obj
        saved_attrs = (dict(self_obj.attrs), dict(self_obj.modules)) if isinstance(self_obj, V.Instance) else None
        frames = []
        states = []
        for path in (first, second):
            f = Frame(dict(frame.locals), self_obj, frame.closure, frame.func, frame.in_module)
            f.uncertain = frame.uncertain + 1
            if saved_attrs is not None:
                self_obj.attrs, self_obj.modules = dict(saved_attrs[0]), dict(saved_attrs[1])
            path(f)
            frames.append(f)
            if saved_attrs is not None:
                states.append((self_obj.attrs, self_obj.modules))
        for f in frames:
            frame.returns.extend(f.returns)
        live = [i for i, f in enumerate(frames) if not f.halt]
        if not live:
            frame.halt = frames[0].halt
            live = [0]
        if len(live) == 1:
            frame.locals.clear()
            frame.locals.update(frames[live[0]].locals)
            if saved_attrs is not None:
                self_obj.attrs, self_obj.modules = states[live[0]]
            return
        a, b = frames[0].locals, frames[1].locals
        merged = {}
        for key in a.keys() | b.keys():
            if key in a and key in b:
                merged[key] = join(a[key], b[key])
            else:
                merged[key] = a.get(key, b.get(key))
        frame.locals.clear()
        frame.locals.update(merged)
        if saved_attrs is not None:
            (attrs_a, mods_a), (attrs_b, mods_b) = states
            attrs = {}
            for key in list(attrs_a) + [k for k in attrs_b if k not in attrs_a]:
                if key in attrs_a and key in attrs_b:
                    attrs[key] = join(attrs_a[key], attrs_b[key])
                else:
                    attrs[key] = UNKNOWN
            mods = {}
            for key in list(mods_a) + [k for k in mods_b if k not in mods_a]:
                same = key in mods_a and key in mods_b and mods_a[key] is mods_b[key]
                mods[key] = mods_a[key] if same else UNKNOWN
                if not same:
                    attrs[key] = UNKNOWN
            self_obj.attrs, self_obj.modules = attrs, {k: m for k, m in mods.items() if m is not UNKNOWN}

    def iterate(self, value):
        """The items of a value we can iterate exactly, or None."""
        if isinstance(value, (PList, PDict)) and value.poisoned:
            return None
        if isinstance(value, dict):
            return None if getattr(value, "maybe", None) else list(value.keys())
        if isinstance(value, (list, tuple)):
            return list(value)
        if isinstance(value, range):
            return list(value) if len(value) <= MAX_UNROLL else None
        if isinstance(value, str):
            return list(value)
        if isinstance(value, V.Layer) and value.kind in CONTAINERS:
            if value.args.get("__opaque__"):
                return None
            if value.kind == "torch.nn.ModuleDict":
                return list(value.children.keys())
            return list(value.children.values())
        if isinstance(value, V.Instance):
            # a user subclass of Sequential / ModuleList iterates over its registered modules
            bases = {b.name for b in value.cls.external_bases()}
            if bases & {"torch.nn.Sequential", "torch.nn.ModuleList"}:
                return list(value.modules.values())
        if isinstance(value, Tensor) and value.shape and isinstance(value.shape[0], int) and value.shape[0] <= 64:
            return [Tensor(value.shape[1:], dtype=value.dtype) for _ in range(value.shape[0])]
        return None

    def exec_for(self, stmt, frame):
        iterable = self.eval(stmt.iter, frame)
        items = self.iterate(iterable)
        body = stmt.body.body
        if items is None or len(items) > MAX_UNROLL or _contains_loop_exit(body):
            self.exec_unknown_loop(body, frame, stmt.target, items)
            return
        for item in items:
            self.assign(stmt.target, item, frame)
            self.exec_body(body, frame)
            if frame.halt == "continue":
                frame.halt = None
            elif frame.halt == "break":
                frame.halt = None
                return
            elif frame.halt:
                return
        if stmt.orelse is not None:
            self.exec_body(stmt.orelse.body.body, frame)

    def exec_unknown_loop(self, body, frame, target, items=None):
        """A loop we cannot unroll: run the body from the entry state, join, run once more, join."""
        for _ in range(2):
            before = dict(frame.locals)
            f = Frame(dict(frame.locals), frame.self_obj, frame.closure, frame.func, frame.in_module)
            f.uncertain = frame.uncertain + 1
            if target is not None:
                element = UNKNOWN
                if items:
                    element = items[0]
                    for other in items[1:8]:
                        element = join(element, other)
                self.assign(target, element, f)
            self.exec_body(body, f)
            frame.returns.extend(f.returns)
            for key, value in f.locals.items():
                frame.locals[key] = join(before[key], value) if key in before else value

    # -- assignment -----------------------------------------------------------------------------------------
    def assign(self, target, value, frame):
        if isinstance(target, cst.Name):
            frame.locals[target.value] = value
            if self.run.names is not None and isinstance(value, Tensor):
                self.run.names.append((target, value, True))
        elif isinstance(target, (cst.Tuple, cst.List)):
            elements = target.elements
            star = [i for i, e in enumerate(elements) if isinstance(e, cst.StarredElement)]
            items = None
            if isinstance(value, (tuple, list)) and not getattr(value, "poisoned", False):
                items = list(value)
            elif isinstance(value, Tensor):
                items = self.iterate(value)
            if items is not None and not star and len(items) != len(elements):
                items = None
            if items is not None and star:
                i = star[0]
                after = len(elements) - i - 1
                if len(items) < len(elements) - 1:
                    items = None
                else:
                    items = items[:i] + [PList(items[i:len(items) - after])] + items[len(items) - after:]
            for index, element in enumerate(elements):
                sub_target = element.value
                self.assign(sub_target, items[index] if items is not None else UNKNOWN, frame)
        elif isinstance(target, cst.Attribute):
            obj = self.eval(target.value, frame)
            self.set_attr(obj, target.attr.value, value, frame)
        elif isinstance(target, cst.Subscript):
            obj = self.eval(target.value, frame)
            if isinstance(obj, (PList, PDict)) and len(target.slice) == 1 and isinstance(
                    target.slice[0].slice, cst.Index):
                key = self.eval(target.slice[0].slice.value, frame)
                if isinstance(obj, PDict) and frame.uncertain > obj.born and isinstance(key, (str, int)):
                    obj.maybe.add(key)
                    obj[key] = UNKNOWN
                    return
                self.mutate(obj, frame)
                try:
                    if key is UNKNOWN or isinstance(key, (Tensor, D.Expr)):
                        obj.poisoned = True
                    else:
                        obj[key] = value
                except (IndexError, TypeError, KeyError):
                    obj.poisoned = True
            elif isinstance(obj, V.Layer) and obj.kind == "torch.nn.ModuleDict":
                key = self.eval(target.slice[0].slice.value, frame) if isinstance(
                    target.slice[0].slice, cst.Index) else UNKNOWN
                if isinstance(key, str) and V.is_module(value):
                    obj.children[key] = value
            elif isinstance(obj, Tensor):
                pass   # x[mask] = 0 keeps x's shape
        elif isinstance(target, cst.StarredElement):
            self.assign(target.value, value, frame)

    def set_attr(self, obj, name, value, frame):
        if isinstance(obj, V.Instance):
            if V.is_module(value):
                obj.modules[name] = value
                obj.attrs.pop(name, None)
            else:
                obj.modules.pop(name, None)
                obj.attrs[name] = value

    # -- expressions ----------------------------------------------------------------------------------------
    def eval(self, node, frame):
        self.run.tick()
        kind = type(node)
        method = _DISPATCH.get(kind)
        if method is None:
            method = _DISPATCH[kind] = getattr(Interpreter, "eval_" + kind.__name__, None) or Interpreter.eval_unknown
        return method(self, node, frame)

    def eval_unknown(self, node, frame):
        return UNKNOWN

    def eval_Integer(self, node, frame):
        return int(node.value.replace("_", ""), 0) if not node.value.startswith("0") or node.value == "0" else \
            ast.literal_eval(node.value)

    def eval_Float(self, node, frame):
        return float(node.value.replace("_", ""))

    def eval_Imaginary(self, node, frame):
        return UNKNOWN

    def eval_SimpleString(self, node, frame):
        text = node.value
        if "\\" not in text and text[0] in "'\"":       # the common case, without compiling anything
            quote = text[:3] if text[:3] in ('"""', "'''") else text[0]
            return text[len(quote):-len(quote)]
        try:
            return ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return UNKNOWN

    def eval_ConcatenatedString(self, node, frame):
        left, right = self.eval(node.left, frame), self.eval(node.right, frame)
        if isinstance(left, str) and isinstance(right, str):
            return left + right
        return UNKNOWN

    def eval_FormattedString(self, node, frame):
        return UNKNOWN

    def eval_Name(self, node, frame):
        name = node.value
        if name in frame.locals:
            value = frame.locals[name]
            if self.run.names is not None and isinstance(value, Tensor):
                self.run.names.append((node, value, False))
            return value
        if frame.closure is not None and name in frame.closure:
            return frame.closure[name]
        if name in self.file.globals:
            return self.file.globals[name]
        if name in self.file.imports:
            return V.External(self.file.imports[name])
        if name == "True":
            return True
        if name == "False":
            return False
        if name == "None":
            return None
        if name in BUILTINS:
            return BUILTINS[name]
        if name == "__name__":
            return "__main__"
        return UNKNOWN

    def eval_Attribute(self, node, frame):
        return self.get_attr(self.eval(node.value, frame), node.attr.value, node, frame)

    def eval_Tuple(self, node, frame):
        items = self.elements(node.elements, frame)
        return UNKNOWN if items is None else tuple(items)

    def eval_List(self, node, frame):
        items = self.elements(node.elements, frame)
        if items is None:
            out = PList(born=frame.uncertain)
            out.poisoned = True
            return out
        return PList(items, born=frame.uncertain)

    def eval_Set(self, node, frame):
        return UNKNOWN

    def elements(self, elements, frame):
        out = []
        for element in elements:
            if isinstance(element, cst.StarredElement):
                value = self.eval(element.value, frame)
                items = self.iterate(value)
                if items is None:
                    return None
                out.extend(items)
            else:
                out.append(self.eval(element.value, frame))
        return out

    def eval_Dict(self, node, frame):
        out = PDict(born=frame.uncertain)
        for element in node.elements:
            if isinstance(element, cst.StarredDictElement):
                value = self.eval(element.value, frame)
                if isinstance(value, dict) and not getattr(value, "poisoned", False):
                    out.update(value)
                else:
                    out.poisoned = True
                continue
            key = self.eval(element.key, frame)
            value = self.eval(element.value, frame)
            if key is UNKNOWN or isinstance(key, (Tensor, D.Expr, list, dict)):
                out.poisoned = True
            else:
                try:
                    out[key] = value
                except TypeError:
                    out.poisoned = True
        return out

    def eval_Comparison(self, node, frame):
        left = self.eval(node.left, frame)
        result = True
        for target in node.comparisons:
            right = self.eval(target.comparator, frame)
            r = self.compare(target.operator, left, right)
            if r is UNKNOWN:
                result = UNKNOWN if result is not False else False
            elif not r:
                return False
            left = right
        return result

    def compare(self, op, left, right):
        if isinstance(op, (cst.Is, cst.IsNot)):
            if left is UNKNOWN or right is UNKNOWN:
                return UNKNOWN
            if right is None or left is None:
                same = left is right
            else:
                return UNKNOWN if not (V.is_module(left) or V.is_module(right)) else left is right if isinstance(
                    op, cst.Is) else left is not right
            return same if isinstance(op, cst.Is) else not same
        if isinstance(op, (cst.In, cst.NotIn)):
            if isinstance(right, (PList, PDict)) and right.poisoned or left is UNKNOWN:
                return UNKNOWN
            if isinstance(right, (list, tuple, dict, str, set)) and not isinstance(left, (Tensor, D.Expr)):
                try:
                    r = left in right
                except TypeError:
                    return UNKNOWN
                return r if isinstance(op, cst.In) else not r
            if isinstance(right, PDict) and left in right.maybe:
                return UNKNOWN
            if isinstance(right, V.Layer) and right.kind == "torch.nn.ModuleDict" and isinstance(left, str):
                r = left in right.children
                return r if isinstance(op, cst.In) else not r
            return UNKNOWN
        fn = _COMPARE.get(type(op))
        if fn is None:
            return UNKNOWN
        if isinstance(left, D.Expr) or isinstance(right, D.Expr):
            if not (_is_dimlike(left) and _is_dimlike(right)):
                return UNKNOWN
            diff = D.sub(left, right)
            if isinstance(diff, int):
                return fn(diff, 0)
            return UNKNOWN
        if left is UNKNOWN or right is UNKNOWN or isinstance(left, Tensor) or isinstance(right, Tensor):
            return UNKNOWN
        if not all(isinstance(v, (int, float, str, bool, tuple, type(None))) or isinstance(v, list)
                   for v in (left, right)):
            if isinstance(op, (cst.Equal, cst.NotEqual)) and (V.is_module(left) or V.is_module(right)):
                return UNKNOWN
            return UNKNOWN
        try:
            if any(isinstance(v, (list, tuple)) and any(x is UNKNOWN or isinstance(x, (Tensor, D.Expr)) for x in v)
                   for v in (left, right)):
                return UNKNOWN
            return fn(left, right)
        except TypeError:
            return UNKNOWN

    def eval_BooleanOperation(self, node, frame):
        left = self.eval(node.left, frame)
        t = truth(left)
        if isinstance(node.operator, cst.And):
            if t is False:
                return left
            right = self.eval(node.right, frame)
            if t is True:
                return right
            return False if truth(right) is False else UNKNOWN
        if t is True:
            return left
        right = self.eval(node.right, frame)
        if t is False:
            return right
        return True if truth(right) is True else UNKNOWN

    def eval_UnaryOperation(self, node, frame):
        value = self.eval(node.expression, frame)
        op = node.operator
        if isinstance(op, cst.Not):
            t = truth(value)
            return UNKNOWN if t is None else not t
        if isinstance(value, Tensor):
            return self.record_fn("Tensor.neg" if isinstance(op, cst.Minus) else "Tensor.clone", [value], {}, node)
        if isinstance(op, cst.Minus):
            if isinstance(value, D.Expr):
                return D.neg(value)
            return -value if isinstance(value, (int, float)) else UNKNOWN
        if isinstance(op, cst.Plus):
            return value if isinstance(value, (int, float, D.Expr)) else UNKNOWN
        if isinstance(op, cst.BitInvert):
            return ~value if isinstance(value, int) else UNKNOWN
        return UNKNOWN

    def eval_BinaryOperation(self, node, frame):
        left = self.eval(node.left, frame)
        right = self.eval(node.right, frame)
        return self.binop(type(node.operator), left, right, node)

    def binop(self, op, left, right, node):
        if isinstance(left, Tensor) or isinstance(right, Tensor):
            name = _TENSOR_OPS.get(op)
            if name is None:
                return Tensor(None)
            return self.record_fn(name, [left, right], {}, node)
        if left is UNKNOWN or right is UNKNOWN:
            return UNKNOWN
        if isinstance(left, D.Expr) or isinstance(right, D.Expr):
            if not (_is_dimlike(left) and _is_dimlike(right)):
                return UNKNOWN
            if op is cst.Add:
                return D.add(left, right)
            if op is cst.Subtract:
                return D.sub(left, right)
            if op is cst.Multiply:
                return D.mul(left, right)
            if op is cst.FloorDivide:
                return D.floordiv(left, right)
            if op is cst.Divide:
                exact = D.exact_div(left, right)
                return UNKNOWN if exact is None else exact
            return UNKNOWN
        fn = _BINOPS.get(op)
        if fn is None:
            return UNKNOWN
        if isinstance(left, (PList, PDict)) and left.poisoned or isinstance(right, (PList, PDict)) and right.poisoned:
            return UNKNOWN
        try:
            if isinstance(left, (int, float)) and isinstance(right, (int, float)) and op is cst.Power and abs(right) > 64:
                return UNKNOWN
            if isinstance(left, (list, tuple, str)) and isinstance(right, int) and op is cst.Multiply and right > 4096:
                return UNKNOWN
            result = fn(left, right)
        except Exception:
            return UNKNOWN
        if isinstance(result, list) and not isinstance(result, PList):
            result = PList(result)
        if isinstance(result, int) and not isinstance(result, bool) and abs(result) > 1 << 62:
            return UNKNOWN
        return result

    def eval_IfExp(self, node, frame):
        t = truth(self.eval(node.test, frame))
        if t is True:
            return self.eval(node.body, frame)
        if t is False:
            return self.eval(node.orelse, frame)
        f = Frame(frame.locals, frame.self_obj, frame.closure, frame.func, frame.in_module)
        f.uncertain = frame.uncertain + 1
        return join(self.eval(node.body, f), self.eval(node.orelse, f))

    def eval_Subscript(self, node, frame):
        base = self.eval(node.value, frame)
        if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
            index = self.eval(node.slice[0].slice.value, frame)
            return self.index(base, index, node)
        if isinstance(base, Tensor):
            return self.tensor_index(base, node, frame)
        if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Slice):
            sl = node.slice[0].slice
            parts = [self.eval(p, frame) if p is not None else None for p in (sl.lower, sl.upper, sl.step)]
            if all(p is None or isinstance(p, int) for p in parts):
                s = slice(*parts)
                if isinstance(base, (list, tuple, str)) and not getattr(base, "poisoned", False):
                    out = base[s]
                    return PList(out) if isinstance(base, list) else out
                if isinstance(base, V.Layer) and base.kind in ("torch.nn.Sequential", "torch.nn.ModuleList"):
                    children = list(base.children.values())[s]
                    return V.Layer(base.kind, {}, base.call, {str(i): c for i, c in enumerate(children)})
        return UNKNOWN

    def index(self, base, index, node):
        if index is UNKNOWN:
            return UNKNOWN
        if isinstance(base, Tensor):
            return self.tensor_index_values(base, [index], node)
        if isinstance(base, (PList, PDict)) and base.poisoned:
            return UNKNOWN
        if isinstance(base, (list, tuple, dict, str, range)):
            try:
                if isinstance(index, (int, str, tuple, bool, float)) or index is None:
                    return base[index]
            except (IndexError, KeyError, TypeError):
                return UNKNOWN
            return UNKNOWN
        if isinstance(base, V.Layer) and base.kind in CONTAINERS:
            if base.args.get("__opaque__"):
                return UNKNOWN
            if isinstance(index, int) and not isinstance(index, bool):
                children = list(base.children.values())
                return children[index] if -len(children) <= index < len(children) else UNKNOWN
            if isinstance(index, str):
                return base.children.get(index, UNKNOWN)
        if isinstance(base, V.Instance) and isinstance(index, int):
            children = list(base.modules.values())
            return children[index] if -len(children) <= index < len(children) else UNKNOWN
        return UNKNOWN

    def tensor_index(self, base, node, frame):
        values = []
        for element in node.slice:
            s = element.slice
            if isinstance(s, cst.Index):
                values.append(self.eval(s.value, frame))
            else:
                parts = [self.eval(p, frame) if p is not None else None for p in (s.lower, s.upper, s.step)]
                values.append(("slice", parts))
        return self.tensor_index_values(base, values, node)

    def tensor_index_values(self, base, values, node):
        """x[0], x[:, -1], x[..., :k], x[:, None]: the resulting shape, or unknown."""
        shape = base.shape
        if shape is None:
            return Tensor(None, dtype=base.dtype)
        if len(values) == 1 and isinstance(values[0], tuple) and values[0] and values[0][0] != "slice":
            values = list(values[0])
        out = []
        axis = 0
        consumed = sum(1 for v in values if v is not None and not (isinstance(v, V.External) and v.name == "Ellipsis")
                       and v is not Ellipsis)
        for v in values:
            if v is Ellipsis or (isinstance(v, V.External) and v.name == "Ellipsis"):
                skip = len(shape) - consumed
                if skip < 0:
                    return Tensor(None)
                out.extend(shape[axis:axis + skip])
                axis += skip
                continue
            if v is None:
                out.append(1)
                continue
            if axis >= len(shape):
                return Tensor(None)
            size = shape[axis]
            if isinstance(v, tuple) and len(v) == 2 and v[0] == "slice":
                lo, hi, step = v[1]
                if lo is None and hi is None and step is None:
                    out.append(size)
                elif all(p is None or (isinstance(p, int) and not isinstance(p, bool)) for p in (lo, hi, step)) \
                        and isinstance(size, int):
                    out.append(len(range(size)[slice(lo, hi, step)]))
                elif step is None and lo is None and _is_dimlike(hi) and isinstance(hi, int) and hi >= 0 and size is not None:
                    out.append(None)   # min(hi, size) is unknown for symbolic sizes
                else:
                    out.append(None)
                axis += 1
            elif isinstance(v, int) and not isinstance(v, bool) or isinstance(v, D.Expr):
                axis += 1
            elif isinstance(v, Tensor):
                if v.dtype == "long" and v.shape is not None:
                    out.extend(v.shape)
                    axis += 1
                else:
                    return Tensor(None, dtype=base.dtype)
            else:
                return Tensor(None, dtype=base.dtype)
        out.extend(shape[axis:])
        result = Tensor(tuple(out), dtype=base.dtype)
        self.run.record("Tensor.__getitem__", {"input": base}, result, node)
        return result

    def eval_ListComp(self, node, frame):
        items = self.comprehension(node, frame, lambda f: [self.eval(node.elt, f)])
        return UNKNOWN if items is None else PList(items, born=frame.uncertain)

    def eval_GeneratorExp(self, node, frame):
        items = self.comprehension(node, frame, lambda f: [self.eval(node.elt, f)])
        return UNKNOWN if items is None else PList(items, born=frame.uncertain)

    def eval_DictComp(self, node, frame):
        items = self.comprehension(node, frame, lambda f: [(self.eval(node.key, f), self.eval(node.value, f))])
        if items is None:
            return UNKNOWN
        try:
            return PDict(items, born=frame.uncertain)
        except TypeError:
            return UNKNOWN

    def comprehension(self, node, frame, produce):
        out = []
        f = Frame(dict(frame.locals), frame.self_obj, frame.closure, frame.func, frame.in_module)
        f.uncertain = frame.uncertain

        def loop(comp):
            if comp is None:
                out.extend(produce(f))
                return True
            items = self.iterate(self.eval(comp.iter, f))
            if items is None or len(items) > MAX_UNROLL:
                return False
            for item in items:
                self.assign(comp.target, item, f)
                ok = True
                for cond in comp.ifs:
                    t = truth(self.eval(cond.test, f))
                    if t is None:
                        return False
                    ok = ok and t
                if ok and not loop(comp.inner_for_in):
                    return False
            return True

        return out if loop(node.for_in) else None

    def eval_NamedExpr(self, node, frame):
        value = self.eval(node.value, frame)
        self.assign(node.target, value, frame)
        return value

    def eval_Call(self, node, frame):
        func = self.eval(node.func, frame)
        args, kwargs = [], {}
        opaque_args = opaque_kwargs = False
        for arg in node.args:
            value = self.eval(arg.value, frame)
            if arg.star == "*":
                items = self.iterate(value)
                if items is None:
                    opaque_args = True
                else:
                    args.extend(items)
            elif arg.star == "**":
                if isinstance(value, dict) and not getattr(value, "poisoned", False):
                    kwargs.update({k: v for k, v in value.items() if isinstance(k, str)})
                else:
                    opaque_kwargs = True
            elif arg.keyword is not None:
                kwargs[arg.keyword.value] = value
            else:
                args.append(value)
        if opaque_args or opaque_kwargs:
            if isinstance(func, (V.Function, V.ClassValue)) and not opaque_args:
                # f(a, **unknown): every parameter not given explicitly may be overridden: it is unknown
                kwargs[UNKNOWN_REST] = True
            else:
                return self.call_unknown_args(func, node)
        return self.call(func, args, kwargs, node, frame)

    def call_unknown_args(self, func, node):
        """f(*xs) with xs not known: a layer built this way is still a layer, with unknown arguments."""
        if isinstance(func, V.External):
            name = canonical(func.name)
            if name in LAYERS or name in CONTAINERS:
                layer = V.Layer(name, {}, node)
                layer.args["__unknown__"] = True
                if name in CONTAINERS:
                    layer.args["__opaque__"] = True
                self.run.layers.append(layer)
                return layer
        if isinstance(func, (V.Layer, V.Instance)):
            return Tensor(None)
        return UNKNOWN

    # -- calls ----------------------------------------------------------------------------------------------
    def call(self, func, args, kwargs, node, frame):
        if isinstance(func, V.Function):
            return self.call_function(func, args, kwargs, node)
        if isinstance(func, V.ClassValue):
            return self.instantiate(func, args, kwargs, node)
        if isinstance(func, V.External):
            return self.call_external(canonical(func.name), args, kwargs, node, frame)
        if isinstance(func, (V.Layer, V.Instance)):
            return self.run.call_module(self, func, args, kwargs, node)
        if isinstance(func, V.TensorMethod):
            return self.call_tensor_method(func, args, kwargs, node)
        if isinstance(func, BuiltinMethod):
            return self.call_builtin_method(func, args, kwargs, frame)
        if isinstance(func, Builtin):
            return self.call_builtin(func.name, args, kwargs, node, frame)
        if isinstance(func, SuperMethod):
            return self.call_super_method(func.sup, func.name, args, kwargs, node)
        self.escape(args, kwargs)
        return UNKNOWN

    def call_function(self, func, args, kwargs, node, self_obj=None):
        fdef = func.node
        if self.depth >= MAX_DEPTH or self.stack.count(fdef) >= 2:
            return UNKNOWN
        bound = func.bound if func.bound is not None else self_obj
        params = fdef.params
        local = {}
        rest_unknown = kwargs.pop(UNKNOWN_REST, False)
        positional = list(params.posonly_params) + list(params.params)
        is_static = any(dotted(d.decorator) in ("staticmethod",) for d in fdef.decorators)
        if func.owner is not None and not is_static:
            if bound is not None:
                args = [bound] + list(args)
            elif func.owner is not None and any(dotted(d.decorator) == "classmethod" for d in fdef.decorators):
                args = [func.owner] + list(args)
        args = list(args)
        for param in positional:
            name = param.name.value
            if args:
                local[name] = args.pop(0)
            elif name in kwargs:
                local[name] = kwargs.pop(name)
            elif param.default is not None and not rest_unknown:
                local[name] = self.eval(param.default, self.file.global_frame)
            else:
                local[name] = UNKNOWN
        if isinstance(params.star_arg, cst.Param):
            local[params.star_arg.name.value] = tuple(args)
            args = []
        for param in params.kwonly_params:
            name = param.name.value
            if name in kwargs:
                local[name] = kwargs.pop(name)
            elif param.default is not None and not rest_unknown:
                local[name] = self.eval(param.default, self.file.global_frame)
            else:
                local[name] = UNKNOWN
        if params.star_kwarg is not None:
            local[params.star_kwarg.name.value] = PDict(kwargs)
            local[params.star_kwarg.name.value].poisoned = rest_unknown
        self_value = local.get(positional[0].name.value) if positional and func.owner is not None else None
        f = Frame(local, self_value if isinstance(self_value, V.Instance) else None, func.closure, func)
        self.depth += 1
        self.stack.append(fdef)
        try:
            self.exec_body(fdef.body.body if isinstance(fdef.body, cst.IndentedBlock) else fdef.body.body, f)
        finally:
            self.depth -= 1
            self.stack.pop()
        if not f.returns:
            return None
        result = f.returns[0]
        for other in f.returns[1:]:
            result = join(result, other)
        return result

    def make_class(self, node, frame):
        bases = [self.eval(arg.value, frame) for arg in node.bases if arg.keyword is None]
        cls = V.ClassValue(node.name.value, node, bases, {}, {})
        body_frame = Frame(cls.attrs, in_module=frame.in_module)
        body_frame.closure = frame.locals if not frame.in_module else None
        for stmt in node.body.body:
            if isinstance(stmt, cst.FunctionDef):
                cls.methods[stmt.name.value] = stmt
            elif isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, (cst.Assign, cst.AnnAssign)):
                        try:
                            self.exec_small(small, body_frame)
                        except BudgetExceeded:
                            raise
                        except Exception:
                            pass
        return cls

    def instantiate(self, cls, args, kwargs, node):
        if "__init__" not in cls.methods and "__new__" in cls.methods:
            return UNKNOWN
        instance = V.Instance(cls, call=node)
        init, owner = cls.lookup("__init__")
        if isinstance(init, cst.FunctionDef):
            self.call_function(V.Function(init, owner, instance), args, kwargs, node)
        else:
            # no user __init__: the framework base's constructor takes the arguments
            self.init_external_base(instance, cls.external_bases(), args, kwargs, node)
        dataclass_like = any(dotted(d.decorator) in ("dataclass", "dataclasses.dataclass") or (
            isinstance(d.decorator, cst.Call) and dotted(d.decorator.func) in ("dataclass", "dataclasses.dataclass"))
            for d in cls.node.decorators)
        if dataclass_like:
            return UNKNOWN
        return instance

    def init_external_base(self, instance, bases, args, kwargs, node):
        names = {b.name for b in bases}
        if "torch.nn.Sequential" in names:
            container = self.build_container("torch.nn.Sequential", args, kwargs, node)
            instance.modules.update(container.children)
        elif "torch.nn.ModuleList" in names:
            container = self.build_container("torch.nn.ModuleList", args, kwargs, node)
            instance.modules.update(container.children)

    def call_super_method(self, sup, name, args, kwargs, node):
        mro = sup.instance.cls.mro() if isinstance(sup.instance, V.Instance) else []
        after = mro[mro.index(sup.after) + 1:] if sup.after in mro else []
        for cls in after:
            if name in cls.methods:
                return self.call_function(V.Function(cls.methods[name], cls, sup.instance), args, kwargs, node)
        if name == "__init__" and isinstance(sup.instance, V.Instance):
            self.init_external_base(sup.instance, sup.after.external_bases() if isinstance(
                sup.after, V.ClassValue) else [], args, kwargs, node)
            return None
        if name == "forward" and isinstance(sup.instance, V.Instance):
            return self.run.call_module(self, sup.instance, args, kwargs, node, skip_user_forward=True)
        return UNKNOWN

    def build_container(self, kind, args, kwargs, node):
        layer = V.Layer(kind, {}, node)
        self.run.layers.append(layer)
        if kind == "torch.nn.Sequential":
            if len(args) == 1 and isinstance(args[0], dict):
                if getattr(args[0], "poisoned", False):
                    layer.args["__opaque__"] = True
                layer.children = {str(k): v for k, v in args[0].items()}
            else:
                layer.children = {str(i): v for i, v in enumerate(args)}
        elif kind == "torch.nn.ModuleList":
            items = self.iterate(args[0]) if args else []
            if items is None:
                layer.args["__opaque__"] = True
                items = []
            layer.children = {str(i): v for i, v in enumerate(items)}
        elif kind == "torch.nn.ModuleDict":
            source = args[0] if args else kwargs.get("modules", {})
            if isinstance(source, dict) and not getattr(source, "poisoned", False):
                layer.children = {str(k): v for k, v in source.items()}
            elif isinstance(source, list) and not source.poisoned and all(
                    isinstance(p, tuple) and len(p) == 2 for p in source):
                layer.children = {str(k): v for k, v in source}
            else:
                layer.args["__opaque__"] = True
        if any(not V.is_module(c) for c in layer.children.values()):
            layer.args["__opaque__"] = True
            layer.children = {k: c for k, c in layer.children.items() if V.is_module(c)}
        return layer

    def call_external(self, name, args, kwargs, node, frame):
        if name in CONTAINERS:
            return self.build_container(name, args, kwargs, node)
        spec = LAYERS.get(name)
        if spec is not None:
            return self.build_layer(spec, args, kwargs, node)
        if name in ("torch.nn.Parameter", "torch.nn.parameter.Parameter"):
            source = args[0] if args and isinstance(args[0], Tensor) else Tensor(None)
            return Tensor(source.shape, node=source.node, dtype=source.dtype, param=True)
        if name == "torch.autograd.Variable":
            return args[0] if args and isinstance(args[0], Tensor) else Tensor(None)
        if name.startswith("torch.nn.init."):
            return args[0] if args else UNKNOWN
        if name in ("collections.OrderedDict", "typing.OrderedDict"):
            return self.call_builtin("dict", args, kwargs, node, frame)
        if name.startswith("math."):
            return self.call_math(name[5:], args)
        if name in ("typing.cast", "typing_extensions.cast"):
            return args[1] if len(args) == 2 else UNKNOWN
        if name in ("functools.partial",):
            return UNKNOWN
        spec = FN.lookup(name)
        if spec is not None:
            return self.record_fn(name, args, kwargs, node, spec)
        self.escape(args, kwargs)
        if name.startswith("torch.") and any(isinstance(a, Tensor) for a in args):
            return Tensor(None)
        return UNKNOWN

    @staticmethod
    def escape(args, kwargs):
        """Lists and dicts handed to code we do not read may be changed by it."""
        for value in list(args) + list(kwargs.values()):
            if isinstance(value, (PList, PDict)):
                value.poisoned = True
            elif isinstance(value, V.Layer) and value.kind in CONTAINERS:
                value.args["__opaque__"] = True

    def build_layer(self, spec, args, kwargs, node):
        bound = dict(spec.defaults)
        for name, value in zip(spec.params, args):
            bound[name] = value
        if len(args) > len(spec.params):
            bound["__unknown__"] = True
        bound.update(kwargs)
        layer = V.Layer(spec.kind, bound, node)
        self.run.layers.append(layer)
        return layer

    def record_fn(self, name, args, kwargs, node, spec=None):
        spec = spec or FN.lookup(name)
        if spec is None:
            return Tensor(None)
        bound = FN.bind(spec, args, dict(kwargs))
        if bound is None:
            return Tensor(None) if any(isinstance(a, Tensor) for a in args) else UNKNOWN
        try:
            output = spec.transfer(bound)
        except (TypeError, ValueError, ZeroDivisionError, IndexError, AttributeError, OverflowError):
            output = Tensor(None)
        return self.run.record(spec.op, bound, output, node)

    def call_tensor_method(self, method, args, kwargs, node):
        spec = FN.lookup("Tensor." + method.name)
        if spec is None:
            return Tensor(None) if method.name not in ("tolist", "item", "numpy", "data_ptr", "is_contiguous",
                                                        "element_size", "get_device", "stride") else UNKNOWN
        return self.record_fn("Tensor." + method.name, [method.tensor] + list(args), kwargs, node, spec)

    def call_builtin_method(self, method, args, kwargs, frame):
        obj, name = method.obj, method.name
        if isinstance(obj, V.Layer):
            return self.call_container_method(obj, name, args, frame)
        if isinstance(obj, V.Instance):
            # nn.Module.register_buffer / add_module ...: an attribute by another name
            if len(args) >= 2 and isinstance(args[0], str):
                self.set_attr(obj, args[0], args[1], frame)
            return None
        if isinstance(obj, PList):
            if name in ("append", "insert", "extend", "pop", "remove", "clear", "reverse", "sort"):
                self.mutate(obj, frame)
            if name == "append" and len(args) == 1:
                obj.append(args[0])
                return None
            if name == "extend" and len(args) == 1:
                items = self.iterate(args[0])
                if items is None:
                    obj.poisoned = True
                else:
                    obj.extend(items)
                return None
            if name == "insert" and len(args) == 2 and isinstance(args[0], int):
                obj.insert(args[0], args[1])
                return None
            if name == "pop" and not obj.poisoned and obj:
                if not args:
                    return obj.pop()
                if isinstance(args[0], int) and -len(obj) <= args[0] < len(obj):
                    return obj.pop(args[0])
            if name in ("index", "count") and not obj.poisoned and args:
                try:
                    return getattr(obj, name)(args[0])
                except (ValueError, TypeError):
                    return UNKNOWN
            if name == "copy":
                return PList(obj, born=frame.uncertain)
            obj.poisoned = True
            return UNKNOWN
        if isinstance(obj, dict):
            if getattr(obj, "poisoned", False):
                return UNKNOWN
            if name in ("get", "pop", "setdefault", "update") and getattr(obj, "maybe", None) and (
                    not args or not isinstance(args[0], (str, int)) or args[0] in obj.maybe or name == "update"):
                if name != "get":
                    obj.poisoned = True
                return UNKNOWN
            if name == "get" and args and not isinstance(args[0], (Tensor, D.Expr)) and args[0] is not UNKNOWN:
                try:
                    return obj.get(args[0], args[1] if len(args) > 1 else None)
                except TypeError:
                    return UNKNOWN
            if name in ("keys", "values"):
                return PList(getattr(obj, name)())
            if name == "items":
                return PList(obj.items())
            if name in ("update", "pop", "setdefault", "clear") and isinstance(obj, PDict):
                self.mutate(obj, frame)
                if name == "update" and args and isinstance(args[0], dict) and not getattr(args[0], "poisoned", False):
                    obj.update(args[0])
                    return None
                if name == "setdefault" and args:
                    try:
                        return obj.setdefault(args[0], args[1] if len(args) > 1 else None)
                    except TypeError:
                        pass
                obj.poisoned = True
            return UNKNOWN
        if isinstance(obj, str):
            if name in ("lower", "upper", "strip", "startswith", "endswith", "replace", "split", "join", "format"):
                if all(isinstance(a, (str, int, float, list, tuple)) for a in args) and not kwargs:
                    try:
                        result = getattr(obj, name)(*args)
                        return PList(result) if isinstance(result, list) else result
                    except Exception:
                        return UNKNOWN
            return UNKNOWN
        if isinstance(obj, tuple) and name in ("index", "count") and args:
            try:
                return getattr(obj, name)(args[0])
            except (ValueError, TypeError):
                return UNKNOWN
        return UNKNOWN

    def call_container_method(self, layer, name, args, frame):
        """ModuleList.append, Sequential.add_module, ...; any other call may change it, so it becomes opaque."""
        if frame.uncertain:
            layer.args["__opaque__"] = True
        children = layer.children
        if name == "append" and len(args) == 1 and V.is_module(args[0]):
            children[str(len(children))] = args[0]
            return layer
        if name == "extend" and len(args) == 1:
            items = self.iterate(args[0])
            if items is not None and all(V.is_module(m) for m in items):
                for m in items:
                    children[str(len(children))] = m
                return layer
        if name == "add_module" and len(args) == 2 and isinstance(args[0], str) and V.is_module(args[1]):
            children[args[0]] = args[1]
            return None
        if name in ("parameters", "named_parameters", "modules", "named_modules", "children", "train", "eval",
                    "to", "cuda", "cpu", "apply", "zero_grad", "state_dict", "requires_grad_", "keys", "values",
                    "items", "named_children", "__len__", "float", "half"):
            if name in ("keys", "values", "items") and layer.kind == "torch.nn.ModuleDict" and not layer.args.get(
                    "__opaque__"):
                return PList(getattr(children, name)())
            return UNKNOWN
        layer.args["__opaque__"] = True
        return UNKNOWN

    def call_math(self, name, args):
        fn = {"ceil": math.ceil, "floor": math.floor, "sqrt": math.sqrt, "log": math.log, "log2": math.log2,
              "pow": math.pow, "prod": math.prod, "gcd": math.gcd, "exp": math.exp, "isqrt": math.isqrt}.get(name)
        if fn is None or not all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in args):
            if name == "prod" and args and isinstance(args[0], (list, tuple)) and all(
                    _is_dimlike(a) for a in args[0]):
                return D.product(args[0])
            return UNKNOWN
        try:
            return fn(*args)
        except (ValueError, OverflowError, TypeError):
            return UNKNOWN

    def call_builtin(self, name, args, kwargs, node, frame):
        def concrete(v):
            return v is not UNKNOWN and not isinstance(v, (Tensor, V.Layer, V.Instance)) and not getattr(
                v, "poisoned", False)
        if name == "range":
            if all(isinstance(a, int) and not isinstance(a, bool) for a in args) and 1 <= len(args) <= 3 and not kwargs:
                try:
                    return range(*args)
                except ValueError:
                    return UNKNOWN
            return UNKNOWN
        if name == "len":
            if not args:
                return UNKNOWN
            v = args[0]
            if isinstance(v, V.Layer) and v.kind in CONTAINERS:
                return UNKNOWN if v.args.get("__opaque__") else len(v.children)
            if isinstance(v, Tensor):
                return v.shape[0] if v.shape and v.shape[0] is not None else UNKNOWN
            if isinstance(v, (list, tuple, dict, str, range)) and concrete(v):
                return len(v)
            return UNKNOWN
        if name in ("int", "float", "bool", "str", "round", "abs"):
            if len(args) == 1 and isinstance(args[0], (int, float, str, bool)) and not kwargs:
                try:
                    return {"int": int, "float": float, "bool": bool, "str": str, "round": round, "abs": abs}[name](
                        args[0])
                except (ValueError, OverflowError):
                    return UNKNOWN
            if name == "int" and len(args) == 1 and isinstance(args[0], D.Expr):
                return args[0]
            if name == "round" and len(args) == 2 and all(isinstance(a, (int, float)) for a in args):
                return round(*args)
            return UNKNOWN
        if name in ("list", "tuple"):
            if not args:
                return PList(born=frame.uncertain) if name == "list" else ()
            items = self.iterate(args[0])
            if items is None:
                return UNKNOWN
            return PList(items, born=frame.uncertain) if name == "list" else tuple(items)
        if name == "dict":
            out = PDict(born=frame.uncertain)
            if args:
                src = args[0]
                if isinstance(src, dict) and concrete(src):
                    out.update(src)
                else:
                    items = self.iterate(src)
                    if items is None or not all(isinstance(p, tuple) and len(p) == 2 for p in items):
                        return UNKNOWN
                    try:
                        out.update(items)
                    except TypeError:
                        return UNKNOWN
            out.update(kwargs)
            return out
        if name in ("min", "max", "sum"):
            items = args if len(args) > 1 else (self.iterate(args[0]) if args else None)
            if items is None or not items or not all(isinstance(a, (int, float)) and not isinstance(a, bool)
                                                     for a in items):
                if name == "sum" and items is not None and all(_is_dimlike(a) for a in items):
                    total = 0
                    for a in items:
                        total = D.add(total, a)
                    return total
                return UNKNOWN
            return {"min": min, "max": max, "sum": sum}[name](items)
        if name == "enumerate":
            items = self.iterate(args[0]) if args else None
            start = args[1] if len(args) > 1 else kwargs.get("start", 0)
            if items is None or not isinstance(start, int):
                return UNKNOWN
            return PList([(i + start, x) for i, x in enumerate(items)])
        if name == "zip":
            lists = [self.iterate(a) for a in args]
            if any(l is None for l in lists):
                return UNKNOWN
            return PList(zip(*lists))
        if name in ("reversed", "sorted"):
            items = self.iterate(args[0]) if args else None
            if items is None:
                return UNKNOWN
            if name == "reversed":
                return PList(reversed(items))
            try:
                return PList(sorted(items))
            except TypeError:
                return UNKNOWN
        if name == "divmod" and len(args) == 2 and all(isinstance(a, int) for a in args) and args[1]:
            return divmod(*args)
        if name == "isinstance":
            return self.builtin_isinstance(args)
        if name == "getattr":
            if len(args) >= 2 and isinstance(args[1], str):
                value = self.get_attr(args[0], args[1], node, frame)
                if value is UNKNOWN and len(args) == 3 and isinstance(args[0], V.Instance) and not self.has_attr(
                        args[0], args[1]):
                    return args[2]
                return value
            return UNKNOWN
        if name == "hasattr":
            if len(args) == 2 and isinstance(args[0], V.Instance) and isinstance(args[1], str):
                return True if self.has_attr(args[0], args[1]) else UNKNOWN
            return UNKNOWN
        if name == "setattr":
            if len(args) == 3 and isinstance(args[1], str):
                self.set_attr(args[0], args[1], args[2], frame)
            return None
        if name == "super":
            owner = self.enclosing_class(frame)
            if frame.self_obj is not None and owner is not None:
                return V.Super(frame.self_obj, owner)
            return UNKNOWN
        if name in ("any", "all"):
            items = self.iterate(args[0]) if args else None
            if items is None:
                return UNKNOWN
            truths = [truth(i) for i in items]
            if None in truths:
                return UNKNOWN
            return any(truths) if name == "any" else all(truths)
        return UNKNOWN

    def enclosing_class(self, frame):
        func = frame.func
        return func.owner if isinstance(func, V.Function) else None

    def has_attr(self, instance, name):
        return name in instance.attrs or name in instance.modules or instance.cls.lookup(name)[0] is not None

    def builtin_isinstance(self, args):
        if len(args) != 2:
            return UNKNOWN
        value, kinds = args
        kinds = kinds if isinstance(kinds, tuple) else (kinds,)
        answers = []
        for kind in kinds:
            if isinstance(kind, Builtin):
                py = {"int": int, "float": float, "bool": bool, "str": str, "list": list, "tuple": tuple,
                      "dict": dict}.get(kind.name)
                if py is None or value is UNKNOWN or isinstance(value, (Tensor, D.Expr)):
                    if isinstance(value, D.Expr) and py is int:
                        answers.append(True)
                        continue
                    answers.append(None)
                    continue
                answers.append(isinstance(value, py) and not (py is int and isinstance(value, bool)))
            elif isinstance(kind, V.External):
                name = canonical(kind.name)
                if isinstance(value, Tensor):
                    answers.append(True if name == "torch.Tensor" else None)
                elif isinstance(value, V.Layer):
                    answers.append(True if name in (value.kind, "torch.nn.Module") else None)
                elif isinstance(value, (int, float, str, list, tuple)) and name.startswith("torch."):
                    answers.append(False)
                else:
                    answers.append(None)
            elif isinstance(kind, V.ClassValue):
                if isinstance(value, V.Instance):
                    answers.append(kind in value.cls.mro())
                elif isinstance(value, (int, float, str, list, tuple, V.Layer, Tensor)):
                    answers.append(False)
                else:
                    answers.append(None)
            else:
                answers.append(None)
        if True in answers:
            return True
        if all(a is False for a in answers):
            return False
        return UNKNOWN

    # -- attributes ---------------------------------------------------------------------------------------------
    def get_attr(self, base, name, node, frame):
        if isinstance(base, V.Instance):
            if name in base.attrs:
                return base.attrs[name]
            if name in base.modules:
                return base.modules[name]
            member, owner = base.cls.lookup(name)
            if isinstance(member, cst.FunctionDef):
                func = V.Function(member, owner, base)
                if any(dotted(d.decorator) in ("property", "functools.cached_property", "cached_property")
                       for d in member.decorators):
                    return self.call_function(func, [], {}, node)
                return func
            if member is not None:
                return member
            if name in ("register_buffer", "register_parameter", "add_module", "register_module"):
                return BuiltinMethod(base, name)
            return UNKNOWN
        if isinstance(base, V.ClassValue):
            member, owner = base.lookup(name)
            if isinstance(member, cst.FunctionDef):
                return V.Function(member, owner)
            if member is not None:
                return member
            if name == "__name__":
                return base.name
            return UNKNOWN
        if isinstance(base, V.External):
            return base.attr(name)
        if isinstance(base, Tensor):
            return self.tensor_attr(base, name, node)
        if isinstance(base, V.Layer):
            return self.layer_attr(base, name)
        if isinstance(base, V.Super):
            return SuperMethod(base, name)
        if isinstance(base, FN.ValuesIndices) and name in base._fields:
            return base[base._fields.index(name)]
        if isinstance(base, (list, dict, str, tuple)):
            return BuiltinMethod(base, name)
        return UNKNOWN

    def tensor_attr(self, t, name, node):
        if name == "shape":
            return UNKNOWN if t.shape is None else tuple(UNKNOWN if d is None else d for d in t.shape)
        if name == "ndim":
            return UNKNOWN if t.shape is None else len(t.shape)
        if name in ("T", "mT"):
            return self.record_fn("Tensor.t" if name == "T" and t.rank == 2 else "Tensor.transpose",
                                  [t] if name == "T" and t.rank == 2 else [t, -2, -1], {}, node)
        if name in ("data", "real"):
            return t
        if name in ("dtype", "device", "is_cuda", "requires_grad", "grad", "layout"):
            return UNKNOWN
        return V.TensorMethod(t, name)

    def layer_attr(self, layer, name):
        if name in layer.args:
            return layer.args[name]
        if layer.kind in CONTAINERS:
            if name in layer.children:
                return layer.children[name]
            return BuiltinMethod(layer, name)
        spec = LAYERS.get(layer.kind)
        if spec is not None and name in spec.params:
            return UNKNOWN
        if name == "weight":
            return Tensor(_weight_shape(layer))
        if name in ("bias",):
            return Tensor(None)
        return UNKNOWN


class SuperMethod:
    """``super().forward`` / ``super().__init__``: a method looked up after the current class in the MRO."""

    __slots__ = ("sup", "name")

    def __init__(self, sup, name):
        self.sup = sup
        self.name = name


def _weight_shape(layer):
    from ..shapes.common import as_dim, ntuple
    kind = layer.type_name
    a = layer.args
    if kind == "Linear":
        return (as_dim(a.get("out_features")), as_dim(a.get("in_features")))
    if kind.startswith("Conv") and not kind.startswith("ConvTranspose"):
        n = int(kind[-2])
        groups = a.get("groups", 1)
        cin = D.exact_div(as_dim(a.get("in_channels")), as_dim(groups)) if as_dim(groups) else None
        return (as_dim(a.get("out_channels")), cin) + ntuple(a.get("kernel_size"), n)
    if kind == "Embedding":
        return (as_dim(a.get("num_embeddings")), as_dim(a.get("embedding_dim")))
    return None

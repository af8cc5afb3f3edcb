"""A small abstract interpreter for the Python that builds and runs models.

It evaluates ``__init__`` (constants, arithmetic, loops over known ranges, lists, helper methods, user classes,
torch layers) and ``forward`` (tensor ops through the transfer tables) over the same value domain. What it cannot
decide is UNKNOWN, which silences everything that depends on it. It never imports or runs the linted code.

Every tensor op it meets is recorded as a node of the run's dataflow graph (cnnlint.graph), which the rules read.
"""

from __future__ import annotations

import ast
import builtins
import math
import operator

import libcst as cst

from .. import values as V
from ..shapes import dims as D
from ..shapes import functions as FN
from ..shapes.torch_layers import CONTAINERS, LAYERS
from ..values import NUMBER, UNKNOWN, Tensor
from .annotated_calls import AnnotationsMixin
from .builtins import BuiltinsMixin, is_class, module_method
from .domain import (BUILTINS, MAX_DEPTH, MAX_UNROLL, MAYBE_KEYS, UNKNOWN_EXTRA, UNKNOWN_REST, Assumed, Builtin,
                     BuiltinMethod, Frame, PDict, PList, PSet, Ratio, Raised, RegexMatch, Tail, TorchNames, handles,
                     join_returns, set_item, _is_dimlike, join, printable, truth)
from .imports import bindings, canonical, dotted, import_source, qualify
from .scripts import NDArray, OpenFile, ScriptsMixin, ScriptValue
from .torch_calls import OPERATORS, TorchMixin, enum_lookup, is_mapping


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
_TENSOR_OPS = {op: name for name, op in OPERATORS.items()}      # a + b on tensors is recorded as operator.add
_CONSTANTS = {f"{m}.{c}": getattr(math, c) for m in ("math", "numpy", "torch") for c in ("pi", "e", "inf")}
_CONSTANTS["math.tau"] = math.tau
# read as type checkers read it: a package that replaces itself with a lazy module (`sys.modules[__name__] =
# _LazyModule(...)`) states under it where each of its names comes from
_CONSTANTS["typing.TYPE_CHECKING"] = True
_ABSENT = object()      # what Mapping.__contains__ asks get() to give for a missing key

_ARITHMETIC = (cst.Add, cst.Subtract, cst.Multiply, cst.Divide, cst.FloorDivide, cst.Power)


def _plain_read(e):
    """An expression that only reads: a constant, a name, an attribute or item of one, a tuple of such."""
    if isinstance(e, (cst.Integer, cst.Name)):
        return True
    if isinstance(e, cst.UnaryOperation):
        return isinstance(e.expression, cst.Integer)
    if isinstance(e, cst.Attribute):
        return _plain_read(e.value)
    if isinstance(e, cst.Subscript):
        return _plain_read(e.value) and all(isinstance(s.slice, cst.Index) and _plain_read(s.slice.value)
                                            for s in e.slice)
    if isinstance(e, (cst.Tuple, cst.List)):
        return all(_plain_read(el.value) for el in e.elements)
    return False


def _numeric(v):
    """A number, known or not: what arithmetic on numbers takes."""
    return v is NUMBER or isinstance(v, (Ratio, float, D.Expr)) or (isinstance(v, int) and not isinstance(v, bool))


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

# what a subclass of a torch container reads of itself: `for name, layer in self.items()` in a _DenseBlock
_CONTAINER_READS = {"items", "keys", "values", "append", "extend", "add_module"}

# decorators that check annotations at run time and otherwise call the function as it is
_CHECKING_DECORATORS = {"jaxtyping.jaxtyped", "beartype.beartype", "typeguard.typechecked"}


class Interpreter(BuiltinsMixin, TorchMixin, AnnotationsMixin, ScriptsMixin):
    """Evaluates statements and expressions of one file for one analysis (cnnlint.graph.Run)."""

    def __init__(self, file_ctx, run):
        self.file = file_ctx       # the module whose code is running (a function runs in its own module's)
        self.anchor = None         # running another module's code: the linted file's call that led there
        self.frames = []           # the frames of the function calls running, innermost last
        self.pure_since = -1       # a constructor being remembered: the first object it made (see changed())
        self.doubt = 0             # paths running under a condition not decided (an if, a loop, an Either)
        self.trying = 0            # `try` bodies with handlers running: a certain built-in exception is Raised
        self.run = run
        self.depth = 0
        self.stack = []
        self.shape_envs = [{}]     # names of annotated sizes -> sizes, per function call (the module's first)
        self.last_lookup = None    # (instance, found): the last attribute lookup on an instance of the code

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
        elif isinstance(stmt, cst.Try):
            self.exec_try(stmt, frame)
        elif isinstance(stmt, getattr(cst, "TryStar", cst.Try)):
            self.exec_body(stmt.body.body, frame)
            if stmt.orelse is not None:
                self.exec_body(stmt.orelse.body.body, frame)
            if stmt.finalbody is not None:
                self.exec_body(stmt.finalbody.body.body, frame)
        elif isinstance(stmt, cst.With):
            for item in stmt.items:
                value = self.eval(item.item, frame)
                if item.asname is not None:
                    self.assign(item.asname.name, value if isinstance(value, (Tensor, OpenFile)) else UNKNOWN, frame)
            self.exec_body(stmt.body.body, frame)
        elif isinstance(stmt, cst.FunctionDef):
            func = V.Function(stmt, closure=frame.scope(), defaults=self.nested_defaults(stmt, frame),
                              module=self.file)
            frame.locals[stmt.name.value] = self.decorate(func, stmt, frame)
        elif isinstance(stmt, cst.ClassDef):
            frame.locals[stmt.name.value] = self.make_class(stmt, frame)
        elif isinstance(stmt, cst.IndentedBlock):
            self.exec_body(stmt.body, frame)

    def exec_try(self, stmt, frame):
        """try/except/else/finally. The body runs; a built-in exception it certainly raises (Raised: a torch layer
        built with a keyword it does not take, a `raise TypeError(...)` on a path that certainly runs) goes to the
        first handler that matches, as in Python: timm's `try: aa_layer(channels=c, stride=s) except TypeError:
        aa_layer(s)`. A handler that cannot be matched (an exception class of the code) ends the path."""
        raised = None
        if stmt.handlers:
            self.trying += 1
        try:
            self.exec_body(stmt.body.body, frame)
        except Raised as exc:
            if not stmt.handlers:
                if stmt.finalbody is not None:
                    self.exec_body(stmt.finalbody.body.body, frame)     # `finally` runs on the way out
                raise
            raised = exc
        finally:
            if stmt.handlers:
                self.trying -= 1
        if raised is not None:
            handler = None
            for h in stmt.handlers:
                names = None if h.type is None else [
                    (dotted(t.value if isinstance(t, cst.Element) else t) or "?").rsplit(".", 1)[-1]
                    for t in (h.type.elements if isinstance(h.type, cst.Tuple) else [h.type])]
                caught = handles(names, raised.kind)
                if caught is None:
                    frame.halt = "return"       # which handler runs is not known: the path ends here
                    return
                if caught:
                    handler = h
                    break
            if handler is None:
                if self.trying and not self.doubt:
                    raise raised
                frame.halt = "return"
                return
            if handler.name is not None:
                self.assign(handler.name.name, UNKNOWN, frame)
            self.exec_body(handler.body.body, frame)
        elif stmt.orelse is not None:
            self.exec_body(stmt.orelse.body.body, frame)
        if stmt.finalbody is not None:
            halt = frame.halt
            frame.halt = None
            self.exec_body(stmt.finalbody.body.body, frame)
            frame.halt = frame.halt or halt

    def nested_defaults(self, fdef, frame):
        """Python evaluates defaults once, where the function is defined: a nested helper's
        `divisor=depth_divisor` is the enclosing function's value. Module-level defaults are read at the call."""
        if frame.in_module:
            return None
        params = fdef.params
        return {p.name.value: self.eval(p.default, frame)
                for p in list(params.posonly_params) + list(params.params) + list(params.kwonly_params)
                if p.default is not None}

    def decorate(self, func, node, frame):
        """The value a decorated def binds. Decorators that return the function (a registry's `register_model`)
        are run; a wrapper made with `functools.wraps(f)` stands for f; anything else may replace the function."""
        value = func
        for dec in reversed(node.decorators):
            expr = dec.decorator
            name = dotted(expr) if not isinstance(expr, cst.Call) else dotted(expr.func)
            if name in ("staticmethod", "classmethod", "property", "torch.jit.ignore", "torch.no_grad", "abstractmethod",
                        "torch.jit.unused", "torch.jit.export"):
                continue
            if name and name.split(".")[-1] in ("staticmethod", "classmethod", "property", "cached_property"):
                continue
            if name in ("torch.jit.script", "torch.compile", "torch.fx.wrap"):
                continue
            full = qualify(name, self.file.imports)
            if full in _CHECKING_DECORATORS or full in ("functools.lru_cache", "functools.cache"):
                continue   # a runtime type checker calls the function unchanged; a cache returns what it returns
            if full == "functools.wraps":
                wrapped = self.eval(expr.args[0].value, frame) if isinstance(expr, cst.Call) and expr.args else None
                if not isinstance(wrapped, V.Function):
                    return UNKNOWN
                value = wrapped
                continue
            decorator = self.eval(expr, frame)
            if isinstance(decorator, V.Function):
                value = self.call_function(decorator, [value], {}, expr)
                if isinstance(value, V.Function):
                    continue
            return UNKNOWN   # an unknown decorator may replace the function
        return value

    def exec_small(self, small, frame):
        if isinstance(small, cst.Assign):
            value = self.eval(small.value, frame)
            for target in small.targets:
                self.assign(target.target, value, frame)
        elif isinstance(small, cst.AnnAssign):
            if small.value is not None:
                self.assign(small.target, self.annotate_assignment(small, self.eval(small.value, frame)), frame)
        elif isinstance(small, cst.AugAssign):
            self.exec_augassign(small, frame)
        elif isinstance(small, cst.Expr):
            self.eval(small.value, frame)
        elif isinstance(small, cst.Return):
            value = self.eval(small.value, frame) if small.value is not None else None
            frame.returns.append(Assumed(value, frame.assumed) if frame.assumed else value)
            frame.halt = "return"
        elif isinstance(small, cst.Assert):
            self.assume(small.test, frame)
            if self.fails_for_sure(small.test, frame):
                frame.halt = "return"      # Python stops here: nothing after it runs (or is checked)
        elif isinstance(small, cst.Raise):
            kind = self.raised_kind(small, frame) if self.trying and not self.doubt else None
            if kind is not None:
                raise Raised(kind)
            frame.halt = "return"      # a path that raises produces nothing
        elif isinstance(small, cst.Break):
            frame.halt = "break"
        elif isinstance(small, cst.Continue):
            frame.halt = "continue"
        elif isinstance(small, (cst.Import, cst.ImportFrom)):
            self.exec_local_import(small, frame)
        elif isinstance(small, cst.Del):
            self.delete(small.target, frame)

    def fails_for_sure(self, test, frame):
        """An `assert` of sizes (plain reads compared) that is False on a path that certainly runs: the model's
        defaults disagree with themselves (timm's CoaT() with patch_size=16 and stages sized for 4)."""
        if self.doubt or not isinstance(test, cst.Comparison) or not _plain_read(test.left) or not all(
                _plain_read(c.comparator) for c in test.comparisons):
            return False
        return truth(self.eval(test, frame)) is False

    def raised_kind(self, small, frame):
        """The built-in exception class a `raise` statement raises (`raise TypeError(...)`, `raise KeyError`),
        else None."""
        exc = small.exc
        if isinstance(exc, cst.Call):
            exc = exc.func
        if not isinstance(exc, cst.Name) or exc.value in frame.locals or exc.value in self.file.globals:
            return None
        cls = getattr(builtins, exc.value, None)
        return exc.value if isinstance(cls, type) and issubclass(cls, Exception) else None

    def exec_local_import(self, small, frame):
        package = self.file.package
        if isinstance(small, cst.ImportFrom) and isinstance(small.names, cst.ImportStar):
            if frame.in_module:
                self.file.stars.append(import_source(small, package))
            return
        written = dict(bindings(small, package, raw=True))
        for local, full in bindings(small, package):
            frame.locals[local] = V.External(full, written.get(local))

    # -- other modules ----------------------------------------------------------------------------------------
    def follow(self, value):
        """An imported name, read: what its module binds it to, when the loader finds that module's source (a
        class, a function, a constant, a module); else the name itself, as the tables know it."""
        constant = _CONSTANTS.get(value.name)
        if constant is not None:
            return constant          # math.pi, numpy.inf: a C module's constants
        if value.raw is None or self.file.loader is None:
            return value
        found = self.file.loader.resolve(value.raw)
        return value if found is None else found

    def site(self, node):
        """`node` as the linted file's analysis keeps it: itself in the linted file; in another module's code, a
        ForeignSite that also knows the linted file's call that led there."""
        if node is None or self.file is self.run.file or isinstance(node, V.ForeignSite):
            return node
        return V.ForeignSite(node, self.file, self.anchor)

    def exec_augassign(self, small, frame):
        target_value = self.eval(small.target, frame)
        right = self.eval(small.value, frame)
        op = _AUG.get(type(small.operator))
        if op is cst.Add and isinstance(target_value, V.Layer) and target_value.kind in (
                "torch.nn.ModuleList", "torch.nn.Sequential"):
            self.call_container_method(target_value, "extend", [right], frame)   # ModuleList += [...]
            return
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
        self.changed(container)
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
            equal = self.equalities(stmt.test, frame)

            def run_body(f):
                f.assumed = f.assumed + equal
                self.exec_body(stmt.body.body, f)
            self.exec_both(frame, run_body, run_else)

    def equalities(self, test, frame):
        """(atom, int) pairs a condition makes true on its path: `H == 64`, `(H, W) == (64, 64)`, joined by `and`,
        of sizes read from names, attributes and subscripts; (product, int) for a product of sizes."""
        if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
            return self.equalities(test.left, frame) + self.equalities(test.right, frame)
        if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1 and isinstance(
                test.comparisons[0].operator, cst.Equal)):
            return ()
        sides = (test.left, test.comparisons[0].comparator)
        if not all(_plain_read(e) for e in sides):
            return ()
        left, right = (self.eval(e, frame) for e in sides)
        pairs = list(zip(left, right)) if isinstance(left, tuple) and isinstance(right, tuple) and len(
            left) == len(right) else [(left, right)]
        out = []
        for a, b in pairs:
            for size, value in ((a, b), (b, a)):
                if isinstance(value, int) and not isinstance(value, bool) and isinstance(size, D.Expr) and len(
                        size.terms) == 1:
                    (mono, coeff), = size.terms.items()
                    if coeff == 1:
                        # an atom's value; or a product of sizes equal to a number (`num_patches ==
                        # num_positions`, (H//14)*(W//14) == 256), which join_returns reads
                        out.append((mono[0] if len(mono) == 1 else size, value))
        return tuple(out)

    def exec_both(self, frame, first, second):
        """Run two paths from the same state and join them (both run: neither is known not to)."""
        self_obj = frame.self_obj
        saved_attrs = (dict(self_obj.attrs), dict(self_obj.modules)) if isinstance(self_obj, V.Instance) else None
        frames = []
        states = []
        for path in (first, second):
            f = frame.branch(dict(frame.locals))
            if saved_attrs is not None:
                self_obj.attrs, self_obj.modules = dict(saved_attrs[0]), dict(saved_attrs[1])
            self.doubt += 1
            try:
                path(f)
            finally:
                self.doubt -= 1
            frames.append(f)
            if saved_attrs is not None:
                states.append((self_obj.attrs, self_obj.modules))
        for f in frames:
            frame.returns.extend(f.returns)
            frame.maybe_break = frame.maybe_break or f.maybe_break
        if any(f.halt in ("break", "continue") for f in frames) and len({f.halt for f in frames}) > 1:
            # a break or continue on one path only: the loop goes on from the paths joined (the one that left
            # keeps its values; the others' are the same or unknown), and may end after this item
            for f in frames:
                if f.halt in ("break", "continue"):
                    frame.maybe_break = frame.maybe_break or f.halt == "break"
                    f.halt = None
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
                joined = join(mods_a[key], mods_b[key]) if key in mods_a and key in mods_b else UNKNOWN
                mods[key] = joined     # the same module, one of two (an Either), or unknown
                if joined is UNKNOWN:
                    attrs[key] = UNKNOWN
            self_obj.attrs, self_obj.modules = attrs, {k: m for k, m in mods.items() if m is not UNKNOWN}

    def iterate(self, value):
        """The items of a value we can iterate exactly, or None."""
        if isinstance(value, (PList, PDict, PSet)) and value.poisoned:
            return None
        if isinstance(value, NDArray) and value.values is not None:
            return list(value.values)
        if isinstance(value, PSet):
            return value.ordered()
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
        body = stmt.body.body
        if isinstance(iterable, Tail) and stmt.orelse is None and not _contains_loop_exit(body):
            # the items every path has, then the ones some paths add, under that condition
            self.run_items(stmt.target, body, iterable.items[:iterable.certain], frame)
            rest = iterable.items[iterable.certain:]
            self.exec_both(frame, lambda f: self.run_items(stmt.target, body, rest, f), lambda f: None)
            return
        items = self.iterate(iterable)
        if items is None or len(items) > MAX_UNROLL:
            self.exec_unknown_loop(body, frame, stmt.target, items or self.batches_item(iterable))
            return
        frame.maybe_break = False
        ended = self.run_loop(stmt.target, body, items, frame)
        if stmt.orelse is not None and ended is not False:
            if ended:
                self.exec_body(stmt.orelse.body.body, frame)
            else:
                self.exec_both(frame, lambda f: self.exec_body(stmt.orelse.body.body, f), lambda f: None)

    def run_loop(self, target, body, items, frame):
        """A loop unrolled over known items: True when it ran to its end, False when it broke, None when it may
        have broken (a break under an undecided condition: the items after it run under that condition)."""
        for index, item in enumerate(items):
            self.assign(target, item, frame)
            self.exec_body(body, frame)
            if frame.halt == "continue":
                frame.halt = None
            elif frame.halt == "break":
                frame.halt = None
                return False
            elif frame.halt:
                return False
            if frame.maybe_break:
                frame.maybe_break = False
                rest = items[index + 1:]
                self.exec_both(frame, lambda f: self.run_loop(target, body, rest, f), lambda f: None)
                frame.maybe_break = False
                return None
        return True

    def run_items(self, target, body, items, frame):
        """A loop body without break or continue, unrolled over known items."""
        for item in items:
            self.assign(target, item, frame)
            self.exec_body(body, frame)
            if frame.halt:
                return

    def assume(self, test, frame):
        """`assert H == 224` (or torch._assert(...)): in a run that collects pins (Run.pins), a size of the input
        that the code requires to be a constant is remembered; `assert H % 7 == 0` is a fact for the solver."""
        if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
            self.assume(test.left, frame)
            self.assume(test.right, frame)
            return
        if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1 and isinstance(
                test.comparisons[0].operator, cst.Equal)):
            return
        for a, b in ((test.left, test.comparisons[0].comparator), (test.comparisons[0].comparator, test.left)):
            # `assert H % window == 0`: the size divides evenly from here on
            if not self.doubt and isinstance(a, cst.BinaryOperation) and isinstance(a.operator, cst.Modulo) and \
                    isinstance(b, cst.Integer) and b.evaluated_value == 0:
                self.run.solver.divides(self.eval(a.left, frame), self.eval(a.right, frame))
        pins = self.run.pins
        if pins is None:
            return
        left, right = self.eval(test.left, frame), self.eval(test.comparisons[0].comparator, frame)
        for size, value in ((left, right), (right, left)):
            names = D.symbols(size)
            if len(names) == 1 and isinstance(value, int) and not isinstance(value, bool) and value > 0:
                name = next(iter(names))
                if size == D.sym(name):
                    pins.setdefault(name, value)

    def exec_unknown_loop(self, body, frame, target, items=None):
        """A loop we cannot unroll: run the body from the entry state, join, run once more, join."""
        for _ in range(2):
            before = dict(frame.locals)
            f = frame.branch(dict(frame.locals))
            if target is not None:
                element = UNKNOWN
                if items:
                    element = items[0]
                    for other in items[1:8]:
                        element = join(element, other)
                self.assign(target, element, f)
            self.doubt += 1
            try:
                self.exec_body(body, f)
            finally:
                self.doubt -= 1
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
            elif isinstance(value, (Tensor, V.Layer, V.Instance)):
                items = self.iterate(value)       # a tensor's rows; a ModuleList's modules
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
        elif isinstance(target, cst.Subscript) and self.register_module(target, value, frame):
            pass
        elif isinstance(target, cst.Subscript):
            obj = self.eval(target.value, frame)
            if isinstance(obj, (PList, PDict)) and len(target.slice) == 1 and isinstance(
                    target.slice[0].slice, cst.Index):
                key = self.eval(target.slice[0].slice.value, frame)
                if isinstance(obj, PDict) and frame.uncertain > obj.born and isinstance(key, (str, int)):
                    self.changed(obj)
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
            elif isinstance(obj, PList) and len(target.slice) == 1 and isinstance(target.slice[0].slice, cst.Slice):
                # xs[i:j] = items: known bounds and items replace that part; anything else: the list is not known
                sl = target.slice[0].slice
                bounds = [self.eval(p, frame) if p is not None else None for p in (sl.lower, sl.upper, sl.step)]
                items = self.iterate(value)
                self.mutate(obj, frame)
                if items is None or bounds[2] is not None or not all(
                        b is None or isinstance(b, int) and not isinstance(b, bool) for b in bounds):
                    obj.poisoned = True
                else:
                    obj[bounds[0]:bounds[1]] = list(items)
            elif isinstance(obj, V.Layer) and obj.kind == "torch.nn.ModuleDict":
                key = self.eval(target.slice[0].slice.value, frame) if isinstance(
                    target.slice[0].slice, cst.Index) else UNKNOWN
                if isinstance(key, str) and V.is_module(value):
                    obj.children[key] = value
            elif isinstance(obj, Tensor):
                pass   # x[mask] = 0 keeps x's shape
            elif isinstance(obj, ScriptValue):
                index = target.slice[0].slice
                key = self.eval(index.value, frame) if len(target.slice) == 1 and isinstance(index, cst.Index) \
                    else UNKNOWN
                self.set_script_attr(obj, key, value, frame)      # cfg["width"] = 64 of a dict read by attribute
        elif isinstance(target, cst.StarredElement):
            self.assign(target.value, value, frame)

    def delete(self, target, frame):
        """`del x`, `del d[k]`, `del xs[i]`, `del self.attr`: what assigning does, undone. Under a condition not
        decided, a key deleted is maybe there; what cannot be said (an unknown key, a slice) poisons the object."""
        if isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self.delete(element.value, frame)
        elif isinstance(target, cst.Name):
            if frame.uncertain:
                frame.locals[target.value] = UNKNOWN
            else:
                frame.locals.pop(target.value, None)
        elif isinstance(target, cst.Attribute):
            obj = self.eval(target.value, frame)
            if isinstance(obj, V.Instance):
                self.changed(obj)
                if frame.uncertain:
                    obj.attrs[target.attr.value] = UNKNOWN
                    obj.modules.pop(target.attr.value, None)
                else:
                    obj.attrs.pop(target.attr.value, None)
                    obj.modules.pop(target.attr.value, None)
        elif isinstance(target, cst.Subscript):
            obj = self.eval(target.value, frame)
            index = target.slice[0].slice if len(target.slice) == 1 else None
            key = self.eval(index.value, frame) if isinstance(index, cst.Index) else UNKNOWN
            if isinstance(obj, (PList, PDict)):
                self.changed(obj)
                if not isinstance(key, (str, int)) or isinstance(key, bool) or obj.poisoned:
                    obj.poisoned = True
                elif isinstance(obj, PDict) and frame.uncertain > obj.born:
                    obj.maybe.add(key)
                    obj[key] = UNKNOWN
                elif isinstance(obj, PList) and frame.uncertain > obj.born:
                    obj.poisoned = True
                else:
                    self.mutate(obj, frame)
                    try:
                        del obj[key]
                        if isinstance(obj, PDict):
                            obj.maybe.discard(key)
                    except (IndexError, KeyError, TypeError):
                        obj.poisoned = True
            elif isinstance(obj, V.Layer) and obj.kind in CONTAINERS:
                self.changed(obj)
                children = list(obj.children.items())
                if frame.uncertain or not isinstance(key, (str, int)) or isinstance(key, bool):
                    obj.args["__opaque__"] = True
                elif obj.kind == "torch.nn.ModuleDict" and isinstance(key, str) and key in obj.children:
                    del obj.children[key]
                elif obj.kind in ("torch.nn.Sequential", "torch.nn.ModuleList") and isinstance(key, int) and \
                        -len(children) <= key < len(children):
                    del children[key]             # torch numbers what is left again
                    obj.children = {str(i): m for i, (_, m) in enumerate(children)}
                else:
                    obj.args["__opaque__"] = True

    def register_module(self, target, value, frame):
        """`module._modules[name] = child`, the registry torch's __setattr__ writes: the child is registered as
        an attribute would be. True when the target was such a registry."""
        registry = target.value
        if not (isinstance(registry, cst.Attribute) and registry.attr.value == "_modules" and len(target.slice) == 1
                and isinstance(target.slice[0].slice, cst.Index)):
            return False
        owner = self.eval(registry.value, frame)
        key = self.eval(target.slice[0].slice.value, frame)
        if isinstance(owner, V.Instance):
            if isinstance(key, str):
                self.set_attr(owner, key, value, frame)
            else:
                self.changed(owner)
                owner.open = True            # a child registered under a name we do not know
        elif isinstance(owner, V.Layer) and owner.kind in CONTAINERS:
            # (a torch layer's own forward reads no child registered so: only a container's changes)
            self.changed(owner)
            if isinstance(key, str) and V.is_module(value):
                owner.children[key] = value
            else:
                owner.args["__opaque__"] = True
        return True

    def changed(self, obj=None):
        """The state of `obj` (of something unnamed, with None) changes: no call doing that is pure, and no
        constructor is, unless `obj` is one of the objects it made."""
        self.run.effects += 1
        if obj is None or getattr(obj, "epoch", -1) < self.pure_since:
            self.run.external += 1

    def set_attr(self, obj, name, value, frame):
        self.changed(obj)
        if isinstance(obj, V.Instance) and obj.cls.hook("__setattr__") is not None:
            self.call_hook(obj, "__setattr__", [name, value])     # the class's own __setattr__ decides
        elif isinstance(obj, V.Instance):
            self.store_attr(obj, name, value)
        elif isinstance(obj, ScriptValue):
            self.set_script_attr(obj, name, value, frame)
        elif isinstance(obj, V.ClassValue):
            obj.attrs[name] = value      # `cls.sub_configs = {...}` in a base's __init_subclass__

    def store_attr(self, obj, name, value):
        """object.__setattr__: a property's setter, else the instance's attribute (a module: registered)."""
        obj.looked_up = None
        setter, owner = obj.cls.setter(name)
        if setter is not None:
            self.call_function(V.Function(setter, owner, obj), [value], {}, None)
        else:
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
        """f"{name}_1_conv", f"mobilenet_{alpha:0.2f}_{rows}": Keras layer and model names are built this way.
        Parts that are plain constants are formatted by Python itself (conversions and format specs included);
        anything else is unknown."""
        text = self.formatted_parts(node.parts, frame)
        return UNKNOWN if text is None else text

    def formatted_parts(self, parts, frame):
        out = []
        for part in parts:
            if isinstance(part, cst.FormattedStringText):
                if "\\" in part.value:
                    return None
                out.append(part.value.replace("{{", "{").replace("}}", "}"))
                continue
            value = self.eval(part.expression, frame)
            spec = "" if part.format_spec is None else self.formatted_parts(part.format_spec, frame)
            if spec is None or not printable(value):
                return None
            try:
                if part.conversion is not None:
                    value = {"s": str, "r": repr, "a": ascii}[part.conversion](value)
                out.append(format(value, spec))
            except (ValueError, TypeError, KeyError):
                return None
        return "".join(out)

    def eval_Name(self, node, frame):
        name = node.value
        if frame.passed is not None and name in frame.passed:
            frame.passed[name][3] += 1
        if name in frame.locals:
            value = frame.locals[name]
            if self.run.names is not None and isinstance(value, Tensor):
                self.run.names.append((node, value, False))
            return self.follow(value) if isinstance(value, V.External) else value
        if frame.closure is not None and name in frame.closure:
            return frame.closure[name]
        ctx = self.file
        if ctx.pending and name in ctx.pending:
            ctx.loader.bind(ctx, name)          # an imported module's statements binding it run now
        if name in ctx.globals:
            value = ctx.globals[name]
            return self.follow(value) if isinstance(value, V.External) else value
        if name in ctx.imports:
            return self.follow(V.External(ctx.imports[name], ctx.raw_imports.get(name)))
        if name == "True":
            return True
        if name == "False":
            return False
        if name == "None":
            return None
        if name in BUILTINS:
            return BUILTINS[name]
        if ctx.loader is not None and (ctx.stars or ctx.pending and "*" in ctx.pending):
            found = ctx.loader.star_lookup(ctx, name)
            if found is not None:
                return found
        if name == "__name__":
            return "__main__" if ctx is self.run.file or ctx.name is None else ctx.name
        if name == "__file__":
            return self.module_file()
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
        items = self.elements(node.elements, frame)
        try:
            if items is not None and all(set_item(i) for i in items):
                return PSet(items, born=frame.uncertain)
        except TypeError:
            pass
        out = PSet(born=frame.uncertain)
        out.poisoned = True
        return out

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
            if isinstance(r, NDArray):          # numpy's element-wise comparison
                return r if len(node.comparisons) == 1 else UNKNOWN
            if r is UNKNOWN:
                result = UNKNOWN if result is not False else False
            elif not r:
                return False
            left = right
        return result

    def compare(self, op, left, right):
        if (isinstance(left, NDArray) or isinstance(right, NDArray)) and type(op) in _COMPARE:
            return _array_op(_COMPARE[type(op)], left, right)
        if isinstance(op, (cst.Is, cst.IsNot)):
            if left is UNKNOWN or right is UNKNOWN:
                return UNKNOWN
            either, other = (left, right) if isinstance(left, V.Either) else (right, left)
            if isinstance(either, V.Either) and any(a is other for a in either.alternatives):
                return UNKNOWN        # `self.drop_path is not None` when it may be None
            if right is None or left is None or isinstance(left, bool) or isinstance(right, bool):
                same = left is right          # None, True and False are the only objects of their value
            elif all(is_class(v) for v in (left, right)):
                # classes: a torch layer class is one object whatever the spelling (nn.ReLU, torch.nn.ReLU)
                same = canonical(left.name) == canonical(right.name) if isinstance(left, V.External) and isinstance(
                    right, V.External) else left is right
            else:
                return UNKNOWN if not (V.is_module(left) or V.is_module(right)) else left is right if isinstance(
                    op, cst.Is) else left is not right
            return same if isinstance(op, cst.Is) else not same
        if isinstance(op, (cst.In, cst.NotIn)):
            if isinstance(right, (PList, PDict, PSet)) and right.poisoned or left is UNKNOWN:
                return UNKNOWN
            if isinstance(right, (list, tuple, dict, str, set)) and not isinstance(left, (Tensor, D.Expr)):
                try:
                    r = left in right
                except TypeError:
                    return UNKNOWN
                return r if isinstance(op, cst.In) else not r
            if isinstance(right, PDict) and left in right.maybe:
                return UNKNOWN
            if isinstance(right, TorchNames):
                r = right.has(left)
                return r if r is UNKNOWN or isinstance(op, cst.In) else not r
            if isinstance(right, V.Instance) and right.items is not None and right.cls.hook("__contains__") is None:
                return self.compare(op, left, right.items)              # a subclass of dict: its items
            if isinstance(right, V.Instance) and is_mapping(right) and right.cls.hook("__contains__") is None:
                found = self.mapping_get(right, left, None, _ABSENT)   # Mapping.__contains__: self[key] works
                return UNKNOWN if found is UNKNOWN else isinstance(op, cst.In) == (found is not _ABSENT)
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
            if isinstance(op, (cst.Equal, cst.NotEqual)) and any(
                    all(isinstance(v, kind) for v in (left, right)) for kind in (V.External, V.ClassValue)):
                same = left == right       # two library names, or two classes of the code
                return same if isinstance(op, cst.Equal) else not same
            if isinstance(op, (cst.Equal, cst.NotEqual)) and (isinstance(left, V.EnumMember) or isinstance(
                    right, V.EnumMember)):
                same = _enum_equal(left, right)
                return same if same is UNKNOWN or isinstance(op, cst.Equal) else not same
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
            # left when it is falsy, else right: False only when both are bools
            return False if truth(right) is False and _bools(node.left, left, right) else join(left, right)
        if t is True:
            return left
        right = self.eval(node.right, frame)
        if t is False:
            return right
        # `out_channels or in_channels`: left when it is truthy, else right (True only when both are bools)
        return True if truth(right) is True and _bools(node.left, left, right) else join(left, right)

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
            left, right = (NUMBER if isinstance(v, Ratio) else v for v in (left, right))
            return self.record_fn(name, [left, right], {}, node)
        if left is UNKNOWN or right is UNKNOWN:
            return UNKNOWN
        if isinstance(left, NDArray) or isinstance(right, NDArray):
            return _array_op(_BINOPS.get(op), left, right)
        if op in _ARITHMETIC and (left is NUMBER or right is NUMBER or isinstance(left, Ratio) or isinstance(
                right, Ratio) or isinstance(left, float) or isinstance(right, float)) and _numeric(left) and \
                _numeric(right) and not (isinstance(left, (int, float)) and isinstance(right, (int, float))):
            return NUMBER      # arithmetic on a number whose value is not known: a number (`head_dim ** -0.5`)
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
            if op is cst.Modulo:
                return D.mod(left, right)
            if op is cst.Divide:
                exact = D.exact_div(left, right)
                if exact is None and isinstance(right, int) and right > 0:
                    return Ratio(left, right)        # for math.ceil / math.floor to read
                return NUMBER if exact is None else exact
            return NUMBER if op is cst.Power and isinstance(right, int) and right < 0 else UNKNOWN
        fn = _BINOPS.get(op)
        if fn is None:
            return UNKNOWN
        if isinstance(left, (PList, PDict, PSet)) and left.poisoned or isinstance(right, (PList, PDict, PSet)) and right.poisoned:
            return UNKNOWN
        try:
            if isinstance(left, (int, float)) and isinstance(right, (int, float)) and op is cst.Power and abs(right) > 64:
                return UNKNOWN
            if isinstance(left, (list, tuple, str)) and isinstance(right, int) and op is cst.Multiply and right > 4096:
                return UNKNOWN
            if isinstance(left, str) and op is cst.Modulo and not printable(right):
                return UNKNOWN     # "%s" % value prints the value: only constants print as the code would
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
        f = frame.branch(frame.locals)
        self.doubt += 1
        try:
            return join(self.eval(node.body, f), self.eval(node.orelse, f))
        finally:
            self.doubt -= 1

    def eval_Subscript(self, node, frame):
        base = self.eval(node.value, frame)
        if isinstance(base, NDArray):
            return self.array_index(base, node, frame)
        if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
            index = self.eval(node.slice[0].slice.value, frame)
            return self.index(base, index, node)
        if isinstance(base, Tensor):
            return self.tensor_index(base, node, frame)
        if all(isinstance(e.slice, cst.Index) for e in node.slice) and not isinstance(base, NDArray):
            # `x[a, b]` is `x[(a, b)]`: a dict keyed by pairs, a class's own __getitem__ (a layer factory's
            # `Conv[Conv.CONV, 2]`)
            return self.index(base, tuple(self.eval(e.slice.value, frame) for e in node.slice), node)
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
            except KeyError:
                if isinstance(base, PDict) and base.factory is not None and not base.maybe:
                    base[index] = self.call(base.factory, [], {}, node, self.file.global_frame)
                    return base[index]         # a defaultdict makes what it is asked for
                if self.trying and not self.doubt and isinstance(base, PDict) and not base.poisoned and \
                        index not in base.maybe:
                    raise Raised("KeyError") from None     # certainly not there, inside a try that may catch it
                return UNKNOWN
            except (IndexError, TypeError):
                return UNKNOWN
            return UNKNOWN
        if isinstance(base, ScriptValue):
            return self.call_script_method(base, "__getitem__", [index], {}, None, node)
        if isinstance(base, V.External) and base.name == "sys.modules" and isinstance(index, str):
            found = self.file.loader.resolve(index) if self.file.loader is not None else None
            return UNKNOWN if found is None else found       # a module, as the loader reads it
        if isinstance(base, V.Layer) and base.kind in CONTAINERS:
            if base.args.get("__opaque__"):
                return UNKNOWN
            if isinstance(index, int) and not isinstance(index, bool):
                children = list(base.children.values())
                return children[index] if -len(children) <= index < len(children) else UNKNOWN
            if isinstance(index, str):
                return base.children.get(index, UNKNOWN)
        if isinstance(base, V.Instance) and base.cls.hook("__getitem__") is not None and \
                not base.cls.is_module_class():
            return self.mapping_lookup(base, index, node)      # the class's own __getitem__
        if isinstance(base, V.Instance) and base.items is not None:
            return self.index(base.items, index, node)         # a subclass of dict
        if isinstance(base, V.Instance) and isinstance(index, int):
            children = list(base.modules.values())
            return children[index] if -len(children) <= index < len(children) else UNKNOWN
        return UNKNOWN

    def eval_ListComp(self, node, frame):
        items = self.comprehension(node, frame, lambda f: [self.eval(node.elt, f)])
        return UNKNOWN if items is None else PList(items, born=frame.uncertain)

    def eval_GeneratorExp(self, node, frame):
        items = self.comprehension(node, frame, lambda f: [self.eval(node.elt, f)])
        return UNKNOWN if items is None else PList(items, born=frame.uncertain)

    def eval_SetComp(self, node, frame):
        items = self.comprehension(node, frame, lambda f: [self.eval(node.elt, f)])
        if items is None or not all(set_item(i) for i in items):
            return UNKNOWN
        return PSet(items, born=frame.uncertain)

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
        f = frame.branch(dict(frame.locals), deeper=0)

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

    def eval_Lambda(self, node, frame):
        return V.Function(node, closure=frame.scope(), defaults=self.nested_defaults(node, frame), module=self.file)

    def eval_Ellipsis(self, node, frame):
        return Ellipsis          # x[..., 0::2]

    def eval_NamedExpr(self, node, frame):
        value = self.eval(node.value, frame)
        self.assign(node.target, value, frame)
        return value

    def eval_Call(self, node, frame):
        func = self.eval(node.func, frame)
        args, kwargs = [], {}
        opaque_args = opaque_kwargs = False
        maybe = set()
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
                    maybe |= getattr(value, "maybe", set())
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
        if maybe and isinstance(func, (V.Function, V.ClassValue)):
            kwargs[MAYBE_KEYS] = maybe        # passed or not: the callee's **kwargs knows it
        return self.call(func, args, kwargs, node, frame)


    # -- calls ----------------------------------------------------------------------------------------------
    def call(self, func, args, kwargs, node, frame):
        if isinstance(func, V.Function):
            return self.call_function(func, args, kwargs, node)
        if isinstance(func, V.ClassValue):
            return enum_lookup(func, args) if func.is_enum() else self.instantiate(func, args, kwargs, node)
        if isinstance(func, V.External):
            return self.call_external(canonical(func.name), args, kwargs, node, frame)
        if isinstance(func, (V.Layer, V.Instance, V.Either)):
            if V.is_keras(func) and args and isinstance(args[0], NDArray):
                args = [self.as_tensor(args[0]) or Tensor(None)] + list(args[1:])   # Keras takes arrays
            return self.run.call_module(self, func, args, kwargs, node)
        if isinstance(func, V.TensorMethod):
            return self.call_tensor_method(func, args, kwargs, node)
        if isinstance(func, BuiltinMethod):
            return self.call_builtin_method(func, args, kwargs, frame, node)
        if isinstance(func, Builtin):
            return self.call_builtin(func.name, args, kwargs, node, frame)
        if isinstance(func, SuperMethod):
            return self.call_super_method(func.sup, func.name, args, kwargs, node)
        if isinstance(func, V.Partial):
            return self.call(func.func, list(func.args) + list(args), {**func.keywords, **kwargs}, node, frame)
        if isinstance(func, type) and issubclass(func, tuple) and hasattr(func, "_fields"):
            try:
                return func(*args, **kwargs)            # a collections.namedtuple class the code made
            except TypeError:
                raise Raised("TypeError") from None
        self.escape(args, kwargs)
        return UNKNOWN

    def call_function(self, func, args, kwargs, node, self_obj=None, frames=None):
        """Call a function of the linted code, or of a module it imports, in the context of the module that defines
        it; `frames`, a list, receives the frame it ran in."""
        fdef = func.node
        # a function may run inside itself once (recursion is not unrolled), a module's forward inside another
        # instance's (a tree of blocks of one class, as DLA's): the module tree bounds that
        if self.depth >= MAX_DEPTH or self.stack.count(_frame_key(func)) >= 2:
            for value in [func.bound, *args, *kwargs.values()]:
                if isinstance(value, V.Instance):
                    value.open = True        # what the call would have set on it is not known
            return UNKNOWN
        key = _memo_key(func, args, kwargs)
        memo = func.ns.memo if key is not None and func.ns is not None else None
        if memo is not None and key in memo:
            return memo[key][1]
        effects, symbols = self.run.effects, len(self.run.solver.lower)
        result = self._call_in_module(func, args, kwargs, node, self_obj, frames)
        if memo is not None and self.run.effects == effects and len(self.run.solver.lower) == symbols \
                and _plain(result):
            # no effect, no size made up and a plain result: the same arguments give it again (the closure is
            # kept alive so that its id in the key is never another's)
            memo[key] = (func.closure, result)
        return result

    def _call_in_module(self, func, args, kwargs, node, self_obj, frames):
        module = func.ns
        written = self.call_arguments(node)     # read in the caller's module, before switching to the callee's
        if module is None or module is self.file:
            return self._call_function(func, args, kwargs, node, self_obj, frames, written)
        caller, anchor = self.file, self.anchor
        if caller is self.run.file:
            self.anchor = node
        self.file = module
        if module.loader is not None:
            module.loader.touch(module)
        try:
            return self._call_function(func, args, kwargs, node, self_obj, frames, written)
        finally:
            self.file, self.anchor = caller, anchor

    def call_arguments(self, node):
        """(positional, keyword) argument expressions a call wrote, placed as the linted file sees them, with the
        frame they were written in; None when the call is not a plain call (a decorator, an implicit call)."""
        if not isinstance(node, cst.Call):
            return None
        positional, keyword = [], {}
        for arg in node.args:
            if arg.star:
                if arg.star == "*":
                    positional.append(None)     # the positions after *xs are not known
                continue
            if arg.keyword is not None:
                keyword[arg.keyword.value] = self.site(arg.value)
            elif None not in positional:
                positional.append(self.site(arg.value))
        return positional, keyword, self.frames[-1] if self.frames else None

    def written_at(self, expr, frame):
        """Where a value the code reads as `expr` may have been written when `expr` is a parameter passed on
        unchanged: the arguments of the calls that passed it, innermost first, each with its parameter's record
        (whose read count says whether this was the parameter's only use)."""
        hops = []
        while isinstance(expr, cst.Name) and frame is not None and frame.passed and expr.value in frame.passed:
            entry = frame.passed[expr.value]
            arg, value, caller, _ = entry
            if not _same(frame.locals.get(expr.value), value):
                break
            hops.append((arg, entry))
            frame = caller
            expr = arg.node if isinstance(arg, V.ForeignSite) else arg
        return hops

    def _call_function(self, func, args, kwargs, node, self_obj, frames, written=None):
        fdef = func.node
        bound = func.bound if func.bound is not None else self_obj
        params = fdef.params
        local = {}
        rest_unknown = kwargs.pop(UNKNOWN_REST, False)
        extra = kwargs.pop(UNKNOWN_EXTRA, False)
        maybe = kwargs.pop(MAYBE_KEYS, ())
        positional = list(params.posonly_params) + list(params.params)
        is_static = any(dotted(d.decorator) in ("staticmethod",) for d in getattr(fdef, "decorators", ()))
        given = len(args)
        if func.owner is not None and not is_static:
            if bound is not None:
                args = [bound] + list(args)
            elif _is_classmethod(fdef):
                args = [func.owner] + list(args)
        args = list(args)
        offset = len(args) - given
        for param in positional:
            name = param.name.value
            if args:
                local[name] = args.pop(0)
            elif name in kwargs:
                local[name] = kwargs.pop(name)
            elif param.default is not None and not rest_unknown:
                local[name] = self.default(func, param)
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
                local[name] = self.default(func, param)
            else:
                local[name] = UNKNOWN
        if params.star_kwarg is not None:
            rest = local[params.star_kwarg.name.value] = PDict(kwargs)
            rest.poisoned = rest_unknown or extra
            rest.maybe.update(k for k in maybe if k in kwargs)
        passed = None
        if written is not None:
            positional_args, keyword_args, caller = written
            passed = {}
            for i, param in enumerate(positional[offset:]):
                name = param.name.value
                arg = positional_args[i] if i < len(positional_args) else keyword_args.get(name)
                if arg is not None and name in local:
                    passed[name] = [arg, local[name], caller, 0]       # the last: reads of the parameter
            for param in params.kwonly_params:
                name = param.name.value
                if name in keyword_args and name in local:
                    passed[name] = [keyword_args[name], local[name], caller, 0]
        env = {}
        self.bind_parameters(fdef, local, node, offset, env)
        if self.run.names is not None:      # the editor's hover on a parameter itself (`def forward(self, x):`)
            for param in positional + list(params.kwonly_params):
                if isinstance(local.get(param.name.value), Tensor):
                    self.run.names.append((param.name, local[param.name.value], False))
        self_value = local.get(positional[0].name.value) if positional and func.owner is not None else None
        f = Frame(local, self_value if isinstance(self_value, V.Instance) else None, func.closure, func,
                  passed=passed)
        if frames is not None:
            frames.append(f)
        self.depth += 1
        self.stack.append(_frame_key(func))
        self.frames.append(f)
        self.shape_envs.append(env)
        try:
            if isinstance(fdef, cst.Lambda):
                return self.eval(fdef.body, f)
            self.exec_body(fdef.body.body if isinstance(fdef.body, cst.IndentedBlock) else fdef.body.body, f)
        finally:
            self.depth -= 1
            self.stack.pop()
            self.frames.pop()
            self.shape_envs.pop()
        if not f.returns:
            return None
        return self.check_return(fdef, join_returns(f.returns), env)


    def default(self, func, param):
        if func.defaults is not None and param.name.value in func.defaults:
            return func.defaults[param.name.value]
        return self.eval(param.default, self.file.global_frame)

    # -- attributes ---------------------------------------------------------------------------------------------
    def instance_attr(self, base, name, node):
        """object.__getattribute__ of an instance of a class of the code."""
        self.last_lookup = (base, True)
        if name in base.attrs:
            return base.attrs[name]
        if name in base.modules:
            return base.modules[name]
        if name == "__dict__":
            return base.attrs        # read as a dict (`self.__dict__.get(key)`)
        member, owner = base.cls.lookup(name)
        if isinstance(member, cst.FunctionDef):
            func = V.Function(member, owner, base.cls if _is_classmethod(member) else base)
            if any(dotted(d.decorator) in ("property", "functools.cached_property", "cached_property")
                   for d in member.decorators):
                return self.call_function(func, [], {}, node)
            return func
        if member is not None:
            return member
        if base.base is not None and name in ("weight", "bias") + LAYERS[base.base.kind].params:
            return self.layer_attr(base.base, name)
        if name == "training" and base.cls.is_torch_module():
            return True       # a module is built in training mode; .eval() / .train(False) set it
        if name == "_modules":
            return base.modules
        if module_method(base, name) is not None or name in _CONTAINER_READS and base.cls.container_kind():
            return BuiltinMethod(base, name)
        if name in ("register_buffer", "register_parameter", "add_module", "register_module") or (
                name == "add_weight" and V.is_keras(base)):
            return BuiltinMethod(base, name)
        if name == "build" and base.cls.keras_kind() == "model":
            return BuiltinMethod(base, name)       # model.build((None, 28, 28, 1)): call() on that shape
        if name == "get" and is_mapping(base):
            return BuiltinMethod(base, name)
        if base.cls.hook("__getattr__") is not None and not name.startswith("__"):
            return self.call_hook(base, "__getattr__", [name], node)    # the class's fallback for what is not there
        self.last_lookup = (base, False)           # not there (builtins.surely_absent asks)
        return UNKNOWN

    def get_attr(self, base, name, node, frame):
        if isinstance(base, V.Instance):
            if base.cls.hook("__getattribute__") is not None:
                return self.hooked_attr(base, name, node)       # the class's own lookup
            return self.instance_attr(base, name, node)
        if isinstance(base, V.ClassValue):
            member, owner = base.lookup(name)
            if isinstance(member, cst.FunctionDef):
                # a classmethod gets the class it is called on: `Inner.make(8)` runs Base.make with cls = Inner
                return V.Function(member, owner, base if _is_classmethod(member) else None)
            if member is not None:
                return member
            if name == "__name__":
                return base.name
            if name == "__dict__":
                return base.attrs        # its own members only (`cls.__dict__.get("sub_configs_defaults")`)
            return UNKNOWN
        if isinstance(base, V.EnumMember):
            return base.value if name == "value" else base.name if name == "name" else UNKNOWN
        if isinstance(base, V.External):
            if name in ("__name__", "__qualname__") and (base.name in LAYERS or base.name in CONTAINERS):
                return base.name.rsplit(".", 1)[-1]      # a torch layer class: nn.BatchNorm2d.__name__
            return self.follow(base.attr(name))
        if isinstance(base, ScriptValue):
            return self.script_attr(base, name)
        if isinstance(base, V.PyModule):
            found = base.ctx.loader.attribute(base.ctx, name)
            return found if found is not None else V.External(canonical(f"{base.name}.{name}"), f"{base.name}:{name}")
        if isinstance(base, Tensor):
            return self.tensor_attr(base, name, node)
        if isinstance(base, V.Layer):
            return self.layer_attr(base, name)
        if isinstance(base, V.Super):
            return SuperMethod(base, name)
        if isinstance(base, V.Either):
            alternatives = [a for a in base.alternatives if a is not None]   # None.x raises: no value
            value = self.get_attr(alternatives[0], name, node, frame)
            for alt in alternatives[1:]:
                value = join(value, self.get_attr(alt, name, node, frame))
            return value
        if isinstance(base, V.Function) and name in ("__name__", "__qualname__", "__module__"):
            if name == "__module__":
                ns = base.ns
                return UNKNOWN if ns is None or ns.name is None else ns.name
            return base.node.name.value if isinstance(base.node, cst.FunctionDef) else "<lambda>"
        if isinstance(base, RegexMatch) and name in ("group", "groups"):
            return BuiltinMethod(base, name)
        if isinstance(base, V.Partial) and name in ("func", "args", "keywords"):
            return getattr(base, name)
        if isinstance(base, tuple) and name in getattr(type(base), "_fields", ()):
            return base[type(base)._fields.index(name)]     # a named tuple (torch.max's values/indices, a record)
        if isinstance(base, (list, dict, str, tuple, set)):
            return BuiltinMethod(base, name)
        return UNKNOWN


def _bools(left_node, left, right):
    """Whether `left and/or right` is a bool whatever the undecided left is: right is one, and left is one too, or
    a comparison or a `not` (a bool the evaluator could not decide)."""
    return isinstance(right, bool) and (isinstance(left, bool) or isinstance(left_node, cst.Comparison) or (
        isinstance(left_node, cst.UnaryOperation) and isinstance(left_node.operator, cst.Not)))


def _enum_equal(a, b):
    if isinstance(a, V.EnumMember) and isinstance(b, V.EnumMember):
        return a is b
    member, other = (a, b) if isinstance(a, V.EnumMember) else (b, a)
    if other is UNKNOWN or member.value is UNKNOWN:
        return UNKNOWN
    if not member.mixed:
        return False            # a plain Enum's member equals nothing but itself
    return member.value == other if isinstance(other, (int, str, float)) else UNKNOWN


def _plain(value, depth=0):
    """A value a pure call may be remembered by, or return: constants, symbolic sizes, unknown, tuples of them."""
    if value is None or value is UNKNOWN or isinstance(value, (int, float, str, D.Expr)):
        return True
    return type(value) is tuple and depth < 3 and all(_plain(v, depth + 1) for v in value)


def _frame_key(func):
    """What the recursion limit counts: a function, or a module's method and the module it runs on."""
    return func.node, id(func.bound) if V.is_module(func.bound) else None


def _memo_key(func, args, kwargs):
    """The key of a call of a plain function (no bound instance) with plain arguments, or None."""
    if func.bound is not None or not all(_plain(a) for a in args):
        return None
    named = []
    for k, v in kwargs.items():
        if k == MAYBE_KEYS:
            v = frozenset(v)
        elif k != UNKNOWN_REST and not _plain(v):
            return None
        named.append((k, type(v), v))
    return (id(func.node), id(func.closure), tuple((type(a), a) for a in args), tuple(sorted(named, key=lambda i: i[0])))


def _same(a, b):
    """Whether a parameter still holds the value it was passed (a size is an int: compare by value)."""
    return a is b or (type(a) is type(b) and isinstance(a, (int, float, str)) and a == b)


def _array_op(fn, left, right):
    """An operator between a numpy array of known values and a number or another such array, as numpy computes
    it; unknown otherwise."""
    if fn is None:
        return UNKNOWN
    if isinstance(left, NDArray):
        found = left.elementwise(fn, right)
    else:
        found = right.elementwise(lambda a, b: fn(b, a), left)
    if found is not None:
        return found
    array, other = (left, right) if isinstance(left, NDArray) else (right, left)
    if array.shape is not None and (isinstance(other, (int, float)) or isinstance(other, NDArray) and
                                    other.shape == array.shape):
        # with a number, or an array of its shape: an array of that shape (`x_train / 255.0`)
        kind = "bool" if fn in _COMPARE.values() else "float" if fn is operator.truediv or \
            isinstance(other, float) else array.dtype
        return NDArray(array.shape, kind)
    return UNKNOWN


class SuperMethod:
    """``super().forward`` / ``super().__init__``: a method looked up after the current class in the MRO."""

    __slots__ = ("sup", "name")

    def __init__(self, sup, name):
        self.sup = sup
        self.name = name


def _is_classmethod(fdef) -> bool:
    return any(dotted(d.decorator) == "classmethod" for d in fdef.decorators)

"""What is torch's in the evaluator: building user classes and torch layers and containers, calling
torch functions and Tensor methods through the transfer tables, tensor indexing and attributes.
A mixin of cnnlint.extract.evaluator.Interpreter."""

from __future__ import annotations

import collections
import keyword

import libcst as cst

from .. import values as V
from ..shapes import dims as D
from ..shapes import functions as FN
from ..shapes import tensor_values as TV
from ..shapes.torch_layers import CONTAINERS, FLOAT_FUNCTIONAL_METHODS, LAYERS, SIZE_PARAMS, WRAPPERS
from ..shapes.torch_signatures import rejects
from ..values import UNKNOWN, Tensor
from .parameter_uses import non_size_parameters
from ..shapes.keras_layers import KERAS_LAYERS, MERGE_FUNCTIONS, keras_shape
from .imports import canonical, dotted
from .builtins import module_method
from .scripts import ScriptValue
from .domain import (MAX_UNROLL, MAYBE_KEYS, UNKNOWN_EXTRA, UNKNOWN_REST, BudgetExceeded, Builtin, BuiltinMethod,
                     Frame, PDict, PList, Raised, RegexMatch, _is_dimlike)

# Keras' tensor factories, read as example inputs: model(keras.ops.zeros((2, 64, 64, 3)))
KERAS_FACTORIES = {"keras.ops.zeros", "keras.ops.ones", "keras.ops.empty", "keras.random.normal",
                   "keras.random.uniform"}


class TorchMixin:
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
        kept = []       # what each index item did, for the rules that follow axes: "keep", "drop", "new", "..."
        axis = 0
        consumed = sum(1 for v in values if v is not None and not (isinstance(v, V.External) and v.name == "Ellipsis")
                       and v is not Ellipsis)
        for v in values:
            if v is Ellipsis or (isinstance(v, V.External) and v.name == "Ellipsis"):
                skip = len(shape) - consumed
                if skip < 0:
                    return Tensor(None)
                out.extend(shape[axis:axis + skip])
                kept.extend(["keep"] * skip)
                axis += skip
                continue
            if v is None:
                out.append(1)
                kept.append("new")
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
                else:
                    out.append(self.slice_length(size, lo, hi, step))
                kept.append("keep" if (lo, hi, step) == (None, None, None) else "slice")
                axis += 1
            elif isinstance(v, int) and not isinstance(v, bool) or isinstance(v, D.Expr):
                kept.append("drop")
                axis += 1
            elif isinstance(v, Tensor):
                if v.dtype == "long" and v.shape is not None:
                    out.extend(v.shape)
                    kept.append(("gather", len(v.shape)))
                    axis += 1
                else:
                    return Tensor(None, dtype=base.dtype)
            else:
                return Tensor(None, dtype=base.dtype)
        out.extend(shape[axis:])
        kept.extend(["keep"] * (len(shape) - axis))
        result = Tensor(tuple(out), dtype=base.dtype)
        self.run.record("Tensor.__getitem__", {"input": base, "index": tuple(kept)}, result, node)
        return result

    def slice_length(self, size, lo, hi, step):
        """The length of `x[lo:hi:step]` (a positive step) along an axis of symbolic `size` (or with symbolic
        bounds), when the solver proves where the bounds fall (`x[:, 1:]` of 1 + H*W tokens: H*W; `x[0::2]`:
        ceil(L / 2)); else None. A symbolic end on a fixed-size axis (`self.position_ids[:, :seq_len]`, a buffer of
        max_position_embeddings) is taken to fit: the input is one for which it does (hi <= size is required of
        the symbols, as a convolution requires its input to be large enough)."""
        at_least = self.run.solver.at_least
        if size is None or not (step is None or isinstance(step, int) and not isinstance(step, bool) and step > 0) \
                or not all(p is None or _is_dimlike(p) for p in (lo, hi)):
            return None
        step = step or 1

        def bound(p, default):
            """A bound as a position in [0, size], or None when that is not proven."""
            if p is None:
                return default
            if isinstance(p, int) and p < 0:
                p = D.add(size, p)
                return p if at_least(p, 0) else None
            if not at_least(p, 0):
                return None
            if at_least(size, p):
                return p
            if at_least(p, size):
                return size
            if isinstance(size, int) and isinstance(p, D.Expr) and D.is_monotone(p):
                self.run.solver.require_positive(D.sub(size + 1, p))      # p <= size
                return p
            return None

        start, stop = bound(lo, 0), bound(hi, size)
        if start is None or stop is None:
            return None
        if at_least(stop, start):
            return D.ceildiv(D.sub(stop, start), step)     # x[0::2]: every other row, (L + 1) // 2 of them
        return 0 if at_least(start, stop) else None

    def call_unknown_args(self, func, node):
        """f(*xs) with xs not known: a layer built this way is still a layer, with unknown arguments."""
        if isinstance(func, V.External):
            name = canonical(func.name)
            if name in LAYERS or name in CONTAINERS:
                layer = V.Layer(name, {}, self.site(node))
                layer.args["__unknown__"] = True
                if name in CONTAINERS:
                    layer.args["__opaque__"] = True
                self.run.layers.append(layer)
                return layer
        if V.is_module(func):
            return Tensor(None)
        if isinstance(func, BuiltinMethod) and isinstance(func.obj, ScriptValue):
            func.obj.poison()          # parser.add_argument(*flags, **options) we cannot read
        return UNKNOWN

    def make_class(self, node, frame):
        bases = [self.eval(arg.value, frame) for arg in node.bases if arg.keyword is None]
        cls = V.ClassValue(node.name.value, node, bases, {}, {}, module=self.file)
        body_frame = Frame(cls.attrs, in_module=frame.in_module)
        body_frame.closure = frame.scope()
        if _record_class(node, bases, self.file.imports):
            cls.fields = _field_names(node)
        for stmt in node.body.body:
            if isinstance(stmt, cst.FunctionDef):
                prop = _setter_of(stmt)
                if prop is not None:
                    cls.setters[prop] = stmt       # `@size.setter def size(...)`: the getter stays the attribute
                elif not (_deleter_of(stmt) and stmt.name.value in cls.methods):
                    cls.methods[stmt.name.value] = stmt
            elif isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, (cst.Assign, cst.AnnAssign)):
                        try:
                            self.exec_small(small, body_frame)
                        except (BudgetExceeded, Raised):
                            raise
                        except Exception:
                            pass
        if cls.is_enum():
            _enum_members(cls)
        self.init_subclass(cls, node, frame)
        return cls

    def required_parameters(self, cls):
        """The parameters of a class's constructor without a default, each with what it is given when the class is
        built on its own: the class the code declares for it — the parameter's annotation (`config: BertConfig`),
        the class's own annotation of that name (`config: BertConfig` in the class body, inherited) or a
        `<name>_class` attribute (`config_class = BertConfig`), the most derived of them —, else SIZE for one
        annotated `int` or not annotated and used as a number (`def __init__(self, in_dim, num_classes)`; see
        parameter_uses), UNRESOLVED for one annotated with a class the code names and cnnlint cannot find (the
        class is then not built), else None (unknown: a flag, a module, `Sequence[int]`)."""
        owner = _init_owner(cls)
        if owner is None:
            return []
        params = owner.methods["__init__"].params
        positional = list(params.posonly_params) + list(params.params)
        required = [p for p in positional[1:] + list(params.kwonly_params) if p.default is None]
        untyped = {p.name.value for p in required if p.annotation is None}
        not_sizes = non_size_parameters(owner.node, owner.methods["__init__"], untyped) if untyped else set()
        out = []
        for param in required:
            kind = self.declared_class(cls, owner, param)
            annotation = param.annotation.annotation if param.annotation is not None else None
            if kind is None and (_names_int(annotation) if annotation is not None else
                                 param.name.value not in not_sizes):
                kind = SIZE
            elif kind is None and _names_class(annotation):
                kind = UNRESOLVED
            out.append((param, kind))
        return out

    def declared_arguments(self, cls):
        """The arguments a class's constructor is given when it is built on its own (see required_parameters): an
        instance of each declared class built with its defaults, a positive symbol named after each size parameter
        (a check on the model then holds only when it fails for every size), unknown for the others. None when a
        declared class cannot be built with its defaults."""
        out = {}
        owner = _init_owner(cls)
        if owner is not None and owner.methods["__init__"].params.star_kwarg is not None:
            out[UNKNOWN_EXTRA] = True       # `**params`: what a caller passes there is not known either
        for param, kind in self.required_parameters(cls):
            name = param.name.value
            if kind is SIZE:
                out[name] = self.fresh_symbol(name)
            elif kind is None:
                out[name] = UNKNOWN
            elif kind is UNRESOLVED:
                return None
            else:
                value = self.instantiate(kind, [], {}, None) if _builds_bare(kind) else None
                if not isinstance(value, V.Instance):
                    return None
                out[name] = value
        return out

    def declared_class(self, cls, owner, param):
        name = param.name.value
        found = []
        if param.annotation is not None:
            found.append(self.eval_annotation_class(param.annotation.annotation, owner.module))
        for c in cls.mro():
            attr = c.attrs.get(f"{name}_class")
            if isinstance(attr, V.ClassValue):
                found.append(attr)
            for stmt in c.node.body.body:
                if isinstance(stmt, cst.SimpleStatementLine):
                    for small in stmt.body:
                        if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and \
                                small.target.value == name:
                            found.append(self.eval_annotation_class(small.annotation.annotation, c.module))
        found = [k for k in found if isinstance(k, V.ClassValue)]
        # the one every other derives from; none when two are unrelated
        best = next((k for k in found if all(o in k.mro() for o in found)), None)
        return best

    def eval_annotation_class(self, expr, module):
        """The class an annotation names (`BertConfig`, `"BertConfig"`, `configs.BertConfig`), read in the module
        that wrote it; None for anything else (a union, a generic)."""
        if isinstance(expr, cst.SimpleString):
            text = expr.evaluated_value if isinstance(expr.evaluated_value, str) else ""
            if not all(part.isidentifier() for part in text.split(".")):
                return None
            expr = cst.parse_expression(text)
        if not isinstance(expr, (cst.Name, cst.Attribute)) or module is None:
            return None
        caller = self.file
        self.file = module
        try:
            value = self.eval(expr, module.global_frame)
        finally:
            self.file = caller
        return value if isinstance(value, V.ClassValue) else None

    def hooked_attr(self, obj, name, node):
        """`obj.name` through its class's __getattribute__, run once per name while the instance's attributes stay
        as they are (a config read a thousand times while a model is built)."""
        seen = obj.looked_up
        if seen is None or seen.get("__attrs__") is not obj.attrs:
            seen = obj.looked_up = {"__attrs__": obj.attrs}
        if name not in seen:
            effects = self.run.effects
            value = self.call_hook(obj, "__getattribute__", [name], node)
            if self.run.effects != effects or obj.looked_up is not seen:
                return value          # the lookup changed something: not remembered
            seen[name] = value
        return seen[name]

    def mapping_lookup(self, obj, key, node):
        """`obj[key]` of an instance whose class defines __getitem__ (a registry kept in a Mapping subclass)."""
        return self.call_hook(obj, "__getitem__", [key], node)

    def mapping_get(self, obj, key, node, default=None):
        """Mapping.get (and __contains__) of such an instance: `self[key]`, or `default` when that raises KeyError
        (transformers' AttentionInterface.get("eager", eager_attention_forward))."""
        self.trying += 1
        try:
            return self.mapping_lookup(obj, key, node)
        except Raised as raised:
            return default if raised.kind == "KeyError" else UNKNOWN
        finally:
            self.trying -= 1

    def call_hook(self, obj, name, args, node=None):
        """Run a method the class defines for what Python does implicitly (`__getattribute__`, `__setattr__`)."""
        method, owner = obj.cls.hook(name)
        return self.call_function(V.Function(method, owner, obj), args, {}, node)

    def init_subclass(self, cls, node, frame):
        """Python calls a base's `__init_subclass__` (implicitly a classmethod) with each new subclass, and the
        class keywords (`class C(Base, flag=True)`): what it does to the class (`dataclass(cls)`) is done."""
        hook = owner = None
        for base in cls.mro()[1:]:
            if "__init_subclass__" in base.methods:
                hook, owner = base.methods["__init_subclass__"], base
                break
        if hook is None:
            return
        keywords = {arg.keyword.value: self.eval(arg.value, frame) for arg in node.keywords
                    if arg.keyword is not None and arg.keyword.value != "metaclass"}
        self.call_function(V.Function(hook, owner), [cls], keywords, None)

    def instantiate(self, cls, args, kwargs, node):
        """A new instance of a class of the code. The same class built again at the same call, in the same call of
        the function around it, with the same plain arguments (the blocks of a stage, built in a loop), is a copy
        of the first when building it changed nothing it did not make."""
        key = _instance_key(cls, args, kwargs, node, self) if cls.keras_kind() is None else None
        memo = cls.module.memo if key is not None and cls.module is not None else None
        caller = self.frames[-1] if self.frames else None
        if memo is not None:
            # remembered for any call of the function around it, or (when a size inside was written by that
            # call's caller) for this call only; or (when building it made up a size) for this run only
            for k in (key, key + (id(caller),), key + (id(self.run),), key + (id(caller), id(self.run))):
                if k in memo:
                    return self.clone_module(memo[k][1])
        external, since = self.run.external, self.pure_since
        symbols = len(self.run.solver.lower)
        self.pure_since = next(V.CLOCK)
        try:
            instance = self._instantiate(cls, args, kwargs, node)
        finally:
            self.pure_since = since
        if memo is not None and self.run.external == external and isinstance(instance, V.Instance):
            outer = {id(e) for f in self.frames for e in (f.passed or {}).values()}
            if _hops_reach(instance, outer):
                key += (id(caller),)
            minted = len(self.run.solver.lower) != symbols
            if minted or _argument_holds(args, kwargs, _symbolic):
                # a size it could not work out became a symbol of this run's solver, or it was given one (what
                # building it asserted of that size is this run's): another run names its own symbols alike, and
                # an unknown argument may differ from the next call's
                if minted and _argument_holds(args, kwargs, lambda v: v is UNKNOWN):
                    return instance
                key += (id(self.run),)
            memo[key] = (caller, self.clone_module(instance, record=False))
        return instance

    def clone_module(self, module, record=True):
        """A copy of a module tree (instances, layers, their containers and parameters), as building it again
        would make it; its layers join the run's when `record`."""
        copies = {}

        def copy(value):
            if id(value) in copies:
                return copies[id(value)]
            if isinstance(value, V.Instance):
                out = V.Instance(value.cls, call=value.call)
                copies[id(value)] = out
                out.attrs = {k: copy(v) for k, v in value.attrs.items()}
                out.modules = {k: copy(v) for k, v in value.modules.items()}
                out.base = copy(value.base) if value.base is not None else None
                return out
            if isinstance(value, V.Layer):
                out = V.Layer(value.kind, {}, value.call)
                copies[id(value)] = out
                out.args = {k: copy(v) for k, v in value.args.items()}
                out.children = {k: copy(v) for k, v in value.children.items()}
                out.written = value.written
                if record:
                    self.run.layers.append(out)
                return out
            if isinstance(value, V.Either):
                return V.Either([copy(a) for a in value.alternatives])
            if isinstance(value, V.Function) and value.bound is not None and id(value.bound) in copies:
                return V.Function(value.node, value.owner, copies[id(value.bound)], value.closure, value.defaults,
                                  value.module)
            if isinstance(value, Tensor):
                return Tensor(value.shape, dtype=value.dtype, param=value.param)
            if isinstance(value, PList):
                out = PList([copy(v) for v in value], born=value.born)
                out.poisoned = value.poisoned
                return out
            if isinstance(value, PDict):
                out = PDict({k: copy(v) for k, v in value.items()}, born=value.born, factory=value.factory)
                out.poisoned, out.maybe = value.poisoned, set(value.maybe)
                return out
            if isinstance(value, tuple) and type(value) is tuple:
                return tuple(copy(v) for v in value)
            return value

        return copy(module)

    def _instantiate(self, cls, args, kwargs, node):
        if "__init__" not in cls.methods and "__new__" in cls.methods:
            return UNKNOWN
        instance = V.Instance(cls, call=self.site(node))
        # the first class of the MRO with an __init__: its own, or the one a dataclass is given
        owner = next((c for c in cls.mro() if "__init__" in c.methods or c.fields is not None), None)
        if owner is not None and "__init__" in owner.methods:
            self.call_function(V.Function(owner.methods["__init__"], owner, instance), args, kwargs, node)
        elif owner is not None:
            self.init_record(instance, owner.record_fields(), args, kwargs, node)
        else:
            # no user __init__: the framework base's constructor takes the arguments
            kwargs = {k: v for k, v in kwargs.items() if k not in (UNKNOWN_REST, MAYBE_KEYS)}
            self.init_external_base(instance, cls.external_bases(), args, kwargs, node)
        return instance

    def init_record(self, instance, fields, args, kwargs, node):
        """A dataclass's generated __init__: each field from the arguments, else its default (or its
        default_factory's value); then __post_init__."""
        rest_unknown = kwargs.get(UNKNOWN_REST, False)
        maybe = kwargs.get(MAYBE_KEYS, ())
        args = list(args)
        for name in fields:
            if args:
                value = args.pop(0)
            elif name in kwargs:
                value = UNKNOWN if name in maybe else kwargs[name]
            elif rest_unknown:
                value = UNKNOWN
            else:
                value = self.field_default(instance.cls, name, node)
            instance.attrs[name] = value
        instance.looked_up = None
        post, owner = instance.cls.lookup("__post_init__")
        if isinstance(post, cst.FunctionDef):
            self.call_function(V.Function(post, owner, instance), [], {}, node)

    def field_default(self, cls, name, node):
        default, _ = cls.lookup(name)
        if isinstance(default, V.FieldSpec):
            if default.has_default:
                return default.default
            if default.factory is not None:
                return self.call(default.factory, [], {}, node, self.file.global_frame)
            return UNKNOWN
        return UNKNOWN if default is None and name not in _class_attrs(cls) else default

    def replace_record(self, obj, changes, node):
        """dataclasses.replace(obj, **changes): a new instance with the fields changed."""
        fields = obj.cls.record_fields() if isinstance(obj, V.Instance) else None
        if fields is None or UNKNOWN_REST in changes:
            return UNKNOWN
        copy = V.Instance(obj.cls, call=self.site(node))
        self.init_record(copy, fields, [], {**{k: obj.attrs.get(k, UNKNOWN) for k in fields}, **changes}, node)
        return copy

    def init_external_base(self, instance, bases, args, kwargs, node):
        names = {b.name for b in bases}
        if V.is_keras(instance) and instance.path is None:
            # Keras names a layer (or model) when it is constructed: name=, else snake_case of its class + counter
            given = kwargs.get("name")
            instance.path = given if isinstance(given, str) else self.run.keras_auto_name(instance.type_name)
        if names & _DICTS or any(isinstance(b, Builtin) and b.name == "dict" for c in instance.cls.mro()
                                 for b in c.bases):
            # a subclass of dict (a registry with its own __getitem__): the items it is made with
            items = self.call_builtin("dict", args, kwargs, node, self.frames[-1] if self.frames else
                                      self.file.global_frame)
            instance.items = items if isinstance(items, PDict) else None
        if "torch.nn.Sequential" in names:
            container = self.build_container("torch.nn.Sequential", args, kwargs, node)
            instance.modules.update(container.children)
        elif "torch.nn.ModuleList" in names or "torch.nn.ModuleDict" in names:
            kind = "torch.nn.ModuleList" if "torch.nn.ModuleList" in names else "torch.nn.ModuleDict"
            container = self.build_container(kind, args, kwargs, node)
            instance.modules.update(container.children)
        else:
            layer_base = next((LAYERS[n] for n in names if n in LAYERS), None)
            if layer_base is not None:
                # what nn.Conv2d.__init__ makes of these arguments: the instance's weights, stride, ...
                base = self.build_layer(layer_base, args, kwargs, node, self.frames[-1] if self.frames else None)
                base.call = instance.call
                instance.base = base

    def call_super_method(self, sup, name, args, kwargs, node):
        mro = sup.instance.cls.mro() if isinstance(sup.instance, V.Instance) else []
        after = mro[mro.index(sup.after) + 1:] if sup.after in mro else []
        for cls in after:
            if name in cls.methods:
                return self.call_function(V.Function(cls.methods[name], cls, sup.instance), args, kwargs, node)
            if name == "__init__" and cls.fields is not None and isinstance(sup.instance, V.Instance):
                # the generated __init__ of a dataclass base (torchvision's MBConvConfig(_MBConvConfig))
                self.init_record(sup.instance, cls.record_fields(), args, kwargs, node)
                return None
        if name == "__getattribute__" and isinstance(sup.instance, V.Instance) and len(args) == 1 and \
                isinstance(args[0], str):
            return self.instance_attr(sup.instance, args[0], node)        # object.__getattribute__
        if name == "__setattr__" and isinstance(sup.instance, V.Instance) and len(args) == 2 and \
                isinstance(args[0], str):
            self.store_attr(sup.instance, args[0], args[1])                 # object.__setattr__
            return None
        if isinstance(sup.instance, V.Instance) and sup.instance.items is not None and name in _DICT_READS:
            items = sup.instance.items          # dict's own methods, on the items the instance holds
            if name == "__getitem__":
                return self.index(items, args[0], node) if len(args) == 1 else UNKNOWN
            return self.call_builtin_method(BuiltinMethod(items, name), args, kwargs, None, node)
        if name == "get" and isinstance(sup.instance, V.Instance) and is_mapping(sup.instance) and args:
            return self.mapping_get(sup.instance, args[0], node, args[1] if len(args) > 1 else None)
        if name == "__init__" and isinstance(sup.instance, V.Instance):
            self.init_external_base(sup.instance, sup.after.external_bases() if isinstance(
                sup.after, V.ClassValue) else [], args, kwargs, node)
            return None
        if name == "forward" and isinstance(sup.instance, V.Instance):
            return self.run.call_module(self, sup.instance, args, kwargs, node, skip_user_forward=True)
        return UNKNOWN

    def call_keras(self, name, args, kwargs, node):
        """keras.Input, tensor factories (example inputs), keras.layers.add([...]) and keras.Model(inputs, outputs);
        NotImplemented for the rest."""
        if name == "keras.Input":
            shape = kwargs.get("shape", args[0] if args else None)
            batch = kwargs.get("batch_size")
            if not isinstance(shape, (list, tuple)):
                return Tensor(None)
            # the declared shape is kept for the rules that judge it (CNN209, CNN210)
            return self.run.record("keras.Input", {"shape": tuple(shape)},
                                   Tensor(keras_shape(shape, self.run.solver, batch)), node)
        if name in ("keras.backend.image_data_format", "keras.config.image_data_format"):
            # Keras' default, unless the file set it (CNN210 checks files that mention it)
            return self.run.file.keras_data_format or "channels_last"
        if name in ("keras.backend.set_image_data_format", "keras.config.set_image_data_format"):
            value = kwargs.get("data_format", args[0] if args else None)
            # the layers built after it take it as their default data_format
            self.run.file.keras_data_format = value if value in ("channels_first", "channels_last") else None
            self.run.effects += 1             # a change of state: the call is not pure, and what was is stale
            self.run.file.memo.clear()
            self.file.memo.clear()
            return None
        if name == "keras.applications.imagenet_utils.obtain_input_shape":
            return _application_input_shape(args, kwargs)
        if name == "keras.applications.imagenet_utils.correct_pad":
            return _application_correct_pad(args, kwargs)
        if name in KERAS_FACTORIES:
            shape = kwargs.get("shape", args[0] if args else None)
            if isinstance(shape, (list, tuple)) and all(isinstance(d, int) for d in shape):
                return self.run.record(name, {}, Tensor(tuple(shape)), node)
            return Tensor(None)
        if name in MERGE_FUNCTIONS:
            layer = self.build_layer(KERAS_LAYERS[MERGE_FUNCTIONS[name]], [], {k: v for k, v in kwargs.items()
                                                                             if k != "inputs"}, node)
            inputs = args[0] if args else kwargs.get("inputs")
            return self.run.call_module(self, layer, [inputs], {}, node)
        if name == "keras.Model":
            outputs = kwargs.get("outputs", args[1] if len(args) > 1 else None)
            inputs = kwargs.get("inputs", args[0] if args else None)
            return self.run.keras_model(inputs, outputs, kwargs.get("name"), node)
        return NotImplemented

    def build_container(self, kind, args, kwargs, node):
        self.run.effects += 1
        layer = V.Layer(kind, {}, self.site(node))
        self.run.layers.append(layer)
        if kind == "keras.Sequential":
            name = kwargs.get("name", args[1] if len(args) > 1 else None)
            if isinstance(name, str):
                layer.args["name"] = name
            items = self.iterate(args[0] if args else kwargs.get("layers", [])) or []
            if items and isinstance(items[0], Tensor):      # Sequential([keras.Input(shape=...), ...])
                layer.args["__input__"] = items[0]
                items = items[1:]
            # a layer we do not know stays in place: the layers before it are still run (_run_sequential stops
            # there with an unknown shape)
            layer.children = {str(i): v for i, v in enumerate(items)}
            if args and self.iterate(args[0]) is None:
                layer.args["__opaque__"] = True
            return layer
        if kind in WRAPPERS:
            wrapped = args[0] if args else kwargs.get("module")
            layer.children = {"module": wrapped}
        elif kind == "torch.nn.Sequential":
            if len(args) == 1 and isinstance(args[0], dict):
                if getattr(args[0], "poisoned", False) or getattr(args[0], "maybe", None):
                    layer.args["__opaque__"] = True      # modules there on some paths only
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
                if getattr(source, "maybe", None):
                    layer.args["__opaque__"] = True      # modules there on some paths only
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
        if name == "torch._assert":
            if isinstance(node, cst.Call) and node.args:
                self.assume(node.args[0].value, frame)
            if args and args[0] is False and not self.doubt and frame is not None:
                frame.halt = "return"      # it raises: nothing after it runs (or is checked)
            return None
        if name in ("torch.nn.ParameterList", "torch.nn.ParameterDict") and not kwargs and len(args) <= 1:
            # a list / dict of the parameters it holds (indexed and iterated as one; F.linear(x, params["w1"]))
            if name == "torch.nn.ParameterList":
                items = self.iterate(args[0]) if args else []
                return PList(items) if items is not None else UNKNOWN
            return self.call_builtin("dict", args, {}, node, frame)
        if name in CONTAINERS:
            return self.build_container(name, args, kwargs, node)
        spec = LAYERS.get(name) or KERAS_LAYERS.get(name)
        if spec is not None:
            if self.trying and not self.doubt and rejects(name, len(args), list(kwargs)):
                raise Raised("TypeError")      # inside a try that may catch it: nn.AvgPool2d(channels=64)
            return self.build_layer(spec, args, kwargs, node, frame)
        if name.startswith("keras."):
            keras = self.call_keras(name, args, kwargs, node)
            if keras is not NotImplemented:
                return keras
        if name in ("torch.nn.Parameter", "torch.nn.parameter.Parameter"):
            source = args[0] if args and isinstance(args[0], Tensor) else Tensor(None)
            return Tensor(source.shape, node=source.node, dtype=source.dtype, param=True)
        if name in ("torch.nn.Buffer", "torch.nn.parameter.Buffer"):
            # a buffer (registered when assigned to a module): the tensor it holds
            source = args[0] if args and isinstance(args[0], Tensor) else Tensor(None)
            return Tensor(source.shape, node=source.node, dtype=source.dtype)
        if name == "torch.autograd.Variable":
            return args[0] if args and isinstance(args[0], Tensor) else Tensor(None)
        if name.startswith("torch.nn.init."):
            return args[0] if args else UNKNOWN
        if name in ("collections.OrderedDict", "typing.OrderedDict"):
            return self.call_builtin("dict", args, kwargs, node, frame)
        if name.startswith("math."):
            return self.call_math(name[5:], args)
        if name.startswith("re.") and name[3:] in _REGEX:
            return _regex(name[3:], args, kwargs)
        if name == "itertools.repeat" and len(args) == 2 and isinstance(args[1], int) and 0 <= args[1] <= MAX_UNROLL:
            return PList([args[0]] * args[1])
        if name == "itertools.chain":
            parts = [self.iterate(a) for a in args]
            return UNKNOWN if any(p is None for p in parts) else PList(x for p in parts for x in p)
        if name == "itertools.accumulate" and 1 <= len(args) <= 2 and set(kwargs) <= {"func", "initial"}:
            # running sums (or products, with a function): the reductions of a stack of strides
            items = self.iterate(args[0])
            func = args[1] if len(args) > 1 else kwargs.get("func")
            if items is None or len(items) > MAX_UNROLL:
                return UNKNOWN
            out = [kwargs["initial"]] if kwargs.get("initial") is not None else []
            for item in items:
                out.append(item if not out else self.call(func, [out[-1], item], {}, node, frame)
                           if func is not None else self.binop(cst.Add, out[-1], item, node))
            return PList(out)
        if name in _EAGER_CHECKS and not args:
            return False        # the model is read as Python runs it: not scripted, traced, exported or compiled
        if name == "functools.reduce" and 2 <= len(args) <= 3 and not kwargs:
            # reduce(operator.mul, kernel_size, 1): a product of sizes, folded as Python folds it
            items = self.iterate(args[1])
            if items is None or len(items) > MAX_UNROLL or (len(args) == 2 and not items):
                return UNKNOWN
            items = list(items)
            total = args[2] if len(args) == 3 else items.pop(0)
            for item in items:
                total = self.call(args[0], [total, item], {}, node, frame)
            return total
        if name in OPERATORS and len(args) == 2 and not kwargs:
            return self.binop(OPERATORS[name], args[0], args[1], node)      # operator.mul(a, b) is a * b
        if name == "numpy.linspace":
            return self.linspace(args, kwargs)
        if name in ("copy.copy", "copy.deepcopy") and len(args) == 1 and not kwargs:
            return self.copy_value(args[0], deep=name == "copy.deepcopy", frame=frame)
        if name == "collections.namedtuple":
            return _namedtuple(args, kwargs)
        if name == "importlib.util.find_spec" and len(args) == 1 and isinstance(args[0], str) and \
                not args[0].startswith(".") and self.file.loader is not None:
            # whether the environment the code runs in has the module (`is_kernels_available()`), as the loader
            # finds it: None when it does not
            return V.External("importlib.machinery.ModuleSpec") if self.file.loader.installed(args[0]) else None
        if name == "keyword.iskeyword" and len(args) == 1 and isinstance(args[0], str):
            return keyword.iskeyword(args[0])
        if name == "collections.defaultdict":
            return PDict(born=frame.uncertain, factory=args[0] if args else None)
        if name == "collections.deque" and len(args) <= 1 and not kwargs:
            items = self.iterate(args[0]) if args else []
            return UNKNOWN if items is None else PList(items, born=frame.uncertain)
        if name == "dataclasses.dataclass" and len(args) == 1 and isinstance(args[0], V.ClassValue):
            # dataclass(cls): the class, now with the __init__ its fields make (a base's __init_subclass__ does this)
            if args[0].fields is None:
                args[0].fields = _field_names(args[0].node)
            return args[0]
        if name == "dataclasses.field":
            return V.FieldSpec(kwargs.get("default"), kwargs.get("default_factory"), "default" in kwargs)
        if name == "dataclasses.replace" and args:
            return self.replace_record(args[0], dict(kwargs), node)
        if name == "dataclasses.asdict" and len(args) == 1 and isinstance(args[0], V.Instance) and \
                args[0].cls.record_fields() is not None:
            return PDict({k: args[0].attrs.get(k, UNKNOWN) for k in args[0].cls.record_fields()})
        if name == "torch.compile" and args and V.is_module(args[0]):
            return args[0]            # the compiled module runs as the module does
        if name in ("typing.cast", "typing_extensions.cast"):
            return args[1] if len(args) == 2 else UNKNOWN
        if name == "functools.partial":
            if not args or args[0] is UNKNOWN:
                return UNKNOWN
            func, bound = args[0], tuple(args[1:])
            if isinstance(func, V.Partial):       # partial of a partial: one partial, as Python flattens it
                func, bound, kwargs = func.func, func.args + bound, {**func.keywords, **kwargs}
            return V.Partial(func, bound, PDict(kwargs))
        found = self.call_script(name, args, kwargs, node, frame)
        if found is not NotImplemented:
            return found
        spec = FN.lookup(name)
        if spec is not None or name in _VALUE_OPS:
            return self.record_fn(name, args, kwargs, node, spec)
        # torch and numpy never change the Python lists they are given (sizes, sections)
        self.escape(args, kwargs, lists=not name.startswith(("torch.", "numpy.", "math.")))
        if name.startswith("torch.") and any(isinstance(a, Tensor) for a in args):
            return Tensor(None)
        return UNKNOWN

    def escape(self, args, kwargs, lists=True):
        """Lists and dicts handed to code we do not read may be changed by it (and so may an instance: the call
        is not pure); `lists=False` for code known to leave them as they are."""
        for value in list(args) + list(kwargs.values()):
            if isinstance(value, (PList, PDict)) and lists:
                value.poisoned = True
            elif isinstance(value, V.Layer) and value.kind in CONTAINERS:
                value.args["__opaque__"] = True
            elif isinstance(value, ScriptValue):
                value.poison()
            if isinstance(value, V.Instance):
                value.open = True
            if isinstance(value, (PList, PDict, V.Layer, V.Instance)):
                self.changed(value)

    def build_layer(self, spec, args, kwargs, node, frame=None):
        bound = dict(spec.defaults)
        for name, value in zip(spec.params, args):
            bound[name] = value
        if len(args) > len(spec.params):
            bound["__unknown__"] = True
        bound.update(kwargs)
        if spec.kind.startswith("keras.") and "data_format" in spec.params and bound.get("data_format") is None \
                and self.run.file.keras_data_format == "channels_first":
            bound["data_format"] = "channels_first"       # keras.config.set_image_data_format("channels_first")
        for param in SIZE_PARAMS.intersection(bound):
            if bound[param] is UNKNOWN:
                bound[param] = self.size_symbol(spec, param, node)
        self.run.effects += 1
        layer = V.Layer(spec.kind, bound, self.site(node))
        if spec.kind == "torch.nn.FloatFunctional":
            # the observer torch calls on each result (an Identity until the model is prepared)
            layer.children["activation_post_process"] = V.Layer("torch.nn.Identity", {}, layer.call)
        if frame is not None and frame.passed and isinstance(node, cst.Call):
            # a size passed down as a parameter (`nn.Conv2d(cin, ...)` in a block built as `Block(64, ...)`) is
            # written where the call passed it: that is where the user changes it
            positional = [a.value for a in node.args if a.keyword is None and not a.star]
            for i, param in enumerate(spec.params):
                arg = next((a.value for a in node.args if a.keyword is not None and a.keyword.value == param),
                           positional[i] if i < len(positional) and not any(a.star for a in node.args) else None)
                hops = self.written_at(arg, frame) if isinstance(arg, cst.Name) else None
                if hops:
                    layer.written[param] = hops
        if spec.kind.startswith("keras."):
            layer.path = self.run.keras_name(layer)     # Keras names a layer when it is made, not when called
        self.run.layers.append(layer)
        return layer

    def size_symbol(self, spec, param, node):
        """A positive symbol for a layer size the code does not pin down, named as the argument was written
        (`in_chans`, `self.num_features`) when it was a name, else after the parameter."""
        written = None
        if isinstance(node, cst.Call) and not any(a.star for a in node.args):
            positional = [a.value for a in node.args if a.keyword is None]
            index = spec.params.index(param)
            written = positional[index] if index < len(positional) else next(
                (a.value for a in node.args if a.keyword is not None and a.keyword.value == param), None)
        name = dotted(written) if written is not None else None
        base = name.rsplit(".", 1)[-1] if name else param
        return self.run.solver.fresh(base if base.isidentifier() else param)

    def record_fn(self, name, args, kwargs, node, spec=None):
        spec = spec or FN.lookup(name)
        bound = FN.bind(spec, args, dict(kwargs)) if spec is not None else None
        counted = _unique_counts(name, args, kwargs)
        if counted is not None:
            return counted
        valued = _tensor_values(name, bound, args, kwargs)
        if valued is not None:
            values, dtype = valued       # a small tensor of known values: its shape is theirs
            output = Tensor(() if name.endswith((".max", ".min", ".sum")) else (len(values),), dtype=dtype,
                            values=values)
            return self.run.record(spec.op if spec else name, bound if bound is not None else {}, output, node,
                                   called=name)
        if spec is None:
            return Tensor(None)
        if bound is None:
            return Tensor(None) if any(isinstance(a, Tensor) for a in args) else UNKNOWN
        try:
            output = spec.transfer(bound)
        except (TypeError, ValueError, ZeroDivisionError, IndexError, AttributeError, OverflowError):
            output = Tensor(None)
        if spec.op in FN.RESHAPES and isinstance(output, Tensor):
            output = self.reshape_with_facts(bound, output)
        if isinstance(output, Tensor) and output.dtype is None:
            output.dtype = FN.kept_dtype(name, bound)
        return self.run.record(spec.op, bound, output, node, called=name)

    def reshape_with_facts(self, bound, output):
        """A view or reshape, given what is known to divide evenly: its -1 inferred through those facts (the
        batch of a window-reverse `view(-1, H, W, C)`), and sizes of its own teaching new ones (on a path that
        certainly runs)."""
        solver, source = self.run.solver, FN.shape_of(bound.get("input"))
        target = bound.get("shape")
        if output.shape is not None and None in output.shape and solver.exact:
            shape = FN.reshape_shape(source, target, divide=solver.exact_div)
            if shape is not None and None not in shape:
                return Tensor(shape, dtype=output.dtype)
        elif output.shape is not None and not self.doubt and -1 not in (FN.sizes(target) or (-1,)):
            solver.learn_reshape(source, output.shape)
        return output

    def call_tensor_method(self, method, args, kwargs, node):
        values = method.tensor.values
        if values is not None and method.name in ("tolist", "item") and not args:
            numbers = list(values) if method.tensor.dtype == "float" else [int(v) for v in values]
            if method.name == "item" or method.tensor.shape == ():
                return numbers[0] if len(numbers) == 1 else UNKNOWN
            return PList(numbers)
        spec = FN.lookup("Tensor." + method.name)
        if spec is None and not (values is not None and "Tensor." + method.name in _VALUE_OPS):
            return Tensor(None) if method.name not in ("tolist", "item", "numpy", "data_ptr", "is_contiguous",
                                                        "element_size", "get_device", "stride") else UNKNOWN
        return self.record_fn("Tensor." + method.name, [method.tensor] + list(args), kwargs, node, spec)

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
        if name == "forward" and name not in layer.args:
            return layer             # `down.forward(y)`: the layer's own computation, as calling it
        if name in layer.args:
            value = layer.args[name]
            kind = layer.type_name
            if name in _CONV_TUPLES and kind.startswith("Conv") and kind[-2:] in ("1d", "2d", "3d") and isinstance(
                    value, int) and not isinstance(value, bool):
                return (value,) * int(kind[-2])      # nn.Conv2d keeps stride=2 as (2, 2)
            return value
        if layer.kind in CONTAINERS:
            if name in layer.children:
                return layer.children[name]
            return BuiltinMethod(layer, name)
        if module_method(layer, name) is not None:
            return BuiltinMethod(layer, name)
        if layer.kind == "torch.nn.FloatFunctional" and name in FLOAT_FUNCTIONAL_METHODS:
            return BuiltinMethod(layer, name)        # self.cat.cat(xs, 1): torch.cat (BuiltinsMixin)
        spec = LAYERS.get(layer.kind)
        if spec is not None and name in spec.params:
            return UNKNOWN
        if name == "weight":
            # a node of its own: a check of F.linear(x, self.weight) finds the layer whose constructor sized it
            return self.run.record(WEIGHT, {"layer": layer}, Tensor(_weight_shape(layer), param=True), layer.call)
        if name in ("bias",):
            return Tensor(None)
        return UNKNOWN


WEIGHT = "module.weight"        # graph op of a layer's weight read as a tensor (self.weight)
_REGEX = ("split", "sub", "findall", "match", "fullmatch", "search")


def _regex(name, args, kwargs):
    """re.split / sub / findall / match / fullmatch / search of constant strings (timm's block strings such as
    'ir_r2_k3_s2_e6_c24' are parsed this way); a match is a tuple of its group 0 and groups, or None."""
    import re
    if kwargs or not args or not all(isinstance(a, (str, int)) and not isinstance(a, bool) for a in args) or any(
            isinstance(a, str) and len(a) > 2000 for a in args):
        return UNKNOWN
    try:
        result = getattr(re, name)(*args)
    except (re.error, TypeError, ValueError, IndexError):
        return UNKNOWN
    if isinstance(result, list):
        return PList(result)
    if isinstance(result, re.Match):
        return RegexMatch(result.group(0), result.groups())
    return result


def _enum_members(cls):
    """An Enum class's plain class attributes become its members."""
    mixed = any(isinstance(b, Builtin) and b.name in ("str", "int") or isinstance(b, V.External) and b.name in (
        "enum.IntEnum", "enum.StrEnum", "enum.IntFlag") for c in cls.mro() for b in c.bases)
    for name, value in list(cls.attrs.items()):
        if not name.startswith("_") and (value is UNKNOWN or isinstance(value, (int, str, float, tuple))):
            cls.attrs[name] = V.EnumMember(cls, name, value, mixed)


def enum_lookup(cls, args):
    """`Format("NHWC")` / `Format(Format.NHWC)`: the member with that value."""
    if len(args) != 1:
        return UNKNOWN
    if isinstance(args[0], V.EnumMember):
        return args[0] if args[0].cls is cls else UNKNOWN
    members = [m for c in cls.mro() for m in c.attrs.values() if isinstance(m, V.EnumMember)]
    if args[0] is UNKNOWN or any(m.value is UNKNOWN for m in members) or not isinstance(args[0], (int, str, float)):
        return UNKNOWN
    return next((m for m in members if m.value == args[0]), UNKNOWN)


def _instance_key(cls, args, kwargs, node, interp):
    """What a remembered construction is keyed by: the class, the call (and the linted file's call that led
    there), the call of the function around it, and arguments that are plain values or definitions (a class, a
    layer class, a function); None when an argument is anything else (a module, a tensor, a list)."""
    def key(v, depth=0):
        if v is None or v is UNKNOWN or isinstance(v, (int, float, str, D.Expr)):
            return (type(v), v)
        if isinstance(v, (V.ClassValue, V.PyModule)) or isinstance(v, V.Function) and v.bound is None:
            return ("id", id(v))
        if isinstance(v, V.External):
            return ("ext", v.name)
        if depth < 3 and (type(v) is tuple or isinstance(v, V.Partial)):
            items = [v.func, *v.args, *v.keywords.values()] if isinstance(v, V.Partial) else list(v)
            parts = tuple(key(x, depth + 1) for x in items)
            names = tuple(v.keywords) if isinstance(v, V.Partial) else ()
            return None if None in parts else (type(v).__name__, parts, names)
        return None
    positional = tuple(key(a) for a in args)
    named = []
    for k, v in sorted(kwargs.items()):
        if k == MAYBE_KEYS:
            named.append((k, tuple(sorted(v))))
        elif k == UNKNOWN_REST:
            named.append((k, bool(v)))
        else:
            named.append((k, key(v)))
    if None in positional or any(part is None for _, part in named):
        return None
    return id(cls), id(node), id(interp.anchor), positional, tuple(named)


_EAGER_CHECKS = frozenset({"torch.jit.is_scripting", "torch.jit.is_tracing", "torch.onnx.is_in_onnx_export",
                           "torch.compiler.is_compiling", "torch.compiler.is_dynamo_compiling",
                           "torch._dynamo.is_compiling", "torch.fx._symbolic_trace.is_fx_tracing"})
OPERATORS = {"operator.add": cst.Add, "operator.sub": cst.Subtract, "operator.mul": cst.Multiply,
              "operator.truediv": cst.Divide, "operator.floordiv": cst.FloorDivide, "operator.mod": cst.Modulo,
              "operator.pow": cst.Power, "operator.matmul": cst.MatrixMultiply}


def _argument_holds(args, kwargs, test):
    """Whether a construction's arguments hold a value that passes `test` (in a tuple or a partial too); `**rest`
    of unknown keys holds an unknown."""
    def holds(v, depth=0):
        if test(v):
            return True
        items = [v.func, *v.args, *v.keywords.values()] if isinstance(v, V.Partial) else (
            v if type(v) is tuple else ())
        return depth < 3 and any(holds(x, depth + 1) for x in items)
    markers = (MAYBE_KEYS, UNKNOWN_REST, UNKNOWN_EXTRA)
    if test(UNKNOWN) and any(kwargs.get(k) for k in markers):
        return True
    return any(holds(v) for v in [*args, *(v for k, v in kwargs.items() if k not in markers)])


def _symbolic(v):
    return isinstance(v, D.Expr) and bool(D.symbols(v))


def _hops_reach(module, entries, seen=None):
    """Whether a size of a layer in this module tree was written, as its `written` hops tell, by one of the
    parameter records `entries` (of the calls around its construction)."""
    seen = set() if seen is None else seen
    if id(module) in seen:
        return False
    seen.add(id(module))
    if isinstance(module, V.Layer):
        if any(id(entry) in entries for hops in module.written.values() for _, entry in hops):
            return True
        inner = list(module.children.values()) + [v for v in module.args.values() if V.is_module(v)]
    elif isinstance(module, V.Instance):
        inner = list(module.modules.values()) + [module.base] * (module.base is not None)
    elif isinstance(module, V.Either):
        inner = module.alternatives
    else:
        return False
    return any(_hops_reach(m, entries, seen) for m in inner if V.is_module(m))


def _record_class(node, bases, imports):
    """A @dataclass (however decorated) or a typing.NamedTuple subclass: its __init__ is generated from fields."""
    from .imports import qualify
    for dec in node.decorators:
        expr = dec.decorator.func if isinstance(dec.decorator, cst.Call) else dec.decorator
        if qualify(dotted(expr), imports) in ("dataclasses.dataclass", "dataclass"):
            return True
    return any(isinstance(b, V.External) and b.name in ("typing.NamedTuple", "typing_extensions.NamedTuple")
               for b in bases)


_DICTS = {"collections.OrderedDict", "typing.OrderedDict", "collections.UserDict"}
_DICT_READS = {"__getitem__", "get", "keys", "values", "items"}
_MAPPINGS = {"collections.abc.Mapping", "collections.abc.MutableMapping", "typing.Mapping", "typing.MutableMapping"}


def is_mapping(instance):
    """An instance of a class of the code that implements the Mapping protocol through its own __getitem__: its
    get() and `in` are what Mapping makes of it."""
    return instance.cls.hook("__getitem__") is not None and any(
        b.name in _MAPPINGS for b in instance.cls.external_bases())


SIZE = "size"               # a constructor parameter given a size symbol (see TorchMixin.required_parameters)
UNRESOLVED = "unresolved"   # ... annotated with a class cnnlint cannot find
_PLAIN_TYPES = frozenset("int float bool str bytes complex list tuple dict set object Any".split())


def _namedtuple(args, kwargs):
    """The class `collections.namedtuple("Name", ("a", "b"))` makes, when its name and fields are written: a real
    named tuple (of the values it is given), as Python makes it."""
    fields = args[1] if len(args) > 1 else kwargs.get("field_names")
    if isinstance(fields, str):
        fields = fields.replace(",", " ").split()
    if not (args and isinstance(args[0], str) and isinstance(fields, (list, tuple)) and
            all(isinstance(f, str) for f in fields) and set(kwargs) <= {"field_names"}):
        return UNKNOWN
    try:
        return collections.namedtuple(args[0], list(fields))
    except ValueError:
        return UNKNOWN


def _init_owner(cls):
    """The class whose __init__ of the code builds instances of `cls` (None: a record's generated one, or an
    external base's)."""
    owner = next((c for c in cls.mro() if "__init__" in c.methods or c.fields is not None), None)
    return owner if owner is not None and "__init__" in owner.methods else None


def _names_int(annotation):
    return isinstance(annotation, cst.Name) and annotation.value == "int"


def _names_class(annotation):
    """An annotation that names one class (`XConfig`, `configs.XConfig`, `"XConfig"`), not a plain type or a
    generic (`float`, `Sequence[int]`, `Optional[...]`)."""
    if isinstance(annotation, cst.SimpleString):
        text = annotation.evaluated_value if isinstance(annotation.evaluated_value, str) else ""
        return all(part.isidentifier() for part in text.split(".")) and text not in _PLAIN_TYPES
    if isinstance(annotation, cst.Attribute):
        return annotation.attr.value not in _PLAIN_TYPES and not (
            isinstance(annotation.value, cst.Name) and annotation.value.value in ("typing", "collections", "abc"))
    return isinstance(annotation, cst.Name) and annotation.value not in _PLAIN_TYPES and \
        not annotation.value[:1].islower()


def _builds_bare(cls):
    """Whether a class of the code can be built with no arguments: its __init__ has defaults for every parameter
    (a dataclass: every field has one)."""
    for c in cls.mro():
        if "__init__" in c.methods:
            params = c.methods["__init__"].params
            positional = list(params.posonly_params) + list(params.params)
            return all(p.default is not None for p in positional[1:] + list(params.kwonly_params))
        if c.fields is not None:
            return all(cls.lookup(f)[1] is not None for f in c.record_fields())
    return not cls.external_bases()


def _field_names(node):
    """The fields a dataclass (or NamedTuple) body declares: its annotated names, but for ClassVars."""
    names = []
    for stmt in node.body.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and \
                        "ClassVar" not in (dotted(_annotation_head(small.annotation.annotation)) or ""):
                    names.append(small.target.value)
    return names


def _setter_of(fdef):
    """`size` for a method decorated `@size.setter`, else None."""
    for dec in fdef.decorators:
        expr = dec.decorator
        if isinstance(expr, cst.Attribute) and expr.attr.value == "setter" and isinstance(expr.value, cst.Name) \
                and expr.value.value == fdef.name.value:
            return fdef.name.value
    return None


def _deleter_of(fdef):
    return any(isinstance(d.decorator, cst.Attribute) and d.decorator.attr.value == "deleter" for d in fdef.decorators)


def _annotation_head(expr):
    return expr.value if isinstance(expr, cst.Subscript) else expr


def _class_attrs(cls):
    return {k for c in cls.mro() for k in c.attrs}


_CONV_TUPLES = ("kernel_size", "stride", "padding", "dilation", "output_padding")


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


def _application_input_shape(args, kwargs):
    """keras.applications' obtain_input_shape(input_shape, default_size, min_size, data_format, require_flatten,
    weights) for channels_last: the shape given, else the default size when the classifier top needs it, else
    (None, None, 3)."""
    names = ("input_shape", "default_size", "min_size", "data_format", "require_flatten", "weights")
    given = {**dict(zip(names, args)), **kwargs}
    shape, size, flatten = given.get("input_shape"), given.get("default_size"), given.get("require_flatten")
    if given.get("data_format") != "channels_last" or not isinstance(size, int):
        return UNKNOWN
    if isinstance(shape, (list, tuple)):
        return tuple(shape)
    if shape is not None or flatten not in (True, False):
        return UNKNOWN
    return (size, size, 3) if flatten else (None, None, 3)


def _application_correct_pad(args, kwargs):
    """keras.applications' correct_pad(inputs, kernel_size) for channels_last: the ZeroPadding2D padding that
    makes a stride-2 'valid' convolution match 'same' ((k//2 - 1 + size % 2, k//2) per spatial axis). A size
    Keras leaves open (None; a symbol here) pads as an odd one would; a size we do not know leaves it unknown."""
    names = ("inputs", "kernel_size")
    given = {**dict(zip(names, args)), **kwargs}
    inputs, kernel = given.get("inputs"), given.get("kernel_size")
    kernel = (kernel, kernel) if isinstance(kernel, int) and not isinstance(kernel, bool) else kernel
    if not isinstance(inputs, Tensor) or inputs.shape is None or len(inputs.shape) != 4 or not (
            isinstance(kernel, (list, tuple)) and len(kernel) == 2 and all(isinstance(k, int) for k in kernel)):
        return UNKNOWN
    sizes = inputs.shape[1:3]
    if any(s is None for s in sizes):
        return UNKNOWN
    adjust = (1 - sizes[0] % 2, 1 - sizes[1] % 2) if all(isinstance(s, int) for s in sizes) else (1, 1)
    return tuple((k // 2 - a, k // 2) for k, a in zip(kernel, adjust))


_VALUE_OPS = {"torch.unique", "Tensor.unique", "torch.diff", "Tensor.diff", "torch.pow", "torch.round",
              "Tensor.max", "Tensor.min", "Tensor.sum", "Tensor.int", "Tensor.long", "Tensor.float",
              "torch.log", "torch.exp", "torch.sqrt", "torch.floor", "torch.ceil", "torch.divide", "torch.div",
              "torch.add", "torch.sub", "torch.mul", "torch.abs"}
_WHOLE = ("unique", "diff", "max", "min", "sum")       # read only without arguments: the whole 1-D tensor


def _tensor_values(name, bound, args, kwargs):
    """(values, dtype) when the op computes a small tensor of known values from such tensors and numbers."""
    if not any(isinstance(a, Tensor) and a.values is not None for a in list(args) + list(kwargs.values())):
        return None
    if not (name in _VALUE_OPS or name.startswith(("operator.", "Tensor."))):
        return None
    if name.rsplit(".", 1)[-1] in _WHOLE and (len(args) != 1 or kwargs):
        return None
    generic = {"input": args[0] if args else kwargs.get("input"),
               "other": args[1] if len(args) > 1 else kwargs.get("other", kwargs.get("exponent"))}
    return TV.compute(name, generic, None)


def _unique_counts(name, args, kwargs):
    """torch.unique(t, return_counts=True) of a tensor of known values: (values, counts), both known."""
    if name not in ("torch.unique", "Tensor.unique") or len(args) != 1 or kwargs.get("return_counts") is not True \
            or set(kwargs) - {"return_counts", "sorted"} or not isinstance(args[0], Tensor) or args[0].values is None:
        return None
    values = args[0].values
    unique = tuple(sorted(set(values)))
    counts = tuple(values.count(u) for u in unique)
    return (Tensor((len(unique),), dtype=args[0].dtype, values=unique),
            Tensor((len(unique),), dtype="long", values=counts))

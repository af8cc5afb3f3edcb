"""Python's own builtins for the evaluator: range, len, list/dict/str methods, math, isinstance, and the
methods of torch containers (ModuleList.append, ...). A mixin of cnnlint.extract.evaluator.Interpreter."""

from __future__ import annotations

import math

from .. import values as V
from ..shapes import dims as D
from ..shapes.keras_layers import KERAS_LAYERS, KERAS_MODEL_METHODS, keras_shape
from ..shapes.torch_layers import (CONTAINERS, FLOAT_FUNCTIONAL_METHODS, LAYERS, MODULE_METHODS, container_has,
                                   layer_is_a)
from ..values import NUMBER, UNKNOWN, Tensor

from .domain import (MAX_UNROLL, Builtin, PDict, PList, PSet, Ratio, RegexMatch, TorchNames, _is_dimlike,
                     known_torch_name, printable, set_item, truth)
from .imports import canonical
from .scripts import ScriptValue

_SCRIPT_BUILTINS = {"open", "vars", "iter", "next", "len", "enumerate", "str"}


class BuiltinsMixin:
    def call_builtin_method(self, method, args, kwargs, frame, node=None):
        obj, name = method.obj, method.name
        kind = module_method(obj, name)
        if name in ("children", "named_children") and not args and not kwargs:
            found = _children(obj)
            if found is not None:
                return PList(found if name == "named_children" else [m for _, m in found])
        if kind is not None:
            if name in ("train", "eval") and isinstance(obj, V.Instance) and obj.cls.is_torch_module():
                mode = name == "train" and (args[0] if args else kwargs.get("mode", True))
                _set_training(obj, mode if isinstance(mode, bool) else UNKNOWN)
            return obj if kind == "self" else self.feed_model(obj, name, args, kwargs, node)
        if isinstance(obj, ScriptValue):
            return self.call_script_method(obj, name, args, kwargs, frame, node)
        if isinstance(obj, V.Layer) and obj.kind == "torch.nn.FloatFunctional" and name in FLOAT_FUNCTIONAL_METHODS:
            # self.cat.cat(xs, 1): torch.cat, then the observer module torch calls on the result
            out = self.call_external(FLOAT_FUNCTIONAL_METHODS[name], args, kwargs, node, frame)
            observer = obj.children.get("activation_post_process")
            return self.run.call_module(self, observer, [out], {}, node) if V.is_module(observer) else out
        if isinstance(obj, V.Layer):
            return self.call_container_method(obj, name, args, frame)
        if isinstance(obj, V.Instance) and name == "get" and args and obj.cls.hook("__getitem__") is not None:
            return self.mapping_get(obj, args[0], node, args[1] if len(args) > 1 else None)   # Mapping.get
        if isinstance(obj, V.Instance) and name == "add_weight":
            return keras_weight(args, kwargs)
        if isinstance(obj, V.Instance):
            if name == "build":
                # a subclassed keras.Model built for a shape (batch included): its call() runs on it
                shape = kwargs.get("input_shape", args[0] if args else None)
                if isinstance(shape, (list, tuple)) and shape and all(isinstance(d, int) or d is None for d in shape):
                    self.run.call_module(self, obj, [Tensor(keras_shape(shape[1:], self.run.solver, shape[0]))],
                                         {}, node)
                return None
            if name in ("items", "keys", "values"):
                # a subclass of a container reading its own modules (a _DenseBlock(nn.ModuleDict))
                return PList(getattr(obj.modules, name)())
            if name in ("append", "extend") and obj.cls.container_kind() != "torch.nn.ModuleDict":
                items = list(args[:1]) if name == "append" else (self.iterate(args[0]) if args else None) or []
                for item in items:
                    if V.is_module(item):
                        obj.modules[str(len(obj.modules))] = item
                return obj
            # nn.Module.register_buffer / add_module ...: an attribute by another name
            if len(args) >= 2 and isinstance(args[0], str):
                self.set_attr(obj, args[0], args[1], frame)
            return None
        if isinstance(obj, PSet):
            return self.call_set_method(obj, name, args, frame)
        if isinstance(obj, RegexMatch):
            if name == "groups" and not args:
                return obj.parts
            index = args[0] if args else 0
            if name == "group" and isinstance(index, int) and 0 <= index <= len(obj.parts):
                return obj.whole if index == 0 else obj.parts[index - 1]
            return UNKNOWN
        if isinstance(obj, PList):
            if name in ("appendleft", "popleft", "extendleft"):       # a collections.deque
                name = {"appendleft": "insert", "popleft": "pop", "extendleft": "extendleft"}[name]
                args = [0] + list(args) if name == "insert" else [0] if name == "pop" else args
                if name == "extendleft":
                    items = self.iterate(args[0]) if args else None
                    self.mutate(obj, frame)
                    if items is None:
                        obj.poisoned = True
                    else:
                        obj[:0] = list(reversed(items))
                    return None
            if name == "tolist" and not args and not kwargs and not obj.poisoned:
                return PList(obj)          # numpy.linspace(...).tolist(): the numbers it stands for
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
            return self.call_dict_method(obj, name, args, kwargs, frame)
        if isinstance(obj, str):
            if name in _STR_METHODS:
                if all(printable(a) for a in args) and (name == "format" and all(
                        printable(v) for v in kwargs.values()) or not kwargs):
                    try:
                        result = getattr(obj, name)(*args, **kwargs)
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

    def call_set_method(self, obj, name, args, frame):
        """The methods of the linted code's sets."""
        if obj.poisoned:
            return UNKNOWN
        if name in ("add", "discard", "remove", "update", "clear", "pop", "difference_update"):
            self.mutate(obj, frame)
            if obj.poisoned:
                return UNKNOWN
            items = self.iterate(args[0]) if args and name in ("update", "difference_update") else None
            try:
                if name == "add" and len(args) == 1 and set_item(args[0]):
                    obj.add(args[0])
                elif name in ("discard", "remove") and len(args) == 1 and set_item(args[0]):
                    obj.discard(args[0])
                elif name == "update" and items is not None and all(set_item(i) for i in items):
                    obj.update(items)
                elif name == "difference_update" and items is not None:
                    obj.difference_update(items)
                elif name == "clear":
                    obj.clear()
                else:
                    obj.poisoned = True
            except TypeError:
                obj.poisoned = True
            return None
        if name in ("union", "intersection", "difference", "issubset", "issuperset", "copy"):
            others = [self.iterate(a) for a in args]
            if any(o is None for o in others):
                return UNKNOWN
            try:
                result = getattr(set(obj), name)(*others)
            except TypeError:
                return UNKNOWN
            return PSet(result, born=frame.uncertain) if isinstance(result, set) else result
        return UNKNOWN

    def call_dict_method(self, obj, name, args, kwargs, frame):
        """dict methods on the linted code's dicts. Changed under a condition we cannot decide, a key becomes
        *maybe* there (its value unknown) rather than the whole dict unknown: a builder's
        `kwargs.setdefault("num_classes", n)` under an unknown `if` leaves the other arguments known."""
        if getattr(obj, "poisoned", False):
            return UNKNOWN
        maybe = getattr(obj, "maybe", set())
        key = args[0] if args else None
        plain_key = bool(args) and isinstance(key, (str, int))
        if name == "get":
            if not args or not isinstance(key, (str, int, float, tuple, type(None))) or key in maybe:
                return UNKNOWN
            try:
                return obj.get(key, args[1] if len(args) > 1 else None)
            except TypeError:
                return UNKNOWN
        if name in ("keys", "values", "items"):
            if maybe:
                return UNKNOWN
            return PList(obj.items()) if name == "items" else PList(getattr(obj, name)())
        if not isinstance(obj, PDict) or name not in ("update", "pop", "setdefault", "clear"):
            return UNKNOWN
        self.changed(obj)
        uncertain = frame.uncertain > obj.born
        if name == "pop" and plain_key:
            if key in maybe or (key not in obj and len(args) < 2):
                if not uncertain:
                    obj.pop(key, None)
                    maybe.discard(key)
                return UNKNOWN
            if key not in obj:
                return args[1]
            value = obj[key]
            if uncertain:
                maybe.add(key)
                obj[key] = UNKNOWN
            else:
                del obj[key]
            return value
        if name == "setdefault" and plain_key:
            default = args[1] if len(args) > 1 else None
            if key in maybe:
                if not uncertain:
                    maybe.discard(key)
                return UNKNOWN
            if key in obj:
                return obj[key]
            if uncertain:
                maybe.add(key)
                obj[key] = UNKNOWN
            else:
                obj[key] = default
            return default
        if name == "update":
            source = dict(args[0]) if args and isinstance(args[0], dict) else {} if not args else None
            if source is None or getattr(args[0], "poisoned", False) or getattr(args[0], "maybe", None):
                obj.poisoned = True
                return UNKNOWN
            source.update(kwargs)
            for k, v in source.items():
                if uncertain:
                    maybe.add(k)
                    obj[k] = UNKNOWN
                else:
                    maybe.discard(k)
                    obj[k] = v
            return None
        obj.poisoned = True
        return UNKNOWN

    def call_container_method(self, layer, name, args, frame):
        """ModuleList.append, Sequential.add_module, ...; any other call may change it, so it becomes opaque."""
        self.changed(layer)
        if frame.uncertain:
            layer.args["__opaque__"] = True
        children = layer.children
        if name == "add" and layer.kind == "keras.Sequential" and len(args) == 1 and isinstance(args[0], Tensor) \
                and not children:
            layer.args["__input__"] = args[0]          # model.add(keras.Input(shape=...))
            return None
        if name in ("append", "add") and len(args) == 1 and V.is_module(args[0]):
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
        if name in ("keys", "values", "items", "__len__"):
            if name != "__len__" and layer.kind == "torch.nn.ModuleDict" and not layer.args.get("__opaque__"):
                return PList(getattr(children, name)())
            return UNKNOWN
        if container_has(layer.kind, name, children) is False:
            return UNKNOWN        # no such method: Python raises there, the container is left as it is
        layer.args["__opaque__"] = True
        return UNKNOWN

    def copy_value(self, value, deep, frame):
        """copy.copy / copy.deepcopy of the linted code's own data (keras.applications copy their block
        arguments before changing them): a new list or dict, exact when the original is; a deep copy of a module is
        a module tree as building it again would make (`nn.ModuleList(copy.deepcopy(layer) for _ in range(n))`);
        anything else unknown."""
        if deep and V.is_module(value) and not isinstance(value, V.Either):
            return self.clone_module(value)

        def plain(v):
            if v is UNKNOWN:
                return UNKNOWN     # a copy of what is not known is not known either; the rest stays exact
            if isinstance(v, (PList, PDict)) and (v.poisoned or getattr(v, "maybe", None)):
                return None
            if isinstance(v, dict):
                out = PDict(born=frame.uncertain)
                for k, x in v.items():
                    x = plain(x) if deep else x
                    if x is None and v[k] is not None:
                        return None
                    out[k] = x
                return out
            if isinstance(v, (list, tuple)):
                items = [plain(x) if deep else x for x in v]
                if any(x is None and y is not None for x, y in zip(items, v)):
                    return None
                return PList(items, born=frame.uncertain) if isinstance(v, list) else tuple(items)
            if isinstance(v, D.Expr) or set_item(v):
                return v       # constants, and definitions (a class, a function): deepcopy returns them as they are
            if isinstance(v, V.Partial):
                keywords = plain(v.keywords) if deep else v.keywords
                bound = plain(v.args) if deep else v.args
                return None if keywords is None or bound is None else V.Partial(v.func, bound, keywords)
            if isinstance(v, V.Instance) and v.cls.record_fields() is not None and not v.modules:
                out = V.Instance(v.cls, call=v.call)        # a dataclass: its fields, copied
                for k, x in v.attrs.items():
                    y = plain(x) if deep else x
                    if y is None and x is not None:
                        return None
                    out.attrs[k] = y
                return out
            return None if deep else v
        copied = plain(value)
        return UNKNOWN if copied is None and value is not None else copied

    def linspace(self, args, kwargs):
        """numpy.linspace(start, stop, num) of plain numbers, as the numbers a schedule is read from
        (ConvNeXt's drop-path rates): a list of floats, computed as numpy does (`.tolist()` gives them again);
        anything else unknown."""
        given = {**dict(zip(("start", "stop", "num", "endpoint"), args)), **kwargs}
        start, stop = given.get("start"), given.get("stop")
        num, endpoint = given.get("num", 50), given.get("endpoint", True)
        if set(given) - {"start", "stop", "num", "endpoint"} or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in (start, stop)) or not (
                isinstance(num, int) and 0 <= num <= 4096) or endpoint not in (True, False):
            return UNKNOWN
        steps = num - 1 if endpoint else num
        step = (stop - start) / steps if steps > 0 else 0.0
        values = [start + i * step for i in range(num)]
        if endpoint and num > 1:
            values[-1] = stop
        return PList([float(v) for v in values])

    def call_math(self, name, args):
        if len(args) == 1 and isinstance(args[0], Ratio) and name in ("ceil", "floor"):
            ratio = args[0]
            return (D.ceildiv if name == "ceil" else D.floordiv)(ratio.num, ratio.den)
        if len(args) == 1 and isinstance(args[0], D.Expr) and name in ("ceil", "floor"):
            return args[0]          # a size is a whole number already: math.ceil(H / 1)
        if name in ("sqrt", "log", "log2", "pow", "exp") and args and all(
                a is NUMBER or isinstance(a, (int, float, D.Expr, Ratio)) and not isinstance(a, bool) for a in args
        ) and any(a is NUMBER or isinstance(a, (D.Expr, Ratio)) for a in args):
            return NUMBER      # math.sqrt(head_dim): a float, not known
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
        if name in _SCRIPT_BUILTINS:
            found = self.script_builtin(name, args, kwargs, node, frame)
            if found is not NotImplemented:
                return found
        if name == "range":
            if all(isinstance(a, int) and not isinstance(a, bool) for a in args) and 1 <= len(args) <= 3 and not kwargs:
                try:
                    return range(*args)
                except ValueError:
                    return UNKNOWN
            return UNKNOWN
        if name == "type" and len(args) == 1 and not kwargs:
            # the class of a value: a layer's torch class, an instance's class of the code (`type(m) is nn.ReLU`)
            value = args[0]
            if isinstance(value, V.Layer):
                return V.External(value.kind)
            if isinstance(value, V.Instance):
                return value.cls
            return UNKNOWN
        if name == "len":
            if not args:
                return UNKNOWN
            v = args[0]
            if isinstance(v, V.Layer) and v.kind in CONTAINERS:
                return UNKNOWN if v.args.get("__opaque__") else len(v.children)
            if isinstance(v, Tensor):
                return v.shape[0] if v.shape and v.shape[0] is not None else UNKNOWN
            if isinstance(v, (list, tuple, dict, str, range, set)) and concrete(v):
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
            if len(args) == 1 and (name == "float" and isinstance(args[0], D.Expr) or name in ("float", "abs") and
                                   args[0] is NUMBER):
                return NUMBER      # float(H), abs(a number not known)
            if name == "int" and len(args) == 1 and isinstance(args[0], Ratio):
                return D.floordiv(args[0].num, args[0].den)      # int() of a positive ratio floors it
            if name == "round" and len(args) == 2 and all(isinstance(a, (int, float)) for a in args):
                return round(*args)
            return UNKNOWN
        if name in ("set", "frozenset"):
            items = self.iterate(args[0]) if args else []
            if items is None or not all(set_item(i) for i in items):
                out = PSet(born=frame.uncertain)
                out.poisoned = True
                return out
            return PSet(items, born=frame.uncertain)
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
        if name == "sum" and (len(args) > 1 or "start" in kwargs):     # sum(iterable, start)
            items = self.iterate(args[0])
            start = args[1] if len(args) > 1 else kwargs["start"]
            if items is None:
                return UNKNOWN
            if isinstance(start, (list, tuple)) and not (isinstance(start, PList) and start.poisoned):
                if not all(isinstance(x, type(start) if isinstance(start, tuple) else list) for x in items) or any(
                        isinstance(x, PList) and x.poisoned for x in items):
                    return UNKNOWN
                joined = [y for x in [start, *items] for y in x]
                return PList(joined, born=frame.uncertain) if isinstance(start, list) else tuple(joined)
            args, kwargs = (PList([start, *items]),), {}
        if name in ("min", "max", "sum"):
            items = args if len(args) > 1 else (self.iterate(args[0]) if args else None)
            if name != "sum" and items and not kwargs and any(isinstance(a, D.Expr) for a in items) and all(
                    _is_dimlike(a) for a in items):
                return self.symbolic_extreme(name, list(items))
            if name != "sum" and items and not kwargs and any(a is NUMBER for a in items) and all(
                    a is NUMBER or isinstance(a, (int, float, D.Expr)) and not isinstance(a, bool) for a in items):
                return NUMBER      # max(k_h / q_h, 1.0): a number, not known
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
        if name in ("map", "filter") and len(args) >= 2 and not kwargs and (name == "map" or len(args) == 2):
            # map(f, xs, ...) and filter(None or f, xs) over lists we know: `nn.Sequential(*filter(None, [...]))`
            lists = [self.iterate(a) for a in args[1:]]
            if any(l is None for l in lists) or sum(len(l) for l in lists) > MAX_UNROLL:
                return UNKNOWN
            func = args[0]
            if name == "map":
                return PList(self.call(func, list(xs), {}, node, frame) for xs in zip(*lists))
            keys = lists[0] if func is None else [self.call(func, [x], {}, node, frame) for x in lists[0]]
            truths = [truth(k) for k in keys]
            if None in truths:
                return UNKNOWN
            return PList(x for x, t in zip(lists[0], truths) if t)
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
        if name in ("chr", "ord") and len(args) == 1 and not kwargs:
            try:
                return chr(args[0]) if name == "chr" else ord(args[0])
            except (TypeError, ValueError, OverflowError):
                return UNKNOWN
        if name == "divmod" and len(args) == 2 and all(isinstance(a, int) for a in args) and args[1]:
            return divmod(*args)
        if name == "isinstance":
            return self.builtin_isinstance(args)
        if name == "callable" and len(args) == 1 and not kwargs:
            value = args[0]
            if isinstance(value, V.Instance) and (value.cls.is_module_class() or
                                                  value.cls.lookup("__call__")[0] is not None):
                return True
            found = _abc_instance(value, "callable")
            return UNKNOWN if found is None else found
        if name == "issubclass":
            return self.builtin_issubclass(args)
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
                if self.has_attr(args[0], args[1]):
                    return True
                return False if self.surely_absent(args[0], args[1], node, frame) else UNKNOWN
            if len(args) == 2 and isinstance(args[0], V.PyModule) and isinstance(args[1], str):
                found = args[0].ctx.loader.attribute(args[0].ctx, args[1])
                return True if found is not None and not isinstance(found, V.External) else UNKNOWN
            if len(args) == 2 and isinstance(args[0], V.External) and isinstance(args[1], str):
                return True if known_torch_name(f"{args[0].name}.{args[1]}") else UNKNOWN
            if len(args) == 2 and isinstance(args[0], V.Layer) and isinstance(args[1], str):
                found = container_has(args[0].kind, args[1], args[0].children)
                return UNKNOWN if found is None else found
            return UNKNOWN
        if name == "dir" and len(args) == 1 and isinstance(args[0], V.External):
            return TorchNames(args[0].name)
        if name == "setattr":
            if len(args) == 3 and isinstance(args[1], str):
                self.set_attr(args[0], args[1], args[2], frame)
            elif args and isinstance(args[0], V.Instance):
                args[0].open = True         # an attribute of a name we do not know
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

    def symbolic_extreme(self, name, items):
        """min/max of sizes, some symbolic: the one that is never below (above) the others for every value of the
        symbols the model accepts (SAME padding's max(..., 0)); unknown when that cannot be shown."""
        lower = self.run.solver.lower
        best = items[0]
        for other in items[1:]:
            diff = D.sub(other, best) if name == "max" else D.sub(best, other)
            names = D.symbols(diff)
            bound = lower.get(next(iter(names)), 1) if len(names) == 1 else 1
            if D.never_negative(diff, bound):
                best = other
            elif not D.never_negative(D.neg(diff), bound):
                return UNKNOWN
        return best

    def enclosing_class(self, frame):
        func = frame.func
        return func.owner if isinstance(func, V.Function) else None

    def surely_absent(self, instance, name, node, frame):
        """Whether reading `instance.name` raises AttributeError: an instance of a plain class of the code (no
        library base, no __getattr__) whose every attribute we saw set, and whose lookup (its class's own
        __getattribute__ included) ended on a name it does not have."""
        if instance.open or name.startswith("__") or instance.cls.external_bases() or \
                instance.cls.hook("__getattr__") is not None:
            return False
        self.last_lookup = None
        value = self.get_attr(instance, name, node, frame)
        last = self.last_lookup
        return value is UNKNOWN and last is not None and last[0] is instance and not last[1]

    def has_attr(self, instance, name):
        return name in instance.attrs or name in instance.modules or instance.cls.lookup(name)[0] is not None

    def builtin_isinstance(self, args):
        if len(args) != 2:
            return UNKNOWN
        value, kinds = args
        kinds = kinds if isinstance(kinds, tuple) else (kinds,)
        return _any(is_instance(value, kind) for kind in kinds)

    def builtin_issubclass(self, args):
        if len(args) != 2:
            return UNKNOWN
        cls, kinds = args
        kinds = kinds if isinstance(kinds, tuple) else (kinds,)
        return _any(is_subclass(cls, kind) for kind in kinds)


# str methods that compute from the string and their arguments alone
_STR_METHODS = set("""lower upper strip lstrip rstrip startswith endswith replace split rsplit join format isdigit
isalpha isalnum isnumeric isdecimal isupper islower isspace isidentifier partition rpartition count find rfind index
rindex title capitalize casefold zfill splitlines center ljust rjust removeprefix removesuffix swapcase""".split())




def _any(answers):
    answers = list(answers)
    if True in answers:
        return True
    if all(a is False for a in answers):
        return False
    return UNKNOWN


_PY_TYPES = {"int": int, "float": float, "bool": bool, "str": str, "list": list, "tuple": tuple, "dict": dict}
_PLAIN = (int, float, str, list, tuple, dict, type(None))


def is_class(value):
    """True for a class (of the code, or a torch/Keras layer class the tables know), False for a value that is
    not one, None when unknown."""
    if isinstance(value, V.ClassValue):
        return True
    if isinstance(value, V.External):
        name = canonical(value.name)
        return True if name in LAYERS or name in CONTAINERS or name in KERAS_LAYERS else None
    if value is UNKNOWN:
        return None
    return False


def is_instance(value, kind):
    """isinstance(value, kind): True, False, or None when it cannot be decided."""
    if value is UNKNOWN:
        return None
    if isinstance(kind, Builtin):
        if kind.name == "type":
            return is_class(value)
        py = _PY_TYPES.get(kind.name)
        if py is None:
            return None
        if isinstance(value, D.Expr):
            return True if py is int else False if py in (str, list, tuple, dict) else None
        if isinstance(value, Tensor):
            # a tensor of known shape is a tensor; one of unknown shape may stand for what an op we do not know
            # returned (a tuple of tensors)
            return False if value.shape is not None else None
        if isinstance(value, (V.Layer, V.Instance, V.Function, V.Partial, V.ClassValue)) or is_class(value):
            return False
        if isinstance(value, _PLAIN):
            return isinstance(value, py) and not (py is int and isinstance(value, bool))
        return None
    if isinstance(kind, V.External):
        name = canonical(kind.name)
        abc = _ABCS.get(name.replace("typing.", "collections.abc."))
        if abc is not None:
            return _abc_instance(value, abc)
        if name in ("enum.EnumMeta", "enum.EnumType"):      # a class of enum members
            return True if isinstance(value, V.ClassValue) and value.is_enum() else False if isinstance(
                value, _PLAIN + (V.Function, V.Partial, V.Layer, V.Instance, Tensor, D.Expr)) or (
                isinstance(value, V.ClassValue)) else None
        if name == "functools.partial":
            return True if isinstance(value, V.Partial) else False if isinstance(value, (
                V.Function, V.ClassValue, V.Layer, V.Instance, Tensor) + _PLAIN) or is_class(value) else None
        if name == "types.FunctionType":
            return True if isinstance(value, V.Function) else False if isinstance(value, (
                V.Partial, V.ClassValue, V.Layer, V.Instance, Tensor) + _PLAIN) or is_class(value) else None
        if isinstance(value, Tensor):
            return True if name == "torch.Tensor" else None
        if isinstance(value, V.Layer):
            return layer_is_a(value.kind, name)
        if isinstance(value, V.Instance) and name == "torch.nn.Module" and value.cls.is_torch_module():
            return True
        if isinstance(value, _PLAIN + (V.Function, V.Partial, V.ClassValue, D.Expr)) and name.startswith("torch."):
            return False
        if is_class(value) and name.startswith("torch."):
            return False           # a layer class is not an instance of a torch class
        return None
    if isinstance(kind, V.ClassValue):
        if isinstance(value, V.Instance):
            return kind in value.cls.mro()
        if isinstance(value, _PLAIN + (D.Expr, V.Layer, Tensor, V.Function, V.Partial, V.ClassValue)) or \
                is_class(value):
            return False
        return None
    return None


_ABCS = {"collections.abc.Iterable": "iterable", "collections.abc.Sequence": "sequence",
         "collections.abc.Mapping": "mapping", "collections.abc.Callable": "callable",
         "numbers.Integral": "integral", "numbers.Real": "real", "numbers.Number": "number",
         "numbers.Complex": "number", "numbers.Rational": "integral", "collections.abc.Hashable": "hashable",
         "collections.abc.Collection": "collection", "collections.abc.Sized": "collection"}


def _abc_instance(value, abc):
    """isinstance(value, collections.abc.Iterable / Sequence / Mapping / Callable, numbers.Integral / Real /
    Number) for the values we know."""
    if abc in ("integral", "real", "number"):
        if isinstance(value, (int, D.Expr)):        # bool is an int, and Integral
            return True
        if isinstance(value, float):
            return abc != "integral"
        if isinstance(value, (str, list, tuple, dict, type(None), Tensor, V.Function, V.Partial, V.ClassValue,
                              V.Layer)) or is_class(value) or isinstance(value, V.Instance) and \
                value.cls.is_module_class():
            return False
        return None
    if abc in ("hashable", "collection"):
        if isinstance(value, (list, dict, set)):        # PList and PDict too
            return abc == "collection"
        if isinstance(value, (str, tuple, range, frozenset)):
            return True if abc == "collection" else all(_abc_instance(v, "hashable") for v in value) \
                if isinstance(value, tuple) else True
        if isinstance(value, (int, float, D.Expr, type(None))):
            return abc == "hashable"
        return None
    if isinstance(value, (PList, PDict)) and value.poisoned:
        return None if abc != "callable" else False
    if isinstance(value, (list, tuple, str, range)):
        return abc in ("iterable", "sequence")
    if isinstance(value, dict):
        return abc in ("iterable", "mapping")
    if isinstance(value, Tensor):
        return abc == "iterable"
    if isinstance(value, (V.Function, V.Partial, V.ClassValue, V.Layer)) or is_class(value):
        return abc == "callable" or (abc == "iterable" and isinstance(value, V.Layer) and value.kind in CONTAINERS)
    if isinstance(value, (int, float, bool, D.Expr, type(None))):
        return False
    if isinstance(value, V.Instance) and _plain_code_class(value.cls):
        # an instance of a class of the code built on `object` alone (a dataclass config): its protocols are the
        # methods it defines (a Sequence or Mapping only by deriving from one, or registering: not done here)
        defines = {name for name in ("__iter__", "__getitem__", "__call__", "__len__")
                   if value.cls.lookup(name)[0] is not None}
        if abc == "callable":
            return "__call__" in defines
        return None if defines & {"__iter__", "__getitem__", "__len__"} else False
    return None


def _plain_code_class(cls):
    """A class of the code whose bases, all the way up, are classes of the code or `object`."""
    return all(isinstance(b, V.ClassValue) or isinstance(b, Builtin) and b.name == "object" or
               isinstance(b, V.External) and b.name in ("object", "builtins.object")
               for c in cls.mro() for b in c.bases)


def is_subclass(cls, kind):
    """issubclass(cls, kind) for classes of the code and layer classes the tables know."""
    if isinstance(cls, V.ClassValue):
        if isinstance(kind, V.ClassValue):
            if kind in cls.mro():
                return True
            # a class of torch or Keras does not derive from a class of the code; another library's might
            return None if any(not canonical(b.name).startswith(("torch.", "keras.", "tensorflow."))
                               for b in cls.external_bases()) else False
        if isinstance(kind, V.External):
            name = canonical(kind.name)
            bases = {canonical(b.name) for b in cls.external_bases()}
            if name in bases or name == "torch.nn.Module" and cls.is_torch_module():
                return True
            if bases and all(b == "torch.nn.Module" or b in LAYERS or b in CONTAINERS for b in bases) and (
                    name in LAYERS or name in CONTAINERS):
                return False      # derived from nn.Module (or other layers) only: not an nn.AvgPool2d
            return None
        return None
    if is_class(cls) and isinstance(cls, V.External):
        own = canonical(cls.name)
        if isinstance(kind, V.External):
            name = canonical(kind.name)
            if name == own or name == "torch.nn.Module" and own.startswith("torch.nn."):
                return True
            return None
        if isinstance(kind, V.ClassValue):
            return False          # a torch layer class does not derive from a class of the code
    return None


def _children(module):
    """[(name, child)] of a module as torch's named_children() gives them (registration order), or None."""
    if isinstance(module, V.Instance) and module.cls.is_torch_module():
        return list(module.modules.items())
    if isinstance(module, V.Layer) and module.kind in CONTAINERS and not module.args.get("__opaque__"):
        return list(module.children.items())
    return None


def _set_training(module, mode, depth=0):
    """model.train(mode) / model.eval(): `self.training` of the module and of every module inside it."""
    module.attrs["training"] = mode
    for child in module.modules.values():
        if isinstance(child, V.Instance) and child.cls.is_torch_module() and depth < 64:
            _set_training(child, mode, depth + 1)


def module_method(module, name):
    """"self" or "value" for a method of a torch module or Keras model that leaves its layers as they are (what the
    call returns: the module itself, or something that is not a layer of it); None for any other name."""
    if V.is_keras(module) or isinstance(module, V.Layer) and module.kind in ("keras.Sequential", "keras.Model"):
        return "value" if name in KERAS_MODEL_METHODS else None
    if V.is_module(module):
        return MODULE_METHODS.get(name)
    return None


def keras_weight(args, kwargs):
    """A Keras layer's self.add_weight(shape=..., ...): a parameter tensor of that shape (a scalar without one),
    which the layer's parameter count includes whether trainable or not."""
    shape = kwargs.get("shape", args[0] if args else None)
    if shape is None:
        return Tensor((), param=True)
    if isinstance(shape, int) and not isinstance(shape, bool):
        shape = (shape,)
    if isinstance(shape, (list, tuple)) and not getattr(shape, "poisoned", False) and all(
            _is_dimlike(d) for d in shape):
        return Tensor(tuple(shape), param=True)
    return Tensor(None, param=True)


"""What a training script computes around its model, as values the interpreter knows: command-line arguments
(argparse, with the defaults the script sees when run without arguments), config objects (SimpleNamespace,
argparse.Namespace, json/yaml files of the project, read as data and never executed), numpy arrays of known
shape, datasets and the batches a DataLoader gives. A mixin of cnnlint.extract.evaluator.Interpreter.

Everything here is exact or unknown: an argument without a default, a required one, a file that cannot be read or
parsed, an array built from data we do not have, a DataLoader's batch size when the last batch may be smaller
(a symbol then) are never guessed.
"""

from __future__ import annotations

import json
import os

import libcst as cst

from .. import values as V
from ..shapes import dims as D
from ..shapes import functions as FN
from ..shapes.datasets import IMAGE_DATASETS
from ..values import UNKNOWN, Tensor
from .domain import Builtin, BuiltinMethod, PDict, PList, _is_dimlike
from .imports import canonical

MAX_DATA_BYTES = 1_000_000       # a config file larger than this is not read


class ScriptValue:
    """A value of a script's own machinery (a parser, a namespace, an array, a loader)."""

    __slots__ = ("epoch", "born")

    def __init__(self, born=0):
        self.epoch = next(V.CLOCK)
        self.born = born

    def poison(self):
        """Handed to code we do not read: what it holds may have changed."""


class ArgParser(ScriptValue):
    """argparse.ArgumentParser: the arguments added so far, with the value each has when none is given."""

    __slots__ = ("actions", "defaults", "prefix", "opaque")

    def __init__(self, prefix="-", born=0):
        super().__init__(born)
        self.actions = {}          # dest -> (options, positional) of its first argument; None when not known
        self.defaults = {}         # set_defaults(...): for the dests no argument sets
        self.prefix = prefix
        self.opaque = False        # changed in a way we do not follow: no value is known

    def poison(self):
        self.opaque = True

    def namespace(self):
        attrs = PDict()
        if self.opaque:
            attrs.poisoned = True
            return Namespace(attrs)
        for dest, action in self.actions.items():
            attrs[dest] = UNKNOWN if action is None else _argparse_value(*action)
        for dest, value in self.defaults.items():
            attrs.setdefault(dest, value)
        return Namespace(attrs)


class ArgGroup(ScriptValue):
    """An argument group (or mutually exclusive group) of a parser: its arguments are the parser's."""

    __slots__ = ("parser",)

    def __init__(self, parser):
        super().__init__(parser.born)
        self.parser = parser

    def poison(self):
        self.parser.poison()


class Namespace(ScriptValue):
    """argparse.Namespace / types.SimpleNamespace: attributes in a dict (`vars(ns)` is that dict, as in Python).
    With `items`, a dict read by attribute too (OmegaConf's DictConfig, EasyDict, addict, Munch, ConfigDict)."""

    __slots__ = ("attrs", "items")

    def __init__(self, attrs, born=0, items=False):
        super().__init__(born)
        self.attrs = attrs
        self.items = items

    def poison(self):
        self.attrs.poisoned = True


class OpenFile(ScriptValue):
    """open(path) of a file of the project, for json.load / yaml.safe_load / .read() (None: not readable)."""

    __slots__ = ("text",)

    def __init__(self, text):
        super().__init__()
        self.text = text


class FilePath(ScriptValue):
    """A pathlib.Path: `/` joins, `.parent`, `.read_text()`, `open()` read it as open(str(path)) does."""

    __slots__ = ("path",)

    def __init__(self, path):
        super().__init__()
        self.path = path

    def __truediv__(self, other):
        if isinstance(other, FilePath):
            other = other.path
        return FilePath(os.path.join(self.path, other)) if isinstance(other, str) else UNKNOWN


class Logger(ScriptValue):
    """logging.getLogger(...): what its methods are given is printed, never changed."""

    __slots__ = ()


class NDArray(ScriptValue):
    """A numpy array: its shape (dims may be None) or None, and "long" / "float" / None for its dtype; for a short
    1-D array of written numbers (`np.atleast_1d(kernel_size)`), its `values`, which arithmetic, comparisons,
    `np.any`/`np.all`, iteration and `tolist()` then follow as numpy does."""

    __slots__ = ("shape", "dtype", "values")

    def __init__(self, shape, dtype="float", values=None):
        super().__init__()
        self.shape = shape
        self.dtype = dtype
        self.values = values

    @classmethod
    def of(cls, values):
        """The 1-D array of these numbers, or None when one is not a number (or there are too many)."""
        values = tuple(values)
        if len(values) > 64 or not all(isinstance(v, (int, float)) for v in values):
            return None
        kind = "bool" if all(isinstance(v, bool) for v in values) else (
            "long" if all(isinstance(v, int) for v in values) else "float")
        return cls((len(values),), kind, values)

    def elementwise(self, fn, other):
        """fn applied element by element with `other` (a number or an array of values, broadcast as numpy
        does); None when that is not known."""
        mine = self.values
        if mine is None:
            return None
        theirs = other.values if isinstance(other, NDArray) else (other,) * len(mine) if isinstance(
            other, (int, float)) else None
        if theirs is None:
            return None
        if len(mine) == 1 and len(theirs) > 1:
            mine = mine * len(theirs)
        if len(theirs) == 1 and len(mine) > 1:
            theirs = theirs * len(mine)
        if len(mine) != len(theirs):
            return None
        try:
            return NDArray.of(fn(a, b) for a, b in zip(mine, theirs))
        except (ArithmeticError, TypeError, ValueError):
            return None

    def __bool__(self):
        raise TypeError("the truth of an array is ambiguous")


class Generator(ScriptValue):
    """numpy.random.default_rng(...): its methods make arrays as numpy.random's functions do."""

    __slots__ = ()


class Dataset(ScriptValue):
    """A map-style dataset: one sample (a tensor, a tuple of them, ...; UNKNOWN when not known) and its length."""

    __slots__ = ("sample", "length")

    def __init__(self, sample, length=None):
        super().__init__()
        self.sample = sample
        self.length = length


class Batches(ScriptValue):
    """An iterable of unknown length whose every item is `item`: a DataLoader's batches, enumerate() of them."""

    __slots__ = ("item", "dataset")

    def __init__(self, item, dataset=None):
        super().__init__()
        self.item = item
        self.dataset = dataset


class Transform(ScriptValue):
    """A torchvision transform: what it does to an image's (C, H, W) and whether it makes a tensor of it."""

    __slots__ = ("steps",)

    def __init__(self, steps):
        super().__init__()
        self.steps = steps           # [(kind, argument)], applied in order; None: a transform we do not know


# -- numpy ----------------------------------------------------------------------------------------------------------
_NP_SIZE_FIRST = {"numpy.zeros", "numpy.ones", "numpy.empty", "numpy.full"}
_NP_RANDOM_SIZE = {"numpy.random.random": 0, "numpy.random.random_sample": 0, "numpy.random.sample": 0,
                   "numpy.random.ranf": 0, "numpy.random.uniform": 2, "numpy.random.normal": 2,
                   "numpy.random.standard_normal": 0, "numpy.random.randint": 2, "numpy.random.choice": 1,
                   "numpy.random.binomial": 2, "numpy.random.poisson": 1, "numpy.random.exponential": 1}
_NP_RANDOM_DIMS = {"numpy.random.rand", "numpy.random.randn"}
_NP_LIKE = {"numpy.zeros_like", "numpy.ones_like", "numpy.empty_like", "numpy.full_like"}
_RNG_SIZE = {"random": 0, "standard_normal": 0, "normal": 2, "uniform": 2, "integers": 2, "choice": 1,
             "binomial": 2, "poisson": 1, "exponential": 1}
_TO_TENSOR = {"torch.from_numpy", "torch.tensor", "torch.as_tensor", "torch.Tensor", "torch.FloatTensor",
              "torch.LongTensor", "torch.DoubleTensor", "torch.asarray"}
# os.path's string functions (realpath read as abspath: nothing on disk decides a path here)
_OS_PATH = {"os.path.join": os.path.join, "os.path.dirname": os.path.dirname, "os.path.basename": os.path.basename,
            "os.path.abspath": os.path.abspath, "os.path.realpath": os.path.abspath,
            "os.path.normpath": os.path.normpath, "os.fspath": str}
# dicts read by attribute, built from a dict (their nested dicts too)
_ATTRIBUTE_DICTS = {"easydict.EasyDict", "addict.Dict", "addict.addict.Dict", "munch.Munch", "munch.munchify",
                    "munch.DefaultMunch", "ml_collections.ConfigDict", "ml_collections.config_dict.ConfigDict",
                    "omegaconf.OmegaConf.create", "omegaconf.DictConfig"}
_DICT_METHODS = {"get", "keys", "values", "items", "pop", "update", "setdefault"}
# functions that print or serialise what they are given and change none of it (a script's `json.dump(vars(args),
# f)` or `logging.info(args)` leaves its configuration as it was)
_READ_ONLY = {"json.dump", "json.dumps", "yaml.dump", "yaml.safe_dump", "pprint.pprint", "pprint.pformat",
              "warnings.warn", "omegaconf.OmegaConf.to_yaml", "omegaconf.OmegaConf.to_container",
              "omegaconf.OmegaConf.merge", "omegaconf.OmegaConf.save"}
# Keras model methods that run the model on their first argument (x=)
_FEEDING = {"fit", "predict", "evaluate", "train_on_batch", "test_on_batch", "predict_on_batch"}

# transforms that keep an image's size (or a tensor's shape)
_KEEP = set("""Normalize RandomHorizontalFlip RandomVerticalFlip ColorJitter RandomRotation RandomAffine GaussianBlur
RandomErasing RandomApply RandomGrayscale RandomPerspective RandomAutocontrast RandomEqualize RandomInvert
RandomPosterize RandomSolarize RandomAdjustSharpness AutoAugment RandAugment TrivialAugmentWide AugMix
ConvertImageDtype ToDtype""".split())
_CROPS = {"CenterCrop", "RandomCrop", "RandomResizedCrop"}


def _dtype_kind(value):
    """"long" / "float" for a numpy or torch dtype as the code names it, None when not known."""
    if isinstance(value, Builtin):
        value = value.name
    elif isinstance(value, V.External):
        value = canonical(value.name)
    return FN.dtype_kind(value)


def _size(value):
    """A shape argument (an int or a tuple of them) as a tuple of dims, or None."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return (value,)
    if isinstance(value, D.Expr):
        return (value,)
    if isinstance(value, (tuple, list)) and not getattr(value, "poisoned", False) and all(
            (_is_dimlike(d) and not isinstance(d, bool) and (not isinstance(d, int) or d >= 0)) for d in value):
        return tuple(value)
    return None


def _literal_shape(value, depth=0):
    """The shape of nested lists of numbers (np.array([[1, 2], [3, 4]])), or None."""
    if isinstance(value, (int, float)) and depth:
        return ()
    if isinstance(value, (list, tuple)) and not getattr(value, "poisoned", False) and depth < 8:
        if not value:
            return (0,)
        inner = {_literal_shape(x, depth + 1) for x in value}
        if len(inner) != 1 or None in inner:
            return None
        return (len(value),) + inner.pop()
    return None


def _reshaped(shape, target):
    """numpy's reshape of a known shape to `target` (one -1 allowed), or None."""
    if shape is None or target is None or any(not isinstance(d, int) for d in shape):
        return None
    total = 1
    for d in shape:
        total *= d
    if any(not isinstance(d, int) for d in target) or sum(1 for d in target if d == -1) > 1:
        return None
    known = 1
    for d in target:
        if d != -1:
            known *= d
    if -1 in target:
        if known == 0 or total % known:
            return None
        return tuple(total // known if d == -1 else d for d in target)
    return tuple(target) if known == total else None


def _collate(sample, batch):
    """What torch's default_collate makes of `batch` samples like this one: each tensor stacked on a new first
    axis, numbers as a tensor of `batch`, tuples and dicts item by item; UNKNOWN for anything else."""
    if isinstance(sample, Tensor):
        return Tensor(None if sample.shape is None else (batch,) + tuple(sample.shape), dtype=sample.dtype)
    if isinstance(sample, NDArray):
        return Tensor(None if sample.shape is None else (batch,) + tuple(sample.shape), dtype=sample.dtype)
    if isinstance(sample, bool):
        return Tensor((batch,), dtype=None)
    if isinstance(sample, int):
        return Tensor((batch,), dtype="long")
    if isinstance(sample, float):
        return Tensor((batch,), dtype="float")
    if isinstance(sample, tuple):
        return tuple(_collate(s, batch) for s in sample)
    if isinstance(sample, dict) and not getattr(sample, "poisoned", False) and not getattr(sample, "maybe", None):
        return PDict({k: _collate(v, batch) for k, v in sample.items()})
    return UNKNOWN


def _as_data(value, born, attributes=False):
    """json / yaml data as the linted code's own values; `attributes`: its dicts read by attribute too, and a
    string that interpolates another value (OmegaConf's `${model.width}`) unknown."""
    if isinstance(value, dict):
        out = PDict(born=born)
        for k, v in value.items():
            out[k] = _as_data(v, born, attributes)
        return Namespace(out, born, items=True) if attributes else out
    if isinstance(value, list):
        return PList([_as_data(v, born, attributes) for v in value], born=born)
    if isinstance(value, str) and attributes and "${" in value:
        return UNKNOWN
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return UNKNOWN


def _attribute_dict(value, born, depth=0):
    """A dict of the code (its nested dicts too) as a dict read by attribute: EasyDict(d), OmegaConf.create(d)."""
    if isinstance(value, Namespace) and value.items:
        value = value.attrs
    if isinstance(value, dict):
        if getattr(value, "poisoned", False) or getattr(value, "maybe", None) or depth > 16:
            return UNKNOWN
        out = PDict(born=born)
        for k, v in value.items():
            out[k] = _attribute_dict(v, born, depth + 1)
            if out[k] is UNKNOWN and v is not UNKNOWN:
                return UNKNOWN
        return Namespace(out, born, items=True)
    if isinstance(value, list) and not getattr(value, "poisoned", False):
        items = [_attribute_dict(v, born, depth + 1) for v in value]
        return UNKNOWN if any(i is UNKNOWN and v is not UNKNOWN for i, v in zip(items, value)) else PList(items)
    return value


def _argparse_dest(flags, kwargs, prefix):
    """The attribute an argument sets, as argparse derives it; (dest, positional) or (None, _)."""
    if not flags or not all(isinstance(f, str) and f for f in flags):
        return None, False
    positional = flags[0][0] not in prefix
    dest = kwargs.get("dest")
    if dest is not None:
        return (dest if isinstance(dest, str) else None), positional
    if positional:
        return flags[0], True
    long = [f for f in flags if len(f) > 1 and f[1] in prefix]
    return (long or flags)[0].lstrip(prefix).replace("-", "_"), False


def _argparse_value(kwargs, positional):
    """The value an argument has when the script is run without any: its default (converted by its `type` when a
    string, as argparse does); UNKNOWN when it is required, has no default, or is not understood."""
    action = kwargs.get("action", "store")
    if not isinstance(action, str) or kwargs.get("required") not in (None, False):
        return UNKNOWN
    nargs = kwargs.get("nargs")
    if positional and nargs not in ("?", "*"):
        return UNKNOWN                               # a positional argument is required
    if action == "store_true":
        return kwargs.get("default", False)
    if action == "store_false":
        return kwargs.get("default", True)
    if "default" not in kwargs:
        if action in ("store_const", "append", "append_const", "count", "extend"):
            return None
        return [] if positional and nargs == "*" else UNKNOWN
    default = kwargs["default"]
    if default == "==SUPPRESS==":
        return UNKNOWN
    kind = kwargs.get("type")
    if isinstance(default, str) and action == "store" and kind is not None:
        if not isinstance(kind, Builtin) or kind.name not in ("int", "float", "str", "bool"):
            return UNKNOWN
        try:
            return {"int": int, "float": float, "str": str, "bool": bool}[kind.name](default)
        except ValueError:
            return UNKNOWN
    return default


def _transform_steps(value):
    """A transform (or a list of them, for Compose) as steps, or None when one is not understood."""
    if isinstance(value, Transform):
        return value.steps
    return None


def _apply_transform(image, steps):
    """(C, H, W) of a PIL image through the steps: (value, is_tensor), dims None where not known."""
    c, h, w = image
    tensor = False
    for kind, arg in steps:
        if kind == "ToTensor":
            tensor = True
        elif kind in ("Resize", *_CROPS):
            if isinstance(arg, int) and not isinstance(arg, bool):
                if kind == "Resize":
                    # the shorter side becomes arg: both sides when the image is square
                    h, w = (arg, arg) if h is not None and h == w else (None, None)
                else:
                    h, w = arg, arg
            elif isinstance(arg, (tuple, list)) and len(arg) == 2 and all(
                    isinstance(a, int) and not isinstance(a, bool) for a in arg):
                h, w = arg
            elif isinstance(arg, (tuple, list)) and len(arg) == 1 and isinstance(arg[0], int) and kind in _CROPS:
                h, w = arg[0], arg[0]
            else:
                return None
        elif kind == "Grayscale":
            c = arg
        elif kind not in _KEEP:
            return None
    return (c, h, w), tensor


class ScriptsMixin:
    # -- calls of names ---------------------------------------------------------------------------------------------
    def call_script(self, name, args, kwargs, node, frame):
        """A call of an imported name this module models; NotImplemented for any other."""
        if name == "argparse.ArgumentParser":
            prefix = kwargs.get("prefix_chars", "-")
            parser = ArgParser(prefix if isinstance(prefix, str) and prefix else "-", born=frame.uncertain)
            if kwargs.get("argument_default") is not None or kwargs.get("parents") or kwargs.get(
                    "fromfile_prefix_chars"):
                parser.opaque = True
            return parser
        if name in ("argparse.Namespace", "types.SimpleNamespace"):
            if args:
                return UNKNOWN
            attrs = PDict(born=frame.uncertain)
            attrs.update(kwargs)
            return Namespace(attrs, born=frame.uncertain)
        if name in ("json.load", "json.loads", "yaml.safe_load", "yaml.load", "yaml.full_load", "yaml.unsafe_load",
                    "omegaconf.OmegaConf.load"):
            return self.load_data(name, args, frame)
        if name in _ATTRIBUTE_DICTS:
            if name == "omegaconf.OmegaConf.create" and len(args) == 1 and isinstance(args[0], str):
                return self.load_data("omegaconf.OmegaConf.load", args, frame)
            if len(args) > 1 or args and kwargs:
                return UNKNOWN
            source = args[0] if args else PDict(kwargs)
            return _attribute_dict(source, frame.uncertain) if isinstance(source, (dict, Namespace)) else UNKNOWN
        if name in _READ_ONLY or name.startswith("logging."):
            return Logger() if name == "logging.getLogger" else UNKNOWN
        if name == "numpy.random.default_rng":
            return Generator()
        if name.startswith("numpy."):
            return self.call_numpy(name, args, kwargs)
        if name in _TO_TENSOR and args and isinstance(args[0], NDArray):
            array = args[0]
            dtype = "long" if name == "torch.LongTensor" else "float" if name in (
                "torch.FloatTensor", "torch.DoubleTensor") else array.dtype
            if "dtype" in kwargs:
                dtype = _dtype_kind(kwargs["dtype"])
            return Tensor(array.shape, dtype=dtype)
        if name in ("keras.utils.to_categorical", "keras.utils.np_utils.to_categorical"):
            given = args[0] if args else kwargs.get("y")
            classes = args[1] if len(args) > 1 else kwargs.get("num_classes")
            if isinstance(given, NDArray) and given.shape is not None and len(given.shape) == 1 and isinstance(
                    classes, int) and not isinstance(classes, bool):
                return NDArray((given.shape[0], classes), "float")
            return UNKNOWN
        if name.startswith("torch.utils.data."):
            return self.call_data(name.rsplit(".", 1)[-1], args, kwargs)
        if name.startswith("torchvision.datasets.") or name.startswith("torchvision.transforms."):
            return self.call_vision(name, args, kwargs)
        if name in _OS_PATH and args and not kwargs and all(isinstance(a, str) for a in args):
            try:
                return _OS_PATH[name](*args)
            except (TypeError, ValueError):
                return UNKNOWN
        if name in ("pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath") and not kwargs and all(
                isinstance(a, (str, FilePath)) for a in args):
            return FilePath(os.path.join(*[a.path if isinstance(a, FilePath) else a for a in args]) if args else ".")
        if name in ("tqdm.tqdm", "tqdm.auto.tqdm", "tqdm.notebook.tqdm", "tqdm.std.tqdm", "tqdm.rich.tqdm"):
            return args[0] if len(args) == 1 and isinstance(args[0], Batches) else UNKNOWN
        return NotImplemented

    def script_builtin(self, name, args, kwargs, node, frame):
        """Builtins on these values (open, vars, iter, next, len, enumerate); NotImplemented for the rest."""
        if name == "open":
            return self.open_file(args, kwargs)
        first = args[0] if args else None
        if name == "str" and isinstance(first, FilePath) and len(args) == 1:
            return first.path
        if not isinstance(first, ScriptValue):
            return NotImplemented
        if name == "vars" and isinstance(first, Namespace):
            return first.attrs
        if name == "iter" and isinstance(first, (Batches, Dataset)):
            return first if isinstance(first, Batches) else Batches(first.sample, first)
        if name == "next" and isinstance(first, Batches):
            return first.item
        if name == "enumerate" and isinstance(first, Batches) and len(args) == 1:
            return Batches((UNKNOWN, first.item))
        if name == "len":
            if isinstance(first, NDArray):
                return first.shape[0] if first.shape and first.shape[0] is not None else UNKNOWN
            if isinstance(first, Dataset) and first.length is not None:
                return first.length
        return UNKNOWN if name in ("vars", "iter", "next", "enumerate", "len") else NotImplemented

    # -- files --------------------------------------------------------------------------------------------------------
    def module_file(self):
        """__file__: the path of the module whose code runs."""
        return os.path.abspath(self.file.path) if self.file.path else UNKNOWN

    def open_file(self, args, kwargs):
        """open(path) of a file of the project, for reading: its text is read (never run) when it is small."""
        path = args[0] if args else kwargs.get("file")
        if isinstance(path, FilePath):
            path = path.path
        mode = args[1] if len(args) > 1 else kwargs.get("mode", "r")
        if not isinstance(path, str) or not isinstance(mode, str) or set(mode) - set("rtb"):
            return UNKNOWN
        return OpenFile(self.read_data_file(path))

    def read_data_file(self, path):
        """The text of a data file of the project: a relative path beside the module that reads it, else in the
        working directory; an absolute one (`os.path.join(os.path.dirname(__file__), ...)`) as it is. Only a file
        below one of those two folders is read, and it is recorded among what the lint read (an edit re-checks).
        None when it cannot be read."""
        if not path:
            return None
        here = os.path.dirname(os.path.abspath(self.file.path)) if self.file.path else None
        bases = ([here] if here else []) + [os.getcwd()]
        for base in bases if not os.path.isabs(path) else [""]:
            full = os.path.normpath(os.path.join(base, path))
            if not any(full.startswith(os.path.join(b, "")) for b in bases):
                continue
            try:
                if not os.path.isfile(full) or os.path.getsize(full) > MAX_DATA_BYTES:
                    continue
                with open(full, "rb") as handle:
                    data = handle.read()
            except OSError:
                continue
            loader = self.run.file.loader
            if loader is not None:
                from ..modules.loader import digest
                loader.deps[full] = digest(data)
            try:
                return data.decode("utf-8")
            except UnicodeDecodeError:
                return None
        return None

    def load_data(self, name, args, frame):
        source = args[0] if args else None
        if isinstance(source, OpenFile) and name != "json.loads":
            text = source.text
        elif name == "omegaconf.OmegaConf.load" and isinstance(source, (str, FilePath)):
            text = self.read_data_file(source.path if isinstance(source, FilePath) else source)   # a path
        elif isinstance(source, str):
            text = source
        else:
            return UNKNOWN
        if text is None:
            return UNKNOWN
        try:
            if name.startswith("json."):
                data = json.loads(text)
            else:
                import yaml     # read as plain data only (safe_load builds no objects, runs nothing)
                data = yaml.safe_load(text)
        except Exception:
            return UNKNOWN
        return _as_data(data, frame.uncertain, attributes=name.startswith("omegaconf."))

    # -- numpy --------------------------------------------------------------------------------------------------------
    def call_numpy(self, name, args, kwargs):
        if name in _NP_SIZE_FIRST:
            shape = _size(args[0] if args else kwargs.get("shape"))
            dtype = kwargs.get("dtype", args[2] if name == "numpy.full" and len(args) > 2 else
                               args[1] if name != "numpy.full" and len(args) > 1 else None)
            kind = "float" if dtype is None else _dtype_kind(dtype)
            return NDArray(shape, kind) if shape is not None else UNKNOWN
        if name in _NP_RANDOM_DIMS:
            if kwargs or not all(isinstance(a, int) and not isinstance(a, bool) for a in args):
                return UNKNOWN
            return NDArray(tuple(args), "float")
        if name in _NP_RANDOM_SIZE:
            return self.random_array(name.rsplit(".", 1)[-1], _NP_RANDOM_SIZE[name], args, kwargs)
        if name in _NP_LIKE and args and isinstance(args[0], NDArray):
            return NDArray(args[0].shape, _dtype_kind(kwargs["dtype"]) if "dtype" in kwargs else args[0].dtype)
        if name == "numpy.atleast_1d" and len(args) == 1 and not kwargs:
            value = args[0]
            found = value if isinstance(value, NDArray) else NDArray.of(
                value if isinstance(value, (list, tuple)) else (value,))
            return found if found is not None else UNKNOWN
        if name in ("numpy.any", "numpy.all") and len(args) == 1 and not kwargs:
            values = args[0].values if isinstance(args[0], NDArray) else None
            return UNKNOWN if values is None else (any(values) if name == "numpy.any" else all(values))
        if name in ("numpy.array", "numpy.asarray") and len(args) == 1 and not kwargs and isinstance(
                args[0], (list, tuple)) and NDArray.of(args[0]) is not None:
            return NDArray.of(args[0])
        if name in ("numpy.array", "numpy.asarray", "numpy.ascontiguousarray", "numpy.copy") and args:
            if isinstance(args[0], NDArray):
                return NDArray(args[0].shape, _dtype_kind(kwargs["dtype"]) if "dtype" in kwargs else args[0].dtype)
            shape = _literal_shape(args[0])
            return UNKNOWN if shape is None else NDArray(shape, None)
        if name == "numpy.arange" and args and all(isinstance(a, int) and not isinstance(a, bool) for a in args) \
                and len(args) <= 3 and not kwargs:
            try:
                return NDArray((len(range(*args)),), "long")
            except ValueError:
                return UNKNOWN
        if name == "numpy.reshape" and len(args) == 2 and isinstance(args[0], NDArray):
            return self.array_method(args[0], "reshape", args[1:], {})
        if name == "numpy.expand_dims" and len(args) == 2 and isinstance(args[0], NDArray):
            return self.array_method(args[0], "expand_dims", args[1:], {})
        return UNKNOWN

    def random_array(self, method, size_index, args, kwargs):
        """numpy.random.random(size), uniform(low, high, size), randint(low, high, size), ...; `size` given."""
        size = kwargs.get("size", args[size_index] if len(args) > size_index else None)
        if size is None:
            return UNKNOWN          # a scalar
        shape = _size(size)
        kind = "long" if method in ("randint", "integers", "binomial", "poisson") else "float"
        if "dtype" in kwargs:
            kind = _dtype_kind(kwargs["dtype"])
        if method == "choice":
            kind = None
        return UNKNOWN if shape is None else NDArray(shape, kind)

    def array_attr(self, array, name):
        if name == "shape":
            return UNKNOWN if array.shape is None else tuple(UNKNOWN if d is None else d for d in array.shape)
        if name == "ndim":
            return UNKNOWN if array.shape is None else len(array.shape)
        if name == "T":
            return NDArray(None if array.shape is None else tuple(reversed(array.shape)), array.dtype)
        if name in ("dtype", "size", "nbytes", "itemsize", "flags", "strides"):
            return UNKNOWN
        return BuiltinMethod(array, name)

    def array_method(self, array, name, args, kwargs):
        shape = array.shape
        if name == "tolist" and not args and array.values is not None:
            return PList(array.values)
        if name == "astype":
            dtype = args[0] if args else kwargs.get("dtype")
            return NDArray(shape, _dtype_kind(dtype))
        if name in ("copy", "view") and not args:
            return NDArray(shape, array.dtype)
        if name == "reshape":
            target = args[0] if len(args) == 1 else tuple(args)
            if isinstance(target, int):
                target = (target,)
            out = _reshaped(shape, _size(target) if not isinstance(target, (tuple, list)) or -1 not in target
                            else tuple(target))
            return NDArray(out, array.dtype) if out is not None else UNKNOWN
        if name in ("flatten", "ravel") and not args:
            if shape is None or any(not isinstance(d, int) for d in shape):
                return NDArray((None,), array.dtype)
            total = 1
            for d in shape:
                total *= d
            return NDArray((total,), array.dtype)
        if name == "expand_dims" and len(args) == 1 and isinstance(args[0], int) and shape is not None:
            axis = args[0] if args[0] >= 0 else len(shape) + 1 + args[0]
            if 0 <= axis <= len(shape):
                return NDArray(shape[:axis] + (1,) + shape[axis:], array.dtype)
        if name == "transpose" and not args:
            return NDArray(None if shape is None else tuple(reversed(shape)), array.dtype)
        return UNKNOWN

    def array_index(self, array, node, frame):
        """array[...] with ints and plain slices; anything else (a mask, an index array) leaves an unknown
        shape."""
        shape = array.shape
        if shape is None:
            return NDArray(None, array.dtype)
        if array.values is not None and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
            index = self.eval(node.slice[0].slice.value, frame)
            if isinstance(index, int) and not isinstance(index, bool) and -len(array.values) <= index < len(
                    array.values):
                return array.values[index]          # an element of an array of written numbers
        out, axis = [], 0
        for element in node.slice:
            part = element.slice
            if axis >= len(shape):
                return UNKNOWN
            if isinstance(part, cst.Index):
                value = self.eval(part.value, frame)
                if isinstance(value, int) and not isinstance(value, bool):
                    axis += 1
                    continue
                return NDArray(None, array.dtype)
            bounds = [self.eval(p, frame) if p is not None else None for p in (part.lower, part.upper, part.step)]
            if not all(b is None or isinstance(b, int) and not isinstance(b, bool) for b in bounds):
                return NDArray(None, array.dtype)
            size = shape[axis]
            if bounds == [None, None, None]:
                out.append(size)
            elif isinstance(size, int):
                try:
                    out.append(len(range(*slice(*bounds).indices(size))))
                except ValueError:
                    return UNKNOWN
            else:
                out.append(None)
            axis += 1
        out.extend(shape[axis:])
        return NDArray(tuple(out), array.dtype)

    def as_tensor(self, value):
        """An array (or a list of them) as the tensor a Keras model is fed; None when it is not one."""
        if isinstance(value, NDArray):
            return Tensor(value.shape, dtype=value.dtype) if value.shape is not None and None not in value.shape \
                else None
        if isinstance(value, Tensor):
            return value if value.shape is not None else None
        if isinstance(value, (list, tuple)) and value and not getattr(value, "poisoned", False):
            items = [self.as_tensor(v) for v in value]
            return None if None in items else PList(items) if isinstance(value, list) else tuple(items)
        return None

    def feed_model(self, model, name, args, kwargs, node):
        """A Keras model's fit / predict / evaluate on data of known shape runs the model on it (as Keras does:
        a model without an input is built for it, a built one is checked against it). predict gives the output as
        an array."""
        if name not in _FEEDING:
            return UNKNOWN
        given = args[0] if args else kwargs.get("x")
        data = self.as_tensor(given)
        if data is None:
            return UNKNOWN
        output = self.run.call_module(self, model, [data], {}, node)
        if name in ("predict", "predict_on_batch") and isinstance(output, Tensor):
            return NDArray(output.shape, output.dtype)
        return UNKNOWN

    # -- data -----------------------------------------------------------------------------------------------------
    def call_data(self, name, args, kwargs):
        if name == "TensorDataset":
            if kwargs or not args or not all(isinstance(a, Tensor) and a.shape for a in args):
                return Dataset(UNKNOWN) if args else UNKNOWN
            lengths = {a.shape[0] for a in args}
            length = lengths.pop() if len(lengths) == 1 else None
            return Dataset(tuple(Tensor(tuple(a.shape[1:]), dtype=a.dtype) for a in args), length)
        if name == "DataLoader":
            dataset = args[0] if args else kwargs.get("dataset")
            if not isinstance(dataset, Dataset):
                return UNKNOWN
            return Batches(self.batch_of(dataset, args, kwargs), dataset)
        if name in ("Subset", "random_split") and args and isinstance(args[0], Dataset):
            if name == "Subset":
                return Dataset(args[0].sample)
            parts = self.iterate(args[1]) if len(args) > 1 else None
            if parts is None:
                return UNKNOWN
            return PList([Dataset(args[0].sample, p if isinstance(p, int) and not isinstance(p, bool) else None)
                          for p in parts])
        if name == "ConcatDataset":
            return UNKNOWN
        return UNKNOWN

    def batch_of(self, dataset, args, kwargs):
        """The batch a DataLoader gives: the samples collated along a batch axis of batch_size, exactly when
        every batch has that size (drop_last, or a length it divides), else a symbol."""
        params = ("dataset", "batch_size", "shuffle", "sampler", "batch_sampler", "num_workers", "collate_fn",
                  "pin_memory", "drop_last")
        given = {**dict(zip(params, args)), **kwargs}
        if set(given) - set(params) - {"timeout", "worker_init_fn", "generator", "prefetch_factor",
                                       "persistent_workers", "pin_memory_device", "multiprocessing_context",
                                       "in_order"}:
            return UNKNOWN
        if given.get("collate_fn") is not None or given.get("batch_sampler") is not None:
            return UNKNOWN
        size = given.get("batch_size", 1)
        if size is None:
            return dataset.sample
        if not (isinstance(size, int) and not isinstance(size, bool) and size > 0):
            batch = self.run.solver.fresh("B")
        elif given.get("drop_last") is True or (isinstance(dataset.length, int) and dataset.length % size == 0
                                                and given.get("sampler") is None):
            batch = size
        else:
            batch = self.run.solver.fresh("B")
        return _collate(dataset.sample, batch)

    def call_vision(self, name, args, kwargs):
        kind = name.rsplit(".", 1)[-1]
        if name.startswith("torchvision.datasets."):
            image = IMAGE_DATASETS.get(kind)
            steps = _transform_steps(kwargs.get("transform")) if "transform" in kwargs else []
            if image is None or steps is None or "target_transform" in kwargs:
                return Dataset(UNKNOWN)
            applied = _apply_transform(image, steps)
            if applied is None or not applied[1]:
                return Dataset(UNKNOWN)                  # a PIL image: the default collate refuses it
            shape = applied[0]
            return Dataset((Tensor(shape, dtype="float"), 0))
        if kind == "Compose":
            items = self.iterate(args[0]) if len(args) == 1 else None
            if items is None or not all(isinstance(t, Transform) for t in items) or any(
                    t.steps is None for t in items):
                return Transform(None)
            return Transform([step for t in items for step in t.steps])
        if kind in ("ToTensor", "PILToTensor", "ToImage") and not args:
            return Transform([("ToTensor", None)])
        if kind in ("Resize", *_CROPS) and args:
            return Transform([(kind, args[0])])
        if kind == "Grayscale":
            channels = args[0] if args else kwargs.get("num_output_channels", 1)
            return Transform([(kind, channels)] if isinstance(channels, int) else None)
        if kind in _KEEP:
            return Transform([(kind, None)])
        return Transform(None)

    # -- attributes and methods ---------------------------------------------------------------------------------------
    def script_attr(self, base, name):
        if isinstance(base, Namespace):
            if name == "__dict__":
                return base.attrs
            if base.items and name in _DICT_METHODS:
                return BuiltinMethod(base.attrs, name)        # cfg.get("width", 64) of a DictConfig
            if base.attrs.poisoned or name in base.attrs.maybe:
                return UNKNOWN
            return base.attrs.get(name, UNKNOWN)
        if isinstance(base, NDArray):
            return self.array_attr(base, name)
        if isinstance(base, Batches) and name == "dataset":
            return base.dataset if base.dataset is not None else UNKNOWN
        if isinstance(base, FilePath):
            if name in ("parent", "name", "stem", "suffix"):
                value = {"parent": os.path.dirname, "name": os.path.basename,
                         "stem": lambda p: os.path.splitext(os.path.basename(p))[0],
                         "suffix": lambda p: os.path.splitext(p)[1]}[name](base.path)
                return FilePath(value) if name == "parent" else value
            return BuiltinMethod(base, name)
        if isinstance(base, (ArgParser, ArgGroup, OpenFile, Generator, Dataset, Logger)):
            return BuiltinMethod(base, name)
        return UNKNOWN

    def set_script_attr(self, obj, name, value, frame):
        self.changed(obj)
        if isinstance(obj, Namespace) and not isinstance(name, str):
            obj.poison()
        elif isinstance(obj, Namespace) and not obj.attrs.poisoned:
            if frame.uncertain > obj.born:
                obj.attrs.maybe.add(name)
                obj.attrs[name] = UNKNOWN
            else:
                obj.attrs.maybe.discard(name)
                obj.attrs[name] = value

    def call_script_method(self, obj, name, args, kwargs, frame, node):
        if isinstance(obj, NDArray):
            return self.array_method(obj, name, args, kwargs)
        if isinstance(obj, Generator):
            if name in _RNG_SIZE:
                return self.random_array(name, _RNG_SIZE[name], args, kwargs)
            return UNKNOWN
        if isinstance(obj, OpenFile):
            return obj.text if name == "read" and not args and obj.text is not None else UNKNOWN
        if isinstance(obj, Logger):
            return None
        if isinstance(obj, Namespace) and obj.items and name == "__getitem__" and args:
            key = args[0]
            if obj.attrs.poisoned or not isinstance(key, (str, int)) or key in obj.attrs.maybe:
                return UNKNOWN
            return obj.attrs.get(key, UNKNOWN)
        if isinstance(obj, FilePath):
            return self.path_method(obj, name, args, kwargs)
        if isinstance(obj, Dataset):
            return obj.sample if name == "__getitem__" else UNKNOWN
        if isinstance(obj, ArgGroup):
            obj = obj.parser
        if isinstance(obj, ArgParser):
            self.changed(obj)
            return self.call_parser(obj, name, args, kwargs, frame)
        return UNKNOWN

    def path_method(self, path, name, args, kwargs):
        if name in ("resolve", "absolute", "expanduser") and not args:
            return FilePath(os.path.abspath(path.path)) if name != "expanduser" else path
        if name == "joinpath" and all(isinstance(a, (str, FilePath)) for a in args):
            out = path
            for part in args:
                out = out / part
            return out
        if name == "open":
            return self.open_file([path.path] + list(args), kwargs)
        if name == "read_text" and not args:
            text = self.read_data_file(path.path)
            return UNKNOWN if text is None else text
        return UNKNOWN

    def call_parser(self, parser, name, args, kwargs, frame):
        uncertain = frame.uncertain > parser.born
        if name == "add_argument":
            dest, positional = _argparse_dest(args, kwargs, parser.prefix)
            if dest is None:
                if kwargs.get("action") not in ("help", "version"):
                    parser.opaque = True
                return UNKNOWN
            if uncertain:
                parser.actions[dest] = None
            elif dest not in parser.actions:      # the first argument of a dest sets its value
                options = dict(kwargs)
                if "default" not in options and dest in parser.defaults:
                    options["default"] = parser.defaults[dest]      # set_defaults before add_argument
                parser.actions[dest] = (options, positional)
            return UNKNOWN
        if name in ("add_argument_group", "add_mutually_exclusive_group"):
            return ArgGroup(parser)
        if name == "set_defaults":
            if args:
                parser.opaque = True
            for key, value in kwargs.items():
                parser.defaults[key] = UNKNOWN if uncertain else value
                if key in parser.actions and parser.actions[key] is not None:
                    if uncertain:
                        parser.actions[key] = None
                    else:
                        parser.actions[key][0]["default"] = value     # it replaces the argument's default
            return None
        if name in ("parse_args", "parse_known_args", "parse_intermixed_args", "parse_known_intermixed_args"):
            given = args[0] if args else kwargs.get("args")
            empty = given is None or isinstance(given, (list, tuple)) and not given and not getattr(
                given, "poisoned", False)
            if not empty or len(args) > 1 or "namespace" in kwargs:
                namespace = Namespace(PDict())
                namespace.poison()       # arguments given: not what the script sees without any
            else:
                namespace = parser.namespace()
                namespace.born = namespace.attrs.born = frame.uncertain
            return (namespace, PList()) if "known" in name else namespace
        if name == "add_subparsers":
            return UNKNOWN             # what a sub-command's parser adds stays unknown
        if name in ("print_help", "print_usage", "format_help", "format_usage", "error", "exit", "get_default",
                    "register", "convert_arg_line_to_args"):
            return UNKNOWN
        parser.opaque = True
        return UNKNOWN

    def batches_item(self, value):
        """[the item] of an iterable whose items are all alike (a DataLoader's batches), else None."""
        if isinstance(value, Batches):
            return [value.item]
        if isinstance(value, Dataset):
            return [value.sample]
        return None

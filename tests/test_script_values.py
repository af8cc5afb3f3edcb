"""Values a script computes around its model (cnnlint.extract.scripts): argparse defaults as the script sees them
run without arguments, config objects and files, numpy arrays, DataLoader batches. Each is read through a width
the code builds a layer with: a known value is that int, anything else is a symbol or unknown, never a guess.
The semantics asserted here are Python's and torch's own; test_python_agrees runs the argparse cases in Python."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
import types

import pytest

from cnnlint.api import analyze_source

HEADER = "import argparse\nimport json\nimport types\nimport numpy as np\nimport torch\nimport torch.nn as nn\n"


def width(setup, expr, path="<string>"):
    """What cnnlint makes of `expr` as the width of a Linear built after `setup` (an int, a symbol's name, or
    None when unknown)."""
    source = HEADER + textwrap.dedent(setup) + f"\nlayer = nn.Linear(5, {expr})\nlayer(torch.randn(2, 5))\n"
    runs = [m for m in analyze_source(source, path=path).models if m.source == "example"]
    assert len(runs) == 1
    shape = runs[0].calls[0].output_shape
    return None if shape is None else shape[1]


ARGPARSE = """
parser = argparse.ArgumentParser()
parser.add_argument("data", nargs="?", default="data/")
parser.add_argument("path")
parser.add_argument("--in-dim", type=int, default=784)
parser.add_argument("--hidden", "-H", dest="hidden_size", type=int, default="256")
parser.add_argument("-k", type=int, default=3)
parser.add_argument("--flag", action="store_true")
parser.add_argument("--no-bias", dest="bias", action="store_false")
parser.add_argument("--required", type=int, default=4, required=True)
parser.add_argument("--nodefault", type=int)
parser.add_argument("--units", type=int, default=64)
parser.add_argument("--gone", type=int, default=argparse.SUPPRESS)
parser.add_argument("--count", "-c", action="count")
group = parser.add_argument_group("model")
group.add_argument("--layers", type=int, default=6, choices=[2, 4, 6])
parser.set_defaults(units=48)
"""

# (expression, the value Python gives it, what cnnlint must find: the value, or None for unknown)
ARGPARSE_CASES = [
    ("args.in_dim", 784, 784),
    ("args.hidden_size", 256, 256),                       # type=int applied to a string default
    ("args.k", 3, 3),
    ("1 if args.flag else 2", 2, 2),                      # store_true: False
    ("1 if args.bias else 2", 1, 1),                      # store_false: True
    ("args.layers", 6, 6),                                # a group adds to the parser
    ("args.units", 48, 48),                               # set_defaults wins
    ("1 if args.count is None else 2", 1, 1),
    ("len(args.data)", 5, 5),                             # an optional positional's default
    ("args.nodefault", None, None),                       # no default: the script means it to be given
    ("args.required", None, None),
]


@pytest.mark.parametrize("expr,python,found", ARGPARSE_CASES, ids=[c[0] for c in ARGPARSE_CASES])
def test_argparse_defaults(expr, python, found):
    got = width(ARGPARSE + "args = parser.parse_args()\n", expr)
    assert (got if isinstance(got, int) else None) == found


def test_python_agrees():
    """The defaults asserted above are what Python's argparse gives (the required and positional arguments given
    on the command line so that it parses at all)."""
    namespace = {"argparse": argparse}
    exec(ARGPARSE, namespace)
    args = namespace["parser"].parse_args(["p", "--required", "1"])
    for expr, python, _ in ARGPARSE_CASES:
        if python is not None:
            assert eval(expr, {"args": args, "len": len}) == python, expr
    assert not hasattr(args, "gone")


DEFAULTS_ORDER = """
parser = argparse.ArgumentParser()
parser.set_defaults(a=1, b=2, c="7")
parser.add_argument("--a", type=int, default=5)
parser.add_argument("--b", type=int)
parser.add_argument("--c", type=int)
parser.add_argument("--d", type=int, default=3)
parser.set_defaults(d="9", e=4)
args = parser.parse_args()
"""


@pytest.mark.parametrize("name", "abcde")
def test_set_defaults_before_and_after_arguments(name):
    """set_defaults before add_argument is the default of an argument that has none; after, it replaces the
    argument's (a string still converted by its type); for a dest no argument sets, it is the value."""
    namespace = {"argparse": argparse}
    exec(DEFAULTS_ORDER.replace("parser.parse_args()", "parser.parse_args([])"), namespace)
    assert width(DEFAULTS_ORDER, f"args.{name}") == getattr(namespace["args"], name)


@pytest.mark.parametrize("setup,expr", [
    ("args = parser.parse_args(['--units', '8'])", "args.units"),          # arguments given: not the defaults
    ("args = parser.parse_args()\nif torch.cuda.is_available():\n    args.units = 8", "args.units"),
    ("args = parser.parse_args()\nunknown_function(args)", "args.units"),  # handed to code we do not read
    ("opts = load()\nparser.add_argument('--x', **opts)\nargs = parser.parse_args()", "args.units"),
    ("args = parser.parse_args()", "args.gone"),
    ("args = parser.parse_args()", "args.path"),                           # a positional argument is required
])
def test_argparse_unknowns(setup, expr):
    assert not isinstance(width(ARGPARSE + setup + "\n", expr), int)


@pytest.mark.parametrize("setup,expr,value", [
    ("args = parser.parse_known_args()[0]", "args.units", 48),
    ("args, rest = parser.parse_known_args()", "args.in_dim", 784),
    ("args = parser.parse_args([])", "args.in_dim", 784),
    ("args = parser.parse_args()\nargs.units = 8", "args.units", 8),
    ("args = parser.parse_args()", "vars(args)['hidden_size']", 256),
    ("args = parser.parse_args()\nvars(args).update({'units': 9})", "args.units", 9),
    ("args = parser.parse_args()\nargs.__dict__.update(json.loads('{\"units\": 7}'))", "args.units", 7),
    # printed, logged or saved: unchanged
    ("import logging\nargs = parser.parse_args()\nlogging.info(args)\nlogging.getLogger(__name__).info(args)\n"
     "json.dump(vars(args), open('args.json', 'w'))", "args.units", 48),
])
def test_argparse_namespaces(setup, expr, value):
    assert width(ARGPARSE + setup + "\n", expr) == value


@pytest.mark.parametrize("setup,expr,value", [
    ("cfg = types.SimpleNamespace(hidden=12, depth=2)", "cfg.hidden * cfg.depth", 24),
    ("base = {'hidden': 12}\ncfg = types.SimpleNamespace(**base)", "cfg.hidden", 12),
    ("cfg = argparse.Namespace(hidden=5)", "cfg.hidden", 5),
    ("cfg = {'hidden': 12}", "cfg.get('hidden', 64)", 12),
    ("cfg = {'hidden': 12}", "cfg.get('width', 64)", 64),
    ("cfg = json.loads('{\"model\": {\"hidden\": [3, 30]}}')", "cfg['model']['hidden'][1]", 30),
])
def test_config_objects(setup, expr, value):
    assert width(setup, expr) == value


def test_simple_namespace_matches_python():
    cfg = types.SimpleNamespace(**{"hidden": 12}, depth=2)
    assert cfg.hidden * cfg.depth == 24
    assert json.loads('{"model": {"hidden": [3, 30]}}')["model"]["hidden"][1] == 30


def test_config_files(tmp_path, monkeypatch):
    """json / yaml files of the project: a relative path beside the linted file, else in the working directory; an
    absolute one below either (`os.path.join(os.path.dirname(__file__), ...)`, pathlib); missing, unparsable or
    outside the project: unknown."""
    yaml = pytest.importorskip("yaml")
    project = tmp_path / "project"
    (project / "sub").mkdir(parents=True)
    (project / "cfg.yaml").write_text("model:\n  hidden: 48\n")
    (project / "cfg.json").write_text('{"hidden": 40}')
    (project / "broken.json").write_text('{"hidden": ')
    (project / "sub" / "other.json").write_text('{"hidden": 24}')
    (tmp_path / "outside.json").write_text('{"hidden": 8}')
    script = str(project / "train.py")
    assert yaml.safe_load((project / "cfg.yaml").read_text())["model"]["hidden"] == 48
    assert width("import yaml\nwith open('cfg.yaml') as f:\n    cfg = yaml.safe_load(f)", "cfg['model']['hidden']",
                 script) == 48
    assert width("cfg = json.load(open('cfg.json'))", "cfg['hidden']", script) == 40
    assert width("cfg = json.loads(open('cfg.json').read())", "cfg['hidden']", script) == 40
    assert width("import os\ncfg = json.load(open(os.path.join(os.path.dirname(__file__), 'cfg.json')))",
                 "cfg['hidden']", script) == 40
    assert width("from pathlib import Path\ncfg = json.loads((Path(__file__).parent / 'cfg.json').read_text())",
                 "cfg['hidden']", script) == 40
    assert width("from pathlib import Path\nwith Path('sub', 'other.json').open() as f:\n    cfg = json.load(f)",
                 "cfg['hidden']", script) == 24
    assert not isinstance(width("cfg = json.load(open('missing.json'))", "cfg['hidden']", script), int)
    assert not isinstance(width("cfg = json.load(open('broken.json'))", "cfg['hidden']", script), int)
    assert not isinstance(width("cfg = json.load(open('cfg.json', 'w'))", "cfg['hidden']", script), int)
    outside = str(tmp_path / "outside.json")
    assert not isinstance(width(f"cfg = json.load(open({outside!r}))", "cfg['hidden']", script), int)
    assert not isinstance(width("cfg = json.load(open('../outside.json'))", "cfg['hidden']", script), int)
    monkeypatch.chdir(project / "sub")          # not beside the file: the working directory
    assert width("cfg = json.load(open('other.json'))", "cfg['hidden']", script) == 24


ATTRIBUTE_DICTS = """
from easydict import EasyDict
from omegaconf import OmegaConf
e = EasyDict({"a": {"b": 7}, "c": 3})
e["c"] = 4
e.d = 5
oc = OmegaConf.create({"x": {"y": 11}, "w": "${x.y}"})
oc.x["z"] = 2
"""


@pytest.mark.parametrize("expr,known", [
    ("e.a.b", True), ("e['a']['b']", True), ("e.c", True), ("e['d']", True), ("e.get('zz', 1)", True),
    ("oc.x.y", True), ("oc['x'].y", True), ("oc.x.z", True), ("oc.get('q', 6)", True),
    ("oc.w", False),                       # an interpolation: not read
])
def test_dicts_read_by_attribute(expr, known):
    """EasyDict and OmegaConf's DictConfig: item and attribute access, nested, set either way; cnnlint's values
    are the libraries' own."""
    pytest.importorskip("easydict")
    pytest.importorskip("omegaconf")
    namespace = {}
    exec(ATTRIBUTE_DICTS, namespace)
    found = width(ATTRIBUTE_DICTS, expr)
    if known:
        assert found == eval(expr, namespace)
    else:
        assert not isinstance(found, int)


def test_omegaconf_load(tmp_path):
    omegaconf = pytest.importorskip("omegaconf")
    (tmp_path / "conf.yaml").write_text("model:\n  width: 32\n  depth: ${model.width}\n")
    script = str(tmp_path / "train.py")
    setup = "from omegaconf import OmegaConf\ncfg = OmegaConf.load('conf.yaml')"
    assert width(setup, "cfg.model.width", script) == omegaconf.OmegaConf.load(tmp_path / "conf.yaml").model.width
    assert not isinstance(width(setup, "cfg.model.depth", script), int)
    assert not isinstance(width(setup + "\ncfg = OmegaConf.merge(cfg, OmegaConf.from_cli())", "cfg.model.width",
                                script), int)


def test_config_file_is_a_dependency_of_the_cached_result(tmp_path):
    """An edit of a config file the lint read re-checks the file (it is among the lint's dependencies)."""
    from cnnlint.lint import lint_file
    (tmp_path / "cfg.json").write_text('{"hidden": 40}')
    script = tmp_path / "train.py"
    script.write_text(HEADER + "cfg = json.load(open('cfg.json'))\nm = nn.Linear(5, cfg['hidden'])\n")
    result = lint_file(script)
    assert str(tmp_path / "cfg.json") in result.deps


@pytest.mark.parametrize("setup,expr,value", [
    ("X = np.zeros((7, 5))", "X.shape[0]", 7),
    ("X = np.random.random((100, 10, 32)).astype('float32')", "X.shape[2]", 32),
    ("X = np.random.rand(3, 4).reshape(-1, 2)", "X.shape[0]", 6),
    ("X = np.ones((8, 3))[:2]", "X.shape[0]", 2),
    ("X = np.ones((8, 3))[1:, 0]", "X.shape[0]", 7),
    ("X = np.random.randint(0, 5, size=(9,))", "len(X)", 9),
    ("X = np.random.default_rng(0).normal(size=(4, 11))", "X.shape[1]", 11),
    ("X = np.expand_dims(np.zeros((4, 6)), -1)", "X.ndim", 3),
    ("X = torch.from_numpy(np.zeros((4, 6)))", "X.shape[1]", 6),
    ("X = np.random.random((100, 784)) / 255.0", "X.shape[1]", 784),      # scaled: the same shape
    ("X = 1 - np.zeros((3, 9)) * np.ones((3, 9))", "X.shape[1]", 9),
    ("X = np.atleast_1d(5) - 1", "int(X[0] // 2)", 2),                   # written numbers: numpy's values
    ("X = np.array([3, 5])", "tuple(int(p) for p in (X - 1) / 2)[1]", 2),
    ("X = np.atleast_1d((3, 4)) % 2 == 1", "int(np.any(X)) + int(np.all(X))", 1),
])
def test_numpy_arrays(setup, expr, value):
    assert width(setup, expr) == value


@pytest.mark.parametrize("setup,expr", [
    ("X = np.random.random()", "X.shape[0]"),              # a scalar
    ("X = np.load('data.npy')", "X.shape[0]"),
    ("X = np.zeros((8, 3))[np.zeros(8) > 0]", "X.shape[0]"),   # a mask keeps an unknown number of rows
    ("X = np.zeros((8, 3)).reshape(5, -1)", "X.shape[0]"),      # numpy refuses it: no shape is made up
])
def test_numpy_unknowns(setup, expr):
    assert not isinstance(width(setup, expr), int)


def loader_batch(dataset, options):
    source = HEADER + textwrap.dedent(f"""
        from torch.utils.data import DataLoader, TensorDataset
        model = nn.Linear(3, 1)
        for x, y in DataLoader({dataset}, {options}):
            model(x)
        """)
    runs = [m for m in analyze_source(source).models if m.source == "example"]
    assert len(runs) >= 1 and len({tuple(r.input_shapes) for r in runs}) == 1
    return runs[0].input_shapes[0]


def test_loader_batches():
    """Every batch has batch_size samples when the length is a multiple of it or drop_last; else the last one is
    smaller, and the batch axis is a symbol (as torch's own DataLoader shows below)."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset
    sizes = {len(x) for x, _ in DataLoader(TensorDataset(torch.randn(100, 3), torch.randn(100)), batch_size=32)}
    assert sizes == {32, 4}
    ragged = loader_batch("TensorDataset(torch.randn(100, 3), torch.randn(100))", "batch_size=32")
    assert not isinstance(ragged[0], int) and ragged[1:] == (3,)
    assert loader_batch("TensorDataset(torch.randn(100, 3), torch.randn(100))", "batch_size=32, drop_last=True") \
        == (32, 3)
    assert loader_batch("TensorDataset(torch.randn(96, 3), torch.randn(96))", "batch_size=32, shuffle=True") \
        == (32, 3)
    assert loader_batch("TensorDataset(torch.randn(96, 3), torch.randn(96))", "batch_size=None") == (3,)


VISION = "from torchvision import datasets, transforms\nfrom torchvision.transforms import v2\n"


@pytest.mark.parametrize("dataset,shape", [
    ('datasets.MNIST("d", transform=transforms.ToTensor())', (8, 1, 28, 28)),
    ('datasets.MNIST("d", transform=transforms.Compose([transforms.Resize(32), transforms.ToTensor(), '
     'transforms.Normalize((0.5,), (0.5,))]))', (8, 1, 32, 32)),
    ('datasets.CIFAR10("d", transform=v2.Compose([v2.RandomCrop(32, padding=4), v2.ToImage(), '
     'v2.ToDtype(torch.float32, scale=True)]))', (8, 3, 32, 32)),
    ('datasets.ImageFolder("d", transform=transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), '
     'transforms.ToTensor()]))', (8, 3, 224, 224)),
    ('datasets.FashionMNIST("d", transform=transforms.Compose([transforms.Grayscale(3), transforms.ToTensor()]))',
     (8, 3, 28, 28)),
    ('datasets.ImageFolder("d", transform=transforms.Compose([transforms.Resize(256), transforms.ToTensor()]))',
     None),                                          # the shorter side only: the other is not known
    ('datasets.MNIST("d")', None),                    # PIL images: the default collate refuses them
    ('datasets.MNIST("d", transform=transforms.Compose([transforms.Lambda(f), transforms.ToTensor()]))', None),
    ('datasets.MNIST("d", transform=transforms.ToTensor(), target_transform=f)', None),
])
def test_torchvision_datasets(dataset, shape):
    source = HEADER + VISION + textwrap.dedent(f"""
        from torch.utils.data import DataLoader
        model = nn.Flatten()
        for x, y in DataLoader({dataset}, batch_size=8, drop_last=True):
            model(x)
        """)
    runs = {tuple(m.input_shapes) for m in analyze_source(source).models if m.source == "example"}
    assert runs == {(shape,)} if shape is not None else runs <= {(None,)}


def test_unknown_datasets_give_unknown_batches():
    source = HEADER + textwrap.dedent("""
        from torch.utils.data import DataLoader
        model = nn.Linear(3, 1)
        for x, y in DataLoader(torch.load("data.pt"), batch_size=32):
            model(x)
        """)
    runs = [m for m in analyze_source(source).models if m.source == "example"]
    assert all(s is None for r in runs for s in r.input_shapes)


def test_no_crash_on_odd_calls():
    """Calls these values do not model leave unknowns, never an error."""
    source = HEADER + textwrap.dedent("""
        parser = argparse.ArgumentParser(parents=[base])
        parser.add_argument()
        parser.add_argument(1, 2)
        parser.frobnicate()
        args = parser.parse_args(sys.argv[1:], namespace=types.SimpleNamespace())
        X = np.zeros(object())
        Y = np.ones((2, 3)).reshape("a")
        Z = np.arange(2.5)
        for row in np.zeros((3, 2)):
            pass
        json.loads(b"not json")
        open("x", "w")
        """)
    assert not [d for d in analyze_source(source).diagnostics if d.severity == "error"]


if __name__ == "__main__":      # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))

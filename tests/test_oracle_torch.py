"""Differential oracle: the fixtures under fixtures/torch/ run in real torch.

For every model marked with ``# cnnlint: input=...`` (see docs/contract.md):

* ``test_torch_behaviour``: models under errors/ must raise in torch (at construction or
  in forward, in eval mode or else in a training step), and *where their expectation says*: the exception is blamed on the fixture
  lines in its traceback plus the constructor lines of the modules executing when it was
  raised, and one of those lines must carry a CNN1xx expectation. Models under warnings/
  and clean/ must run.
* ``test_shapes_agree``: the output shape of every leaf-module call, recorded by forward
  hooks in torch, must equal what ``cnnlint.api.analyze_source`` infers for the same
  model on the same input. For errors/ models only the calls torch completed before
  raising are compared, as a prefix of cnnlint's calls. Leaf modules: see
  ``recorded_modules``.
* ``test_warnings_are_emitted``: a model flagged CNN207 or CNN208 emits torch's own warning for it, and
  no other model of warnings/ or clean/ does.
* ``test_expectations_match_directory``: errors/ files carry CNN1xx expectations,
  warnings/ files CNN2xx ones only, clean/ files none; ``test_error_expectations_are_exercised``:
  every CNN1xx expectation is where some model of its file fails in torch.

The torch side and the cnnlint side are separate tests so that the torch side can be
checked without the engine.
"""
from __future__ import annotations

import ast
import contextlib
import functools
import importlib.util
import re
import sys
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import torch
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "torch"
KINDS = ("errors", "warnings", "clean")

ERROR_CODES = {f"CNN{n}" for n in range(101, 113)} | {"CNN116"}
WARNING_CODES = {f"CNN{n}" for n in range(201, 209)} | {f"CNN{n}" for n in range(213, 218)}

# Exceptions through which torch reports shape/config problems. Anything else
# (NameError, TypeError, AttributeError, ...) means the fixture itself is broken.
# An IndexError counts only with torch's message for a dim argument out of range.
TORCH_ERRORS = (RuntimeError, ValueError, AssertionError, IndexError)
DIM_ERROR = "Dimension out of range"

# Warnings whose code flags something torch itself warns about (and then runs): a model carrying such an
# expectation must emit that warning in torch (test_warnings_are_emitted).
TORCH_WARNINGS = {
    "CNN207": re.compile(r"Using a target size \(torch\.Size\(\[.*\]\)\) that is different to the input size"),
    "CNN208": re.compile(r"Received a \d-?D input to dropout[23]d"),
}

INPUT_RE = re.compile(r"^#\s*cnnlint:\s*input=(?P<shapes>.+?)(?:\s+dtype=(?P<dtype>\w+))?\s*$")
CLASS_RE = re.compile(r"^class\s+(?P<name>[A-Za-z_]\w*)\s*[(:]")
SEQUENTIAL_RE = re.compile(r"^(?P<name>[A-Za-z_]\w*)\s*=\s*(?:[\w.]+\.)?Sequential\s*\(")
EXPECT_RE = re.compile(r"#\s*expect:\s*(?P<codes>[A-Z0-9_,\s]+?)\s*$")
CODE_RE = re.compile(r"^CNN\d{3}$")

DTYPES = {None: torch.float32, "float": torch.float32, "float32": torch.float32, "long": torch.long}

# torch containers: never recorded themselves, their children are.
CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict)


# --------------------------------------------------------------------------- fixture parsing


@dataclass(frozen=True)
class ModelSpec:
    path: Path
    kind: str  # errors / warnings / clean
    name: str
    is_sequential: bool  # a module-level `name = nn.Sequential(...)`
    shapes: tuple[tuple[int | str, ...], ...]  # str: a symbolic dimension (not runnable)
    dtype: str | None
    line: int  # 1-based line of the class / assignment

    @property
    def id(self) -> str:
        return f"{self.kind}/{self.path.stem}::{self.name}"


def fixture_files(kind: str | None = None) -> list[Path]:
    kinds = KINDS if kind is None else (kind,)
    return sorted(p for k in kinds for p in (FIXTURES / k).glob("*.py"))


def _parse_shapes(text: str) -> tuple[tuple[int | str, ...], ...]:
    """'(4, 3, 32, 32), (4, 10)' -> ((4, 3, 32, 32), (4, 10)). A symbolic dimension (a
    name such as N) is kept as a string: such a model cannot be run, and
    test_torch_behaviour fails for it."""
    shapes = []
    for group in re.findall(r"\(([^()]*)\)", text):
        dims: list[int | str] = []
        for part in (p.strip() for p in group.split(",")):
            if not part:
                continue
            if part.isdigit() and int(part) > 0:
                dims.append(int(part))
            elif re.fullmatch(r"[A-Za-z_]\w*", part):
                dims.append(part)
            else:
                raise ValueError(f"bad dimension {part!r} in input comment {text!r}")
        if not dims:
            raise ValueError(f"empty shape in input comment {text!r}")
        shapes.append(tuple(dims))
    if not shapes or re.sub(r"\([^()]*\)|[\s,]", "", text):
        raise ValueError(f"input comment must be a list of tuples, got {text!r}")
    return tuple(shapes)


def parse_models(path: Path) -> list[ModelSpec]:
    """Models marked with an input comment, as the contract defines them."""
    kind = path.parent.name
    lines = path.read_text().splitlines()
    specs = []
    for i, line in enumerate(lines):
        m = INPUT_RE.match(line.strip())
        if not m:
            if "cnnlint:" in line and "input" in line:
                raise ValueError(f"{path}:{i + 1}: malformed input comment: {line!r}")
            continue
        if i + 1 >= len(lines):
            raise ValueError(f"{path}:{i + 1}: input comment at end of file")
        nxt = lines[i + 1]
        cls = CLASS_RE.match(nxt)
        seq = SEQUENTIAL_RE.match(nxt)
        if not (cls or seq):
            raise ValueError(
                f"{path}:{i + 2}: the line after an input comment must be a top-level class "
                f"or `name = nn.Sequential(`, got {nxt!r}"
            )
        dtype = m.group("dtype")
        if dtype not in DTYPES:
            raise ValueError(f"{path}:{i + 1}: unknown dtype {dtype!r}")
        specs.append(
            ModelSpec(
                path=path,
                kind=kind,
                name=(cls or seq).group("name"),
                is_sequential=seq is not None,
                shapes=_parse_shapes(m.group("shapes")),
                dtype=dtype,
                line=i + 2,
            )
        )
    return specs


def parse_expectations(path: Path) -> dict[int, set[str]]:
    expects: dict[int, set[str]] = {}
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        if "expect:" not in line:
            continue
        m = EXPECT_RE.search(line)
        if not m:
            raise ValueError(f"{path}:{lineno}: malformed expect comment: {line!r}")
        codes = {c.strip() for c in m.group("codes").split(",") if c.strip()}
        expects[lineno] = codes
    return expects


def all_specs() -> list[ModelSpec]:
    specs = []
    for path in fixture_files():
        try:
            specs.extend(parse_models(path))
        except ValueError:
            pass  # reported by test_expectations_match_directory for that file
    return specs


SPECS = all_specs()
SPEC_PARAMS = [pytest.param(spec, id=spec.id) for spec in SPECS]


# --------------------------------------------------------------------------- running in torch


SITE_ATTR = "_oracle_fixture_line"


@contextlib.contextmanager
def record_construction_sites(path: Path):
    """While active, every nn.Module built from code in `path` remembers the line of `path`
    that built it (the innermost frame in that file outside its own constructor: a subclass's
    `super().__init__(...)` is not where it was built). The line is kept in the instance
    __dict__, so deep copies (TransformerEncoder clones its layer) keep it too."""
    original = nn.Module.__init__
    target = str(path)

    def patched(self, *args, **kwargs):
        original(self, *args, **kwargs)
        frame = sys._getframe(1)
        while frame is not None and (frame.f_code.co_filename != target or frame.f_locals.get("self") is self):
            frame = frame.f_back
        if frame is not None and SITE_ATTR not in self.__dict__:
            object.__setattr__(self, SITE_ATTR, frame.f_lineno)

    nn.Module.__init__ = patched
    try:
        yield
    finally:
        nn.Module.__init__ = original


@functools.lru_cache(maxsize=None)
def load_fixture_module(path: Path):
    module_name = "cnnlint_fixture_" + "_".join(path.relative_to(FIXTURES).with_suffix("").parts)
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    torch.manual_seed(0)
    with warnings.catch_warnings(), record_construction_sites(path):
        warnings.simplefilter("ignore")
        spec.loader.exec_module(module)
    return module


def make_inputs(spec: ModelSpec) -> list[torch.Tensor]:
    """`dtype=` applies to the first input (the token ids); further inputs are float."""
    gen = torch.Generator().manual_seed(0)
    inputs = []
    for i, shape in enumerate(spec.shapes):
        if i == 0 and DTYPES[spec.dtype] == torch.long:
            inputs.append(torch.randint(0, 2, shape, generator=gen, dtype=torch.long))
        else:
            inputs.append(torch.randn(shape, generator=gen))
    return inputs


def is_concrete(spec: ModelSpec) -> bool:
    return all(isinstance(d, int) for shape in spec.shapes for d in shape)


def _is_torch_layer(module: nn.Module) -> bool:
    return type(module).__module__.startswith("torch.nn.") and not isinstance(module, CONTAINERS)


def recorded_modules(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The leaf modules of the contract: torch layers (not containers, not user classes).

    A module without children is a leaf. A few torch layers own submodules
    (MultiheadAttention owns out_proj but never calls it; TransformerEncoderLayer,
    TransformerEncoder, ...); they are treated as one layer and what is inside them is
    not recorded. Everything else (Sequential, ModuleList, ModuleDict, user classes) is
    a container whose children are recorded.
    """
    chosen: list[tuple[str, nn.Module]] = []
    inside: set[str] = set()  # names of chosen torch layers with children
    for name, module in model.named_modules():
        if any(name.startswith(prefix + ".") for prefix in inside):
            continue
        has_children = next(module.children(), None) is not None
        if not has_children:
            chosen.append((name, module))
        elif _is_torch_layer(module):
            chosen.append((name, module))
            inside.add(name)
    return chosen


def _first_tensor_shape(output) -> tuple[int, ...] | None:
    while isinstance(output, (tuple, list)):
        if not output:
            return None
        output = output[0]
    if isinstance(output, torch.Tensor):
        return tuple(output.shape)
    return None


@dataclass
class TorchRun:
    constructed: bool = False
    error: BaseException | None = None
    rows: list[tuple[str, str, tuple[int, ...] | None]] = field(default_factory=list)
    # errors only: fixture lines the failure can be blamed on
    blame_lines: set[int] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)  # messages of the warnings the forward pass emitted
    failed_in: str | None = None  # errors in forward: the recorded module whose call raised, if any


def _check_torch_error(exc: BaseException) -> None:
    """Re-raise what is not torch rejecting a shape: a plain IndexError is a broken fixture."""
    if isinstance(exc, IndexError) and DIM_ERROR not in str(exc):
        raise exc


def _traceback_lines(exc: BaseException, path: Path) -> set[int]:
    return {fs.lineno for fs in traceback.extract_tb(exc.__traceback__) if fs.filename == str(path)}


def build_model(spec: ModelSpec) -> nn.Module:
    module = load_fixture_module(spec.path)
    obj = getattr(module, spec.name)
    # TypeError, not assert: an AssertionError would pass for a torch error in errors/.
    if spec.is_sequential:
        if not isinstance(obj, nn.Module):
            raise TypeError(f"{spec.name} is not a module")
        return obj
    if not (isinstance(obj, type) and issubclass(obj, nn.Module)):
        raise TypeError(f"{spec.name} is not an nn.Module class")
    return obj()


@functools.lru_cache(maxsize=None)
def run_in_torch(spec: ModelSpec) -> TorchRun:
    if not is_concrete(spec):
        raise ValueError(f"{spec.id}: symbolic input {spec.shapes} cannot be run; give concrete sizes")
    result = TorchRun()
    torch.manual_seed(0)
    try:
        with record_construction_sites(spec.path), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = build_model(spec)
    except TORCH_ERRORS as exc:
        _check_torch_error(exc)
        result.error = exc
        result.blame_lines = _traceback_lines(exc, spec.path)
        return result
    result.constructed = True
    model.eval()
    _forward(spec, model, result)
    if spec.kind == "errors" and result.error is None:
        # some layers only fail when training (nn.Dropout2d on a 1-D input raises in training, warns in eval): an
        # error fixture that runs in eval mode must fail in the first training step
        result = TorchRun(constructed=True)
        torch.manual_seed(0)
        model.train()
        _forward(spec, model, result)
    return result


def _forward(spec: ModelSpec, model: nn.Module, result: TorchRun) -> None:
    handles = []
    active: list[nn.Module] = []  # modules whose forward has started and not returned

    def enter(mod, args):
        active.append(mod)  # hooks must return None, or they replace args / output

    def leave(mod, args, output):
        active.pop()

    for module in model.modules():
        handles.append(module.register_forward_pre_hook(enter))
        handles.append(module.register_forward_hook(leave))
    recorded = {id(module): name for name, module in recorded_modules(model)}
    for name, module in recorded_modules(model):
        def hook(mod, args, output, _name=name):
            result.rows.append((_name, type(mod).__name__, _first_tensor_shape(output)))

        handles.append(module.register_forward_hook(hook))
    try:
        with torch.no_grad(), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model(*make_inputs(spec))
        result.warnings = [str(w.message) for w in caught]
    except TORCH_ERRORS as exc:
        _check_torch_error(exc)
        result.error = exc
        result.blame_lines = _traceback_lines(exc, spec.path) | {
            mod.__dict__[SITE_ATTR] for mod in active if SITE_ATTR in mod.__dict__
        }
        result.failed_in = next((recorded[id(mod)] for mod in reversed(active) if id(mod) in recorded), None)
    finally:
        for h in handles:
            h.remove()


# --------------------------------------------------------------------------- tests


def test_fixture_directories_are_populated():
    counts = {kind: len([s for s in SPECS if s.kind == kind]) for kind in KINDS}
    assert counts["errors"] >= 20, counts
    assert counts["warnings"] >= 6, counts
    assert counts["clean"] >= 15, counts


def test_every_code_has_two_fixtures():
    seen: dict[str, int] = {}
    for kind in ("errors", "warnings"):
        for path in fixture_files(kind):
            for codes in parse_expectations(path).values():
                for code in codes:
                    seen[code] = seen.get(code, 0) + 1
    missing = {code: seen.get(code, 0) for code in sorted(ERROR_CODES | WARNING_CODES) if seen.get(code, 0) < 2}
    assert not missing, f"codes with fewer than 2 expectations: {missing}"


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_expectations_match_directory(path):
    kind = path.parent.name
    expects = parse_expectations(path)
    codes = set().union(*expects.values()) if expects else set()
    unknown = {c for c in codes if not CODE_RE.match(c) or c not in ERROR_CODES | WARNING_CODES}
    assert not unknown, f"unknown codes {unknown}"
    if kind == "errors":
        assert codes & ERROR_CODES, "errors/ fixture without a CNN1xx expectation"
    elif kind == "warnings":
        assert codes & WARNING_CODES, "warnings/ fixture without a CNN2xx expectation"
        assert not codes & ERROR_CODES, f"warnings/ fixture with error expectations {codes & ERROR_CODES}"
    else:
        assert not expects, f"clean/ fixture with expectations on lines {sorted(expects)}"
    # the file parses and every input comment is well formed
    ast.parse(path.read_text())
    parse_models(path)


@pytest.mark.parametrize("spec", SPEC_PARAMS)
def test_torch_behaviour(spec):
    run = run_in_torch(spec)
    if spec.kind == "errors":
        assert run.error is not None, f"{spec.id} is under errors/ but runs in torch"
        expected_lines = {
            line for line, codes in parse_expectations(spec.path).items() if codes & ERROR_CODES
        }
        assert run.blame_lines & expected_lines, (
            f"{spec.id} raised {run.error!r} on lines {sorted(run.blame_lines)}, "
            f"none of which carries a CNN1xx expectation ({sorted(expected_lines)})"
        )
    else:
        assert run.constructed, f"{spec.id} failed to construct: {run.error!r}"
        assert run.error is None, f"{spec.id} must run in torch, raised {run.error!r}"
        assert run.rows, f"{spec.id}: no leaf module was called"
        missing = [name for name, _, shape in run.rows if shape is None]
        assert not missing, f"{spec.id}: leaf calls without a tensor output: {missing}"


@pytest.mark.parametrize("path", fixture_files("errors"), ids=lambda p: f"errors/{p.stem}")
def test_error_expectations_are_exercised(path):
    """Every CNN1xx expectation in an errors/ file is where some model of that file fails."""
    specs = [s for s in SPECS if s.path == path]
    assert specs, "errors/ fixture without a model the oracle can run"
    blamed: set[int] = set()
    for spec in specs:
        blamed |= run_in_torch(spec).blame_lines
    expected_lines = {line for line, codes in parse_expectations(path).items() if codes & ERROR_CODES}
    unexercised = sorted(expected_lines - blamed)
    assert not unexercised, f"CNN1xx expectations on lines {unexercised} are not where any model fails"


def model_span(spec: ModelSpec) -> range:
    """The lines of the model's class or Sequential assignment."""
    tree = ast.parse(spec.path.read_text())
    for node in tree.body:
        if node.lineno == spec.line:
            return range(node.lineno, node.end_lineno + 1)
    raise ValueError(f"{spec.id}: no top-level statement on line {spec.line}")


RUNNING_SPECS = [pytest.param(s, id=s.id) for s in SPECS if s.kind != "errors"]


@pytest.mark.parametrize("spec", RUNNING_SPECS)
def test_warnings_are_emitted(spec):
    """A model flagged with a code for which torch has a warning of its own emits it when torch runs it, and a
    model (warnings/ or clean/) that emits it carries that expectation."""
    expects = parse_expectations(spec.path)
    codes = {c for line in model_span(spec) for c in expects.get(line, ())}
    run = run_in_torch(spec)
    assert run.error is None, f"{spec.id} must run in torch, raised {run.error!r}"
    for code in sorted(codes & TORCH_WARNINGS.keys()):
        assert any(TORCH_WARNINGS[code].search(m) for m in run.warnings), (
            f"{spec.id} carries a {code} expectation but torch emitted no such warning: {run.warnings}")
    for code, pattern in TORCH_WARNINGS.items():
        if code not in codes:
            assert not any(pattern.search(m) for m in run.warnings), (
                f"{spec.id}: torch warns {[m for m in run.warnings if pattern.search(m)]} but no {code} is expected")


# Silent bugs: the model runs, and torch shows the wrong result. Each code names the symptoms that show its bug:
# "mixes samples"   a sample's output changes when only another sample of the batch changes (eval mode);
# "batch changes"   the output's axis 0 is not the input's batch;
# "mixes positions" a (N, L, E) -> (N, L, E') model's output does not follow a reordering of the L positions (a
#                   model without positional information must: attention mixes positions by content, never by
#                   where they sit in memory);
# "size changes"    an image-to-image output's spatial size differs from its input's.
SILENT_BUG_SYMPTOMS = {"CNN213": {"mixes samples"}, "CNN214": {"mixes samples", "batch changes"},
                       "CNN215": {"mixes samples", "batch changes", "mixes positions"},
                       "CNN216": {"size changes"}}
# clean/ files whose models are batch-first and per-sample: none of these symptoms may show
PER_SAMPLE_FILES = {"axes_kept", "reconstruction"}


def _first_output(output):
    while isinstance(output, (tuple, list)):
        output = output[0]
    return output


def symptoms(spec: ModelSpec) -> set:
    """The silent-bug symptoms a model shows in torch on its commented input."""
    model = build_model(spec)
    model.eval()
    inputs = make_inputs(spec)
    x = inputs[0]
    found = set()

    def run(first):
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _first_output(model(first, *inputs[1:]))

    out = run(x)
    if out.dim() == 0:
        return found
    if out.shape[0] != x.shape[0]:
        found.add("batch changes")
    elif x.shape[0] >= 2:
        changed = x.clone()                         # only the first sample changes
        if changed.dtype == torch.long:
            changed[0] = 1 - changed[0]            # token ids are drawn from {0, 1}
        else:
            changed[0] = torch.randn(changed[0].shape, generator=torch.Generator().manual_seed(1))
        if not torch.allclose(run(changed)[1:], out[1:], atol=1e-5):
            found.add("mixes samples")
    if x.dim() == 3 and out.dim() == 3 and x.is_floating_point() and out.shape[:2] == x.shape[:2] and x.shape[1] >= 2:
        order = torch.roll(torch.arange(x.shape[1]), 1)
        if not torch.allclose(run(x[:, order]), out[:, order], atol=1e-5):
            found.add("mixes positions")
    if x.dim() >= 3 and out.dim() == x.dim() and out.shape[2:] != x.shape[2:]:
        found.add("size changes")
    return found


SILENT_SPECS = [pytest.param(s, id=s.id) for s in SPECS if s.kind == "warnings"
                and {c for line in model_span(s) for c in parse_expectations(s.path).get(line, ())}
                & SILENT_BUG_SYMPTOMS.keys()]


@pytest.mark.parametrize("spec", SILENT_SPECS)
def test_silent_bugs_show_in_torch(spec):
    """A model flagged with a silent-bug code runs in torch and shows one of that code's symptoms."""
    codes = {c for line in model_span(spec) for c in parse_expectations(spec.path).get(line, ())}
    shown = symptoms(spec)
    for code in sorted(codes & SILENT_BUG_SYMPTOMS.keys()):
        assert shown & SILENT_BUG_SYMPTOMS[code], f"{spec.id} carries {code} but torch shows none of " \
                                                 f"{sorted(SILENT_BUG_SYMPTOMS[code])} (it shows {sorted(shown)})"


def test_silent_bug_fixtures_exist():
    for code in SILENT_BUG_SYMPTOMS.keys() - {"CNN216"}:       # CNN216 flags the loss, outside the model
        assert any(code in c for s in SPECS if s.kind == "warnings" for line in model_span(s)
                   for c in [parse_expectations(s.path).get(line, set())]), code
    assert RECONSTRUCTION_CASES


# CNN216 flags a loss in the training code: the model it names must really give another size than it takes, in
# torch, and the loss of its output against its input must raise there.
RECONSTRUCTED = re.compile(r"compares the output of (?P<model>\w+) with the tensor it was given")
RECONSTRUCTION_CASES = [pytest.param(path, line, id=f"{path.stem}:{line}") for path in fixture_files("warnings")
                        for line, codes in parse_expectations(path).items() if "CNN216" in codes]


@pytest.mark.parametrize("path,line", RECONSTRUCTION_CASES)
def test_reconstruction_sizes_differ_in_torch(path, line):
    from cnnlint.api import analyze_source
    import torch.nn.functional as F

    found = [d for d in analyze_source(path.read_text(), path=str(path)).diagnostics
             if d.code == "CNN216" and d.line == line]
    assert found, f"no CNN216 at line {line}"
    name = RECONSTRUCTED.search(found[0].message).group("model")
    spec = next(s for s in SPECS if s.path == path and s.name == name)
    assert "size changes" in symptoms(spec)
    model = build_model(spec).eval()
    x = make_inputs(spec)[0]
    with torch.no_grad(), pytest.raises(RuntimeError):
        F.mse_loss(model(x), x)


PER_SAMPLE_SPECS = [pytest.param(s, id=s.id) for s in SPECS if s.kind == "clean" and s.path.stem in PER_SAMPLE_FILES]


@pytest.mark.parametrize("spec", PER_SAMPLE_SPECS)
def test_fixed_models_show_no_silent_bug(spec):
    """The clean counterparts of the silent-bug fixtures show none of the symptoms: the checks can tell."""
    assert symptoms(spec) == set()


# CNN217 names the only input sizes a model runs for: torch must run it at both ends of that range, raise just
# outside it, and raise at the size the file itself uses when the message names one.
IMPLAUSIBLE = re.compile(r"which only (?P<name>\w+) from (?P<lo>[\d,]+) to (?P<hi>[\d,]+) gives")
FILE_SIZE = re.compile(r"the sizes the file uses: [^(]*\((?P<size>\d+)x")
IMPLAUSIBLE_CASES = [pytest.param(path, line, id=f"{path.stem}:{line}") for path in fixture_files("warnings")
                     for line, codes in parse_expectations(path).items() if "CNN217" in codes]


def _class_at(path: Path, line: int) -> str:
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ClassDef) and node.lineno <= line <= node.end_lineno:
            return node.name
    raise ValueError(f"{path}:{line} is in no class")


@pytest.mark.parametrize("path,line", IMPLAUSIBLE_CASES)
def test_implausible_sizes_are_the_only_ones_that_run(path, line):
    from cnnlint.api import analyze_source

    fa = analyze_source(path.read_text(), path=str(path))
    found = [d for d in fa.diagnostics if d.code == "CNN217" and d.line == line]
    assert found, f"no CNN217 at line {line}"
    m = IMPLAUSIBLE.search(found[0].message)
    assert m, found[0].message
    name, lo, hi = m.group("name"), int(m.group("lo").replace(",", "")), int(m.group("hi").replace(",", ""))
    cls = _class_at(path, line)
    shape = next(model.input_shapes[0] for model in fa.models if model.name == cls)
    assert name in shape and isinstance(shape[0], str), shape
    model = getattr(load_fixture_module(path), cls)()
    model.eval()

    def runs(size):
        dims = [2] + [size if d == name or isinstance(d, str) else d for d in shape[1:]]
        try:
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model(torch.randn(dims))
            return True
        except RuntimeError:
            return False

    assert runs(lo) and runs(hi), (lo, hi)
    assert not runs(lo - 1) and not runs(hi + 1), (lo, hi)
    used = FILE_SIZE.search(found[0].message)
    if used:
        assert not runs(int(used.group("size")))


@pytest.mark.parametrize("spec", SPEC_PARAMS)
def test_shapes_agree(spec):
    from cnnlint.api import analyze_source

    run = run_in_torch(spec)
    if spec.kind == "errors":
        assert run.error is not None, f"{spec.id} is under errors/ but runs in torch"
    else:
        assert run.error is None, f"{spec.id} must run in torch, raised {run.error!r}"

    text = spec.path.read_text()
    fa = analyze_source(text, path=str(spec.path))
    named = [m for m in fa.models if m.name == spec.name]
    assert named, f"cnnlint did not analyse {spec.name}; models: {[m.name for m in fa.models]}"
    # A model may also be analysed on an example call elsewhere in the file; compare the
    # analysis that used the commented input.
    matches = [m for m in named if tuple(tuple(s) if s is not None else None for s in m.input_shapes) == spec.shapes]
    assert matches, (
        f"cnnlint analysed {spec.name} only on inputs {[m.input_shapes for m in named]}, "
        f"not on the commented {spec.shapes}"
    )
    analysed = matches[0]

    expected = [(name, shape) for name, _, shape in run.rows]
    got = [(c.name, tuple(c.output_shape) if c.output_shape is not None else None) for c in analysed.calls]
    if spec.kind == "errors":
        got = got[: len(expected)]

    def table(rows):
        return "\n".join(f"  {name:<32} {shape}" for name, shape in rows)

    detail = (
        f"\ntorch ({len(expected)} calls):\n{table(expected)}\ncnnlint ({len(got)} calls"
        f"{' compared' if spec.kind == 'errors' else ''}):\n{table(got)}"
    )
    unknown = [name for name, shape in got if shape is None]
    assert not unknown, f"cnnlint left shapes unknown for concrete inputs: {unknown}{detail}"
    assert got == expected, f"shape disagreement for {spec.id}{detail}"

"""Analyse one parsed file: run its module-level code, then every model it defines, each in its own Run.

Order: the module body is evaluated first (constants, classes, functions, module-level Sequentials and any
example calls such as ``model(torch.randn(4, 3, 32, 32))``). Then each model class with an input comment is run
on that input; each model not yet run gets a run on the shapes its forward's annotations give, else on its dataset
hint or on a symbolic input shaped by its first layer. Module-level functions whose parameters carry shape
annotations are run on those shapes. Models whose constructor needs arguments we do not have are only analysed where the file builds them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from . import values as V
from .extract.context import ModuleContext
from .extract.domain import BudgetExceeded, ProbeHit, Raised
from .extract.torch_calls import SIZE
from .extract.imports import resolve_imports, uses_framework
from .modules.loader import context_name
from .graph import STEP_BUDGET, Run
from .shapes.torch_layers import SEQUENTIALS
from .inputs import (annotation_inputs, comment_inputs, dataset_hint, first_layer, guess_input, keras_input,
                     unpacked_rank)
from .shapes import dims as D
from .values import Tensor


@dataclass
class FileAnalysis:
    runs: list                        # every Run, for the rules
    model_runs: list                  # ModelRun in report order
    skipped: bool = False             # no deep-learning framework imported


def _constructible(cls) -> bool:
    init, _ = cls.lookup("__init__")
    return not isinstance(init, cst.FunctionDef) or _callable_bare(init, skip_self=True)


# Classes built with the config class a parameter declares (transformers' models): at most this many per file.
# Off (0) until they fit the speed budget (transformers `models/` takes ~20 min cold with 4); the two errors they
# gave on default configurations are real in torch (LwDetrConfig()'s empty projector, falcon_h1's modular mixer).
# The tests turn it on.
MAX_DECLARED_BUILDS = 0
# and at most this many tried: a head whose input is not found (a multiple-choice head views its (N, choices, L)
# input before its first layer) leaves the run to the next one
MAX_DECLARED_TRIES = 4


def _runs_alone(cls) -> bool:
    """Whether a model class is worth building on its own: it has a forward (or Keras call) of the code, or is a
    container that runs its modules."""
    method, _ = cls.lookup(cls.call_method())
    return isinstance(method, cst.FunctionDef) or cls.container_kind() is not None


def _build_alone(run, cls):
    """A model class built on its own: with its defaults, and for each parameter that has none an instance of the
    class it declares (a transformers model, given its config class built with its defaults), a size symbol named
    after it (`MLP(in_dim, hidden)`), or unknown (interp.declared_arguments)."""
    kwargs = run.interp.declared_arguments(cls)
    return None if kwargs is None else run.interp.instantiate(cls, [], kwargs, cls.node)


def _concrete_shape(shape, solver, dtype):
    dims = []
    for d in shape:
        dims.append(d if isinstance(d, int) else solver.symbol(str(d)))
    return Tensor(tuple(dims), dtype="long" if dtype == "long" else "float")


def analyze_module(module: cst.Module, source: str, path: str, configured_inputs=None,
                   record_names=False, forced_input=None, loader=None) -> FileAnalysis:
    """configured_inputs: {model name: (shapes, dtype)} from the configuration; a comment in the file wins.
    forced_input: (shapes, dtype) for every model, beating both (`cnnlint shapes --input`).
    loader: the cnnlint.modules.loader.Loader that follows the file's imports (None: names imported stay opaque)."""
    name, package = context_name(path) if loader is not None else (None, None)
    if not uses_framework(resolve_imports(module)) and (
            loader is None or not loader.framework_through_imports(resolve_imports(module, package, raw=True))):
        return FileAnalysis([], [], skipped=True)
    ctx = ModuleContext.create(module, source, path, name, package, loader=loader, record_names=record_names)

    script = _new_run(ctx)
    try:
        script.interp.exec_body(module.body, ctx.global_frame)
    except (BudgetExceeded, RecursionError, Raised):
        pass
    _spend(ctx, script)
    runs = [script]
    comments = {**(configured_inputs or {}), **comment_inputs(source)}
    hint = dataset_hint(source)
    already_run = {r.name for r in script.model_runs}
    standalone = {}     # id(run) -> the class it built with its defaults, on no stated input
    declared = []       # (name, class) of the classes built with the classes their parameters declare

    for name, value in list(ctx.globals.items()):
        if isinstance(value, V.ClassValue) and (value.is_torch_module() or value.keras_kind() == "model"):
            spec = forced_input or comments.get(name)
            if spec is None and name in already_run:
                continue
            if not _constructible(value) and spec is None:
                if _runs_alone(value):
                    declared.append((name, value))     # built below, the file's last classes first
                continue
            runs.append(_run_model(ctx, lambda run, cls=value: _build_alone(run, cls), name, spec, hint,
                                   "input" if forced_input else "comment"))
            if spec is None:
                standalone[id(runs[-1])] = value
        elif isinstance(value, V.Layer) and value.kind in SEQUENTIALS and (
                name not in already_run or forced_input or name in comments):
            spec = forced_input or comments.get(name)
            given = value.args.get("name")       # keras.Sequential(name=...): the name Keras reports
            runs.append(_run_model(ctx, lambda run, seq=value: seq, given if isinstance(given, str) else name, spec,
                                   hint, "input" if forced_input else "comment"))
        elif V.is_module(value) and name in comments:
            # `model = Net(...)` under a `# cnnlint: input=` comment (or named in the configuration)
            runs.append(_run_model(ctx, lambda run, m=value: m, name, comments[name], hint))

    for stmt in module.body:
        # a `def main():` or a builder such as `def resnet18(*, weights=None, **kwargs)`: what it builds and calls
        # is checked (its decorators are not: the body is what we read)
        if isinstance(stmt, cst.FunctionDef) and _callable_bare(stmt):
            runs.append(_run_function(ctx, V.Function(stmt, module=ctx), hint, comments, forced_input))
        elif isinstance(stmt, cst.FunctionDef):
            # a function whose parameters say what shapes they take is checked on those shapes
            run = _run_annotated_function(ctx, V.Function(stmt, module=ctx))
            if run is not None:
                runs.append(run)

    # a class whose constructor needs arguments, built with what its parameters declare (see _build_alone): the
    # file's heads come last and hold its other classes, so the last first, none that a model run already holds (a
    # BertLayer inside BertForMaskedLM, a block built by the file's builders), and at most MAX_DECLARED_BUILDS that
    # need a declared class built (a transformers model, given its config class with its defaults)
    built, tried, components = 0, 0, _component_classes(runs)
    for name, value in reversed(declared):
        if id(value) in components:
            continue
        kinds = [kind for _, kind in script.interp.required_parameters(value)]
        configs = any(isinstance(kind, V.ClassValue) for kind in kinds)
        if configs and (built >= MAX_DECLARED_BUILDS or tried >= MAX_DECLARED_TRIES) or \
                not configs and SIZE not in kinds:
            continue        # (with no size and no declared class, nothing it builds from its arguments is known)
        runs.append(_run_model(ctx, lambda run, cls=value: _build_alone(run, cls), name, None, hint,
                               definite=configs, assumed=not configs))
        standalone[id(runs[-1])] = value
        built += configs and bool(runs[-1].model_runs)
        tried += configs
        components |= _component_classes(runs[-1:])

    # a class the file builds inside its models (a block given its arguments by the model) is checked there, in
    # context; built alone with its defaults it may be a configuration nobody uses (timm's Mixed5a() pads its conv
    # unlike its pool: the model always passes padding=0)
    inside = components
    runs = [r for r in runs if id(standalone.get(id(r))) not in inside]
    model_runs = [m for r in runs for m in r.model_runs]
    model_runs.sort(key=lambda m: m.source not in ("input", "comment"))
    return FileAnalysis(runs, model_runs)


def _component_classes(runs):
    """ids of the classes of the instances inside the models these runs ran (not their roots)."""
    return {id(m.cls) for run in runs for model in run.model_runs for m in _modules_in(model.root)
            if isinstance(m, V.Instance) and m is not model.root}


def _modules_in(root):
    """Every module of a module tree, the root first (an Either's alternatives, instances' modules, layers'
    children), each once; none when the root is not a module (a Keras functional model's run)."""
    stack, seen = [root] if V.is_module(root) else [], set()
    while stack:
        m = stack.pop()
        if id(m) in seen:
            continue
        seen.add(id(m))
        yield m
        inner = m.alternatives if isinstance(m, V.Either) else (
            m.modules if isinstance(m, V.Instance) else m.children).values()
        stack.extend(c for c in inner if V.is_module(c))


def _new_run(ctx, rank=2):
    run = Run(ctx, budget=max(0, min(STEP_BUDGET, ctx.steps_left)))
    run.guess_rank = rank
    return run


def _spend(ctx, run):
    ctx.steps_left -= max(0, run.budget - max(run.steps, 0))


def _callable_bare(fdef, skip_self=False) -> bool:
    """Whether the function can be called with no arguments (after `self`, for a method)."""
    params = fdef.params
    positional = list(params.posonly_params) + list(params.params)
    return all(p.default is not None for p in positional[1 if skip_self else 0:] + list(params.kwonly_params))


def _run_function(ctx, func, hint, comments, forced_input, rank=2):
    """Run a function nobody passes arguments to; a model it returns (a builder such as resnet18()) is then
    run on its guessed input, under the function's name. Sequentials it builds and leaves in its variables without
    calling them (a script's `model = keras.Sequential(...)`, then `model.compile()`, `model.fit(...)`) are run
    as module-level ones are."""
    run = _new_run(ctx, rank)
    frames = []
    try:
        result = run.interp.call_function(func, [], {}, None, frames=frames)
        local = list(frames[0].locals.items()) if frames else []
        # a variable under a `# cnnlint: input=` comment (or named in the configuration) runs on that input
        specified = {} if forced_input else {id(v) for n, v in local if V.is_module(v) and n in comments}
        if V.is_module(result) and id(result) not in specified:
            _call_on_guess(run, result, func.node.name.value, hint)
        for name, value in local:
            if id(value) in specified:
                _run_model_in(run, lambda _, m=value: m, name, comments[name], hint)
            elif isinstance(value, V.Layer) and value.kind in SEQUENTIALS and not _reached(run, value):
                spec = forced_input or comments.get(name)
                given = value.args.get("name")
                _run_model_in(run, lambda _, seq=value: seq, given if isinstance(given, str) else name, spec, hint,
                              "input" if forced_input else "comment")
    except (BudgetExceeded, RecursionError, Raised):
        pass
    _spend(ctx, run)
    if run.rank_guessed and rank == 2:
        run.rivals = [lambda r=r: _run_function(ctx, func, hint, comments, forced_input, rank=r) for r in RIVAL_RANKS]
    return run


def _reached(run, module):
    """Whether a model run of `run` called this module or a layer inside it."""
    called = {id(m.root) for m in run.model_runs} | {id(c.layer) for m in run.model_runs for c in m.calls} | {
        id(c.layer) for c in run.composite_calls}
    return any(id(m) in called for m in _modules_in(module))


def _run_annotated_function(ctx, func):
    run = _new_run(ctx)
    args = annotation_inputs(func.node, ctx.annotations, run.interp.fresh_symbol)
    if args is None:
        return None
    try:
        run.interp.call_function(func, args, {}, None)
    except (BudgetExceeded, RecursionError, Raised):
        pass
    _spend(ctx, run)
    return run


def _run_model(ctx, build, name, spec, hint, source="comment", definite=False, rank=2, assumed=False):
    """A run of one model; when its input's rank was guessed (see _call_on_guess), with the rival runs that guess
    the other ranks, for the rules (lint.run_rules keeps a finding only when every one has it)."""
    run = _new_run(ctx, rank)
    try:
        _run_model_in(run, build, name, spec, hint, source, definite, assumed)
    finally:
        _spend(ctx, run)
    if run.rank_guessed and rank == 2:
        run.rivals = [lambda r=r: _run_model(ctx, build, name, spec, hint, source, definite, r, assumed)
                      for r in RIVAL_RANKS]
    return run


def _run_model_in(run, build, name, spec, hint, source="comment", definite=False, assumed=False):
    """source: "comment" for an input the comment or the configuration gives, "input" for `--input`; definite:
    guess an input only of the rank its first layer fixes (see _call_on_guess); assumed: a model built with
    arguments nobody wrote (sizes as symbols), whose forward's optional parameters are then unknown too (the
    caller we stand for may pass them)."""
    try:
        model = build(run)
        if not V.is_module(model):
            return run
        if spec is not None:
            shapes, dtype = spec
            args = [_concrete_shape(s, run.solver, dtype if i == 0 else None) for i, s in enumerate(shapes)]
            run.call_module(run.interp, model, args, {}, None, name=name, source=source)
        else:
            _call_on_guess(run, model, name, hint, definite, assumed)
    except (BudgetExceeded, RecursionError, Raised):
        pass
    return run


# the ranks a guessed input of a first layer that takes any rank is also run at, besides (N, F): a sequence, a
# channels-last map
RIVAL_RANKS = (3, 4)
# first layers that take inputs of any rank (a Linear acts on the last axis of (N, *, F)): the rank of a guess
# made from them is a guess too
_ANY_RANK = {"Linear", "LayerNorm", "RMSNorm"}


def _call_on_guess(run, model, name, hint, definite=False, assumed=False):
    """Run a model on the shapes its forward's annotations give, else on a guess from its first layer (with
    `definite`, a model built with declared arguments: its input found past the ops that read it, and only from a
    first layer that fixes the input's rank: an embedding, a convolution, not a Linear)."""
    if _call_on_annotation(run, model, name):
        return
    found, any_rank = _NO_ANSWER, False
    if isinstance(model, V.Layer) and model.kind == "keras.Sequential":
        guessed = keras_input(model, run.solver)
    else:
        found = _probe(run, model, past_ops=definite)
        layer = found if found is not None and found is not _NO_ANSWER else first_layer(
            run.interp, model, lax=found is None)
        any_rank = layer is not None and layer.type_name in _ANY_RANK
        if definite and any_rank:
            return
        guessed = guess_input(layer, run.solver, hint)
    if guessed is None:
        return
    shape, source = guessed
    if any_rank and len(shape) == 2:
        # a Linear takes (N, *, F): the rank is the one forward unpacks its input's shape into, else a guess,
        # (N, F) here, (N, L, F) and (N, H, W, F) in the rival runs
        rank = unpacked_rank(model)
        if rank is None:
            run.rank_guessed = True
            rank = run.guess_rank
        if rank > 2:
            middle = ("L",) if rank == 3 else ("H", "W") if rank == 4 else tuple(f"L{i}" for i in range(rank - 2))
            shape = (shape[0], *(run.solver.fresh(s) for s in middle), shape[1])
    dtype = "long" if source == "guess-long" else "float"
    pins = {}
    reached = _probe(run, model, Tensor(shape, dtype=dtype), pins, past_ops=definite or found is None)
    if found is None and not (isinstance(reached, V.Layer) and reached.kind == layer.kind and
                              reached.call is layer.call):
        # an op came before any layer on an input of unknown shape (`if x.dim() == 4: x = x.unsqueeze(2)`): the
        # first layer read from forward's text names the input only if, given that input, it is reached with it
        # (ops may read it on the way, none may replace it)
        return
    shape = tuple(D.substitute(d, pins) for d in shape)
    for d in shape:
        if isinstance(d, D.Expr):
            run.solver.require_positive(d)
    options = {p.name.value: V.UNKNOWN for p in _optional_parameters(model)} if assumed else {}
    run.call_module(run.interp, model, [Tensor(shape, dtype=dtype)], options, None, name=name,
                    source=source.replace("-long", ""))


def _optional_parameters(model):
    """The parameters of a model's forward (or Keras call) after its input that have defaults."""
    if not isinstance(model, V.Instance):
        return []
    method, _ = model.cls.lookup(model.cls.call_method())
    if not isinstance(method, cst.FunctionDef):
        return []
    params = method.params
    return [p for p in (list(params.posonly_params) + list(params.params))[2:] + list(params.kwonly_params)
            if p.default is not None]


PROBE_BUDGET = 200_000
_NO_ANSWER = object()


def _probe(run, model, given=None, pins=None, past_ops=False):
    """The first layer a model applies to its input, found by running its forward, on a copy of the model, with an
    input of unknown shape (the probe) until a layer is called: the layer when it receives the probe itself, on a
    path the code surely takes (its ifs decided, its loops unrolled); None when another layer or an op comes first
    (with `past_ops`, only an op that changes the input in place: ops that make other tensors of it,
    `input_ids.size()` or position ids made from it, leave the input as it is); _NO_ANSWER when no layer is reached (the reading of forward's text, inputs.first_layer, then decides).
    With a guessed input `given` as the probe and a dict as `pins`, what the code asserts of the input's sizes
    before its first layer (`_assert(H == self.img_size[0])`: a model built for one image size) goes into `pins`."""
    if not (isinstance(model, V.Instance) and model.cls.keras_kind() is None or
            isinstance(model, V.Layer) and model.kind.startswith("torch.")):
        return _NO_ANSWER           # a Keras model (a functional one's layers live in the run's graph)
    probe = Run(run.file, budget=max(0, min(PROBE_BUDGET, run.steps)))
    probe.probe = Tensor(None) if given is None else given
    probe.pins = pins
    probe.probe_past_ops = past_ops
    try:
        probe.call_module(probe.interp, probe.interp.clone_module(model, record=False), [probe.probe], {}, None)
    except ProbeHit as hit:
        if hit.layer is not None and probe.probe_trailing > _spatial_axes(hit.layer):
            return None             # a pad before it reached more axes than the layer's spatial ones
        return hit.layer
    except (BudgetExceeded, RecursionError, Raised):
        pass
    finally:
        run.steps -= probe.budget - max(probe.steps, 0)
    return _NO_ANSWER


def _spatial_axes(layer) -> int:
    """The spatial axes a layer's input has after its channels (Conv2d: 2), 0 when it has none it names."""
    kind = getattr(layer, "kind", "")
    return int(kind[-2]) if kind[-2:] in ("1d", "2d", "3d") else 0


def _call_on_annotation(run, model, name):
    if not isinstance(model, V.Instance):
        return False
    forward, _ = model.cls.lookup("forward")
    if not isinstance(forward, cst.FunctionDef):
        return False
    args = annotation_inputs(forward, run.file.annotations, run.interp.fresh_symbol, skip_self=True)
    if args is None:
        return False
    run.call_module(run.interp, model, args, {}, None, name=name, source="annotation")
    return True

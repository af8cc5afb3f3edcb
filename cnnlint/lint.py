"""The pipeline, one way: bytes -> parse -> analyse (extract + graph + shapes) -> rules -> diagnostics."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from .diagnostics import Diagnostic, Related

# codes cnnlint gives its own problems with an input; they make the exit code 2
SYNTAX_ERROR, INTERNAL_ERROR, IO_ERROR = "CNN001", "CNN002", "CNN003"
INPUT_PROBLEMS = {SYNTAX_ERROR: "syntax-error", INTERNAL_ERROR: "internal-error", IO_ERROR: "io-error"}
# notices: said, but they change no exit code
TOO_LARGE = "CNN004"
NOTICES = {TOO_LARGE: "file-too-large"}
MAX_FILE_BYTES = 2_000_000   # LibCST needs ~700 MB of memory and ~7 s per MB of source

_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*))?", re.IGNORECASE)


@dataclass
class Selection:
    """What to report for one file, and how: from the CLI and the configuration that applies to the file."""

    select: tuple = ()       # code prefixes; empty = all
    ignore: tuple = ()
    severity: dict = field(default_factory=dict)    # code -> "error" | "warning" | "info"
    inputs: dict = field(default_factory=dict)      # model name -> (shapes, dtype), from [tool.cnnlint.inputs]
    python: Optional[str] = None    # the interpreter whose installed packages imports resolve from (None: found)
    follow_imports: bool = True     # read the modules a file imports (False: what they define stays unknown)

    def key(self) -> str:
        """A stable text of everything that changes results: part of the cache key."""
        return repr((self.select, self.ignore, sorted(self.severity.items()), sorted(self.inputs.items()),
                     self.python, self.follow_imports))

    def wants(self, code: str) -> bool:
        if code in INPUT_PROBLEMS or code in NOTICES:
            return True
        if self.select and not any(code.startswith(p) for p in self.select):
            return False
        return not any(code.startswith(p) for p in self.ignore)


@dataclass
class FileResult:
    path: str
    diagnostics: list = field(default_factory=list)
    skipped: bool = False
    analysis: object = None      # kept only when asked for (the editor's hovers); never sent between processes
    module: object = None
    positions: object = None
    deps: dict = field(default_factory=dict)      # path -> digest of every imported module the analysis read
    # findings in other modules' code: (diagnostic there, the diagnostic placed here instead, or None)
    elsewhere: list = field(default_factory=list)
    missing: tuple = ()                           # module names it looked for and did not find


def problem(path, code, message, line=1, column=1, source_line=None):
    """A diagnostic about an input itself (unreadable, syntax, too large) rather than about its shapes."""
    notice = code in NOTICES
    return Diagnostic(str(path), line, column, line, column + 1, code, (NOTICES if notice else INPUT_PROBLEMS)[code],
                      "info" if notice else "error", message, [], source_line)


def run_rules(analysis, selection):
    """Findings of every selected rule over every run, deduplicated by (code, location node)."""
    from .rulekit import RuleContext
    from .rules import all_rules
    rules = [r for r in all_rules() if selection.wants(r.code)]
    seen = set()
    out = []
    for run in analysis.runs:
        ctx = RuleContext(run, analysis.runs)
        for rule in rules:
            rule.check(ctx)
        run.findings = drop_cascades(run, ctx.findings, rules)
        for make in run.rivals:
            # the run's input had a guessed rank (a Linear takes any): a finding stands only when the runs that
            # guess the other ranks have it too
            if not run.findings:
                break
            theirs = RuleContext(make(), analysis.runs)
            for rule in rules:
                rule.check(theirs)
            both = {(f.code, id(f.node)) for f in theirs.findings}
            run.findings = [f for f in run.findings if (f.code, id(f.node)) in both]
        keep_fixes_that_fit_every_layer(run, run.findings)
        for finding in run.findings:
            key = (finding.code, id(finding.node))
            if key not in seen:
                seen.add(key)
                out.append(finding)
    return out


def keep_fixes_that_fit_every_layer(run, findings):
    """A constructor line that builds several layers (in a loop, in a block used twice) takes one edit for all of
    them: a fix of one of its arguments stands only when every layer it built asks for that same edit."""
    built: dict = {}                      # id(argument node) -> number of layers whose constructor wrote it
    for layer in run.layers:
        for arg in getattr(layer.call, "args", ()):
            built[id(arg.value)] = built.get(id(arg.value), 0) + 1
    wanted: dict = {}                     # id(argument node) -> [the new code each fix writes there]
    for f in findings:
        for old, new in (f.fix.replacements if f.fix is not None else ()):
            wanted.setdefault(id(old), []).append(_code(new))
    for f in findings:
        if f.fix is None:
            continue
        for old, _ in f.fix.replacements:
            edits = wanted[id(old)]
            if id(old) in built and (len(set(edits)) > 1 or len(edits) < built[id(old)]):
                f.fix = None
                break


def _code(node):
    import libcst as cst
    if callable(node):
        return node        # an edit made of the node it changes: one of a kind
    return cst.Module(body=[]).code_for_node(node)


def drop_cascades(run, findings, rules):
    """torch stops at the first error in a dataflow: an error downstream of another error is its echo."""
    import networkx as nx
    severity = {r.code: r.severity for r in rules}
    errors = {f.gid for f in findings if f.gid is not None and severity.get(f.code) == "error"}
    if len(errors) < 2 and not any(f.gid is not None and severity.get(f.code) != "error" for f in findings):
        return findings
    out = []
    for f in findings:
        if f.gid is not None and f.gid in run.graph and errors & nx.ancestors(run.graph, f.gid):
            continue
        out.append(f)
    return out


class _Places:
    """Positions of the places findings name: CST nodes of the linted file, and ForeignSites in the modules it
    imports (each module's positions computed once, only when something there is reported)."""

    def __init__(self, module, text, path, positions=None):
        from .positions import Positions
        self.home = (positions or Positions(module), text.splitlines(), str(path))
        self.others = {}

    def of(self, place):
        """(path, (line, column), (end_line, end_column), source line) of a place, or None."""
        from .values import ForeignSite
        if isinstance(place, ForeignSite):
            ctx = place.module
            if id(ctx) not in self.others:
                from .positions import Positions
                self.others[id(ctx)] = (Positions(ctx.module), ctx.source.splitlines(), _shown(ctx.path))
            positions, lines, path = self.others[id(ctx)]
            place = place.node
        else:
            positions, lines, path = self.home
        start, end = positions.of(place)
        if start is None or not path:
            return None
        return path, start, end, lines[start[0] - 1] if 0 < start[0] <= len(lines) else None


def _shown(path):
    """A path as the report shows it: relative to the working directory when it lies below it."""
    import os
    if not path:
        return path
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def to_diagnostics(module, text, path, findings, selection=Selection(), positions=None):
    """Resolve positions (only now, only for files with findings) and apply `# noqa`. Returns (diagnostics,
    elsewhere): a finding in another module's code (a ForeignSite) is placed in the linted file at the call that
    led there, with a note of where it is; `elsewhere` pairs that diagnostic with one at the place itself, which
    the runner uses instead when that module is being linted too."""
    from .rules import by_code
    from .values import ForeignSite
    rules = by_code()
    places = _Places(module, text, path, positions)
    out, elsewhere, seen = [], [], set()
    for f in findings:
        rule = rules[f.code]
        severity = selection.severity.get(f.code, rule.severity)
        fix = None if f.fix is None else {"description": f.fix.description,
                                          "applicability": "safe" if f.fix.safe else "unsafe"}
        related = []
        for node, message in f.related:
            where = places.of(node)
            if where is not None:
                related.append(Related(where[0], where[1][0], where[1][1], message))
        foreign = isinstance(f.node, ForeignSite)
        there = places.of(f.node) if foreign else None
        if there is not None:
            note = Related(there[0], there[1][0], there[1][1], f"in {Path(there[0]).name}: {there[3].strip()}"
                           if there[3] else f"in {Path(there[0]).name}")
        here = places.of(f.node.anchor if foreign else f.node)
        diagnostic = None
        if here is not None:
            if here[3] is not None and suppressed(here[3], f.code):
                continue
            key = (here[1], f.code)
            if not foreign or key not in seen:
                seen.add(key)
                diagnostic = Diagnostic(str(path), here[1][0], here[1][1], here[2][0], here[2][1], f.code, rule.name,
                                        severity, f.message, ([note] if foreign and there else []) + related,
                                        here[3], None if foreign else fix)
                out.append(diagnostic)
        if there is not None and not (there[3] is not None and suppressed(there[3], f.code)):
            elsewhere.append((Diagnostic(there[0], there[1][0], there[1][1], there[2][0], there[2][1], f.code,
                                         rule.name, severity, f.message, related, there[3]), diagnostic))
    out.sort(key=lambda d: (d.line, d.column, d.code))
    return out, elsewhere


def suppressed(line_text, code):
    """Whether `# noqa` or `# noqa: CODE` on the line covers `code`."""
    m = _NOQA.search(line_text)
    if not m:
        return False
    codes = m.group("codes")
    return codes is None or code in {c.strip().upper() for c in codes.split(",")}


def follow(path, selection):
    """The loader that follows the imports of the file at `path` (its project, then the environment), ready for a
    new lint; None when the selection does not follow imports."""
    if not selection.follow_imports:
        return None
    from .modules.loader import loader_for
    loader = loader_for(path, selection.python)
    loader.start()
    return loader


def lint_text(text, path, selection=Selection(), keep_analysis=False, parser=None, forced_input=None, loader=None,
              data=None):
    """Lint one source text. `parser` (the editor's IncrementalParser) re-parses only what changed; `loader`
    follows its imports (default: the loader of its project and environment); `data`, the file's bytes when the
    text is the file on disk."""
    from .analysis import analyze_module
    from .modules.loader import remember_parse
    from .parse import SourceError, parse
    positions = None
    try:
        if parser is not None:
            module, positions = parser.parse(text)
        else:
            module = parse(text)
    except SourceError as exc:
        lines = text.splitlines()
        src = lines[exc.line - 1] if 0 < exc.line <= len(lines) else None
        return FileResult(str(path), [problem(path, exc.code, exc.message, exc.line, exc.column, src)])
    if data is not None:
        remember_parse(str(path), data, text, module)
    loader = loader or follow(path, selection)
    analysis = analyze_module(module, text, str(path), selection.inputs, record_names=keep_analysis,
                              forced_input=forced_input, loader=loader)
    if analysis.skipped:
        return FileResult(str(path), [], skipped=True)
    findings = run_rules(analysis, selection)
    result = FileResult(str(path))
    if findings:
        result.diagnostics, result.elsewhere = to_diagnostics(module, text, path, findings, selection, positions)
    if loader is not None:
        result.deps, result.missing = dict(loader.deps), tuple(sorted(loader.missing))
    if keep_analysis:
        result.analysis, result.module, result.positions = analysis, module, positions
    return result


def lint_file(path, selection=Selection(), data=None):
    """Lint one file (its bytes may be given). Never raises: an unreadable file or an engine failure becomes a
    diagnostic."""
    from .files import mentions_framework
    from .parse import SourceError, decode
    if data is None:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            return FileResult(str(path), [problem(path, IO_ERROR, f"cannot read the file: {exc.strerror or exc}")])
    if not mentions_framework(data):
        return FileResult(str(path), [], skipped=True)
    if len(data) > MAX_FILE_BYTES:
        return FileResult(str(path), [problem(path, TOO_LARGE, f"not analysed: {len(data) / 1e6:.1f} MB is over the "
                                              f"{MAX_FILE_BYTES / 1e6:.0f} MB limit (generated code?)")],
                          skipped=True)
    try:
        text = decode(data)
    except SourceError as exc:
        return FileResult(str(path), [problem(path, exc.code, exc.message)])
    try:
        return lint_text(text, path, selection, data=data)
    except RecursionError:
        return FileResult(str(path), [problem(path, INTERNAL_ERROR, "internal error: the file is nested too "
                                              "deeply to analyse; please report it")])
    except Exception as exc:  # a defect in cnnlint must not hide the other files' results
        return FileResult(str(path), [problem(path, INTERNAL_ERROR,
                                              f"internal error while analysing this file: {type(exc).__name__}: "
                                              f"{exc}; please report it")])

"""The command line: `cnnlint PATH...` (= `cnnlint check PATH...`), `cnnlint -` (a buffer on stdin, named by
`--stdin-filename`), `cnnlint shapes PATH...` and `cnnlint rule CODE|NAME`.

Exit codes: 0 nothing at warning or above, 1 findings, 2 a usage error or an input cnnlint could not check
(missing path, unreadable or undecodable file, syntax error, internal error) — the other files are still linted.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def _never_import_from_the_linted_tree():
    """`python -m cnnlint` puts the working directory first on sys.path: a user's `copy.py` there would shadow
    the standard library and run when cnnlint imports `copy`. cnnlint never executes what it lints."""
    cwd = os.getcwd()
    sys.path[:] = [p for p in sys.path if p not in ("", ".", cwd)]


_never_import_from_the_linted_tree()

import click  # noqa: E402

from . import __version__  # noqa: E402

COMMANDS = ("check", "rule", "lsp", "shapes")


def _codes(value):
    return tuple(c.strip().upper() for c in value.split(",") if c.strip()) if value else ()


def _check_codes(option, value):
    """Every code or prefix of --select/--ignore/--extend-select must name a rule: a UsageError with a "did you
    mean" otherwise."""
    from .config import known_codes, suggest_rule
    known = known_codes()
    for code in _codes(value):
        if not any(c.startswith(code) for c in known):
            raise click.UsageError(f"{option}: unknown rule code or prefix: {code}{suggest_rule(code)} "
                                   f"(see `cnnlint rule --all`)")


PYTHON_HELP = ("The Python interpreter whose installed packages the linted code imports (default: the active virtual "
               "environment, else python3 on PATH); their source is read, never run.")
FOLLOW_HELP = ("Read the modules the linted files import, in the project and in the environment (default: on; the "
               "config's `follow-imports`).")
STDIN_HELP = ("The path of the source read from stdin (`cnnlint -`): it names the file in the report, and its "
              "configuration applies.")


@click.group(invoke_without_command=False, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="cnnlint")
def cli():
    """Static shape analysis for PyTorch and Keras model code: finds tensor shape bugs without running the
    model.

    `cnnlint PATH...` is `cnnlint check PATH...`; `cnnlint -` reads a buffer from stdin."""


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(allow_dash=True))
@click.option("--output-format", type=click.Choice(["full", "concise", "json", "json-lines", "sarif", "github", "lsp"]),
              default="full", show_default=True)
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Use this pyproject.toml or cnnlint.toml for every file (default: the nearest one above each).")
@click.option("--select", default="", help="Comma-separated rule codes or prefixes to enable (replaces the config).")
@click.option("--extend-select", default="", help="Codes or prefixes to enable on top of the selection.")
@click.option("--ignore", default="", help="Comma-separated rule codes or prefixes to disable.")
@click.option("--statistics", is_flag=True, help="Print the number of findings per rule after the report.")
@click.option("--fix", "apply_fix", is_flag=True, help="Apply safe fixes in place.")
@click.option("--diff", "show_diff", is_flag=True, help="Print the fixes as a unified diff; write nothing (exit 1 if any).")
@click.option("--unsafe-fixes", is_flag=True, help="Also apply fixes that change behaviour beyond the flagged value.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, help="Worker processes (default: CPU count).")
@click.option("--no-cache", is_flag=True, help="Do not read or write the result cache (.cnnlint_cache/).")
@click.option("--stdin-filename", type=click.Path(dir_okay=False), help=STDIN_HELP)
@click.option("--python", "python", type=click.Path(dir_okay=False), default=None, help=PYTHON_HELP)
@click.option("--follow-imports/--no-follow-imports", "follow", default=None, help=FOLLOW_HELP)
def check(paths, output_format, config_path, select, extend_select, ignore, statistics, apply_fix, show_diff,
          unsafe_fixes, exit_zero, jobs, no_cache, stdin_filename, python, follow):
    """Lint PyTorch and Keras files and directories (default: the current directory; `-`: stdin)."""
    import gc
    # Each file's CST is large and short-lived; the default thresholds make the cyclic collector walk it again
    # and again while it is alive. Fewer, larger collections cost less and keep memory bounded.
    gc.set_threshold(50_000, 20, 20)
    from .config import ConfigError, Resolver
    from .runner import run_paths

    for option, value in (("--select", select), ("--ignore", ignore), ("--extend-select", extend_select)):
        _check_codes(option, value)
    if "-" in paths and len(paths) > 1:
        raise click.UsageError("`-` (read the source from stdin) cannot be combined with other paths")
    if stdin_filename and "-" not in paths:
        raise click.UsageError("--stdin-filename names the source read from stdin: pass `-` as the path")
    try:
        resolver = Resolver(config_path)

        def settings_for(path):
            cfg = resolver.for_file(path)
            if cfg.excluded(path):
                return None
            return cfg.settings_for(path, _codes(select), _codes(ignore), _codes(extend_select), python, follow)

        if paths == ("-",):
            name = stdin_filename or "-"
            # as ruff does: a buffer piped in is linted even when its path is excluded
            cfg = resolver.for_file(name)
            selection = cfg.settings_for(name, _codes(select), _codes(ignore), _codes(extend_select), python, follow)
            results = [_check_stdin(name, selection, apply_fix, show_diff, unsafe_fixes)]
            _report(results, [], output_format, statistics, exit_zero,
                    err=apply_fix and not show_diff)
        if show_diff or apply_fix:
            from .fix import fix_paths, more_with_unsafe
            diffs, fixed, left = fix_paths(paths or ["."], settings_for, unsafe=unsafe_fixes, write=not show_diff)
            if show_diff:
                click.echo("".join(diffs), nl=False)
                click.echo(f"{fixed} fix{'es' * (fixed != 1)} available in {len(diffs)} file"
                           f"{'s' * (len(diffs) != 1)}{more_with_unsafe(left)}.", err=True)
                sys.exit(1 if diffs else 0)
            click.echo(f"Fixed {fixed} finding{'s' * (fixed != 1)} in {len(diffs)} file{'s' * (len(diffs) != 1)}"
                       f"{more_with_unsafe(left)}.", err=True)
        cache = None
        if not no_cache:
            from .cache import Cache
            cache = Cache()
        results, missing = run_paths(paths or ["."], jobs=jobs, cache=cache, settings_for=settings_for,
                                     progress=_progress if sys.stderr.isatty() else None)
        from .config import unmatched_inputs
        unmatched = unmatched_inputs(resolver, [r.path for r in results])
    except ConfigError as exc:
        click.echo(f"cnnlint: error: {exc}", err=True)
        sys.exit(2)
    _report(results, missing, output_format, statistics, exit_zero, config_errors=unmatched)


def _check_stdin(name, selection, apply_fix, show_diff, unsafe):
    """Lint the source on stdin as the file `name`. With --fix the fixed source goes to stdout (ruff's
    convention: an editor replaces its buffer with it) and the report to stderr; --diff prints the diff."""
    from .lint import FileResult, lint_file, problem
    from .parse import SourceError, decode
    data = sys.stdin.buffer.read()
    if not (apply_fix or show_diff):
        return lint_file(name, selection, data)
    from .fix import fix_text, more_with_unsafe, unified_diff
    try:
        text = decode(data)
    except SourceError as exc:
        if apply_fix and not show_diff:
            sys.stdout.buffer.write(data)
        return FileResult(name, [problem(name, exc.code, exc.message)])
    fixed = fix_text(text, name, selection, unsafe)
    count = len(fixed.applied)
    if show_diff:
        click.echo(unified_diff(name, text, fixed.text), nl=False)
        click.echo(f"{count} fix{'es' * (count != 1)} available{more_with_unsafe(fixed.unsafe)}.", err=True)
        sys.exit(1 if fixed.text != text else 0)
    sys.stdout.write(fixed.text)
    sys.stdout.flush()
    click.echo(f"Fixed {count} finding{'s' * (count != 1)}{more_with_unsafe(fixed.unsafe)}.", err=True)
    return lint_file(name, selection, fixed.text.encode("utf-8"))


def _report(results, missing, output_format, statistics, exit_zero, err=False, config_errors=()):
    """Print the findings and the summary line; exit with the code the findings call for. A path that does not
    exist is an error on stderr, and the summary never calls such a run clear; so is a configuration error found
    while linting (an input named for a model no file defines): exit 2, the findings printed."""
    from .diagnostics import SEVERITY_RANK
    from .lint import INPUT_PROBLEMS
    from .report import render
    for message in missing:
        click.echo(f"cnnlint: error: {message}", err=True)
    diagnostics = [d for r in results for d in r.diagnostics]
    if results or not missing:
        checked = sum(1 for r in results if not r.skipped)
        summary = _summary(diagnostics, len(results), checked, len(missing))
        click.echo(render(output_format, diagnostics, summary), nl=False, err=err)
        if statistics:
            click.echo(_statistics(diagnostics), nl=False, err=err or output_format not in ("full", "concise"))
    for message in config_errors:
        click.echo(f"cnnlint: error: {message}", err=True)
    if missing or config_errors or any(d.code in INPUT_PROBLEMS for d in diagnostics):
        sys.exit(2)
    if not exit_zero and any(SEVERITY_RANK[d.severity] >= SEVERITY_RANK["warning"] for d in diagnostics):
        sys.exit(1)
    sys.exit(0)


def _progress(done, total):
    """A progress line on a terminal: rewritten in place, cleared at the end."""
    if total < 50:
        return
    if done == total:
        sys.stderr.write("\r\033[K")
    elif done % 20 == 0:
        sys.stderr.write(f"\rcnnlint: {done}/{total} files")
    sys.stderr.flush()


def _statistics(diagnostics):
    from collections import Counter
    counts = Counter((d.code, d.rule) for d in diagnostics)
    return "".join(f"{n:6}  {code}  {rule}\n" for (code, rule), n in sorted(counts.items(), key=lambda x: (-x[1], x[0])))


def _summary(diagnostics, files, checked, missing=0):
    errors = sum(d.severity == "error" for d in diagnostics)
    warnings = sum(d.severity == "warning" for d in diagnostics)
    notes = len(diagnostics) - errors - warnings
    noted = f" ({notes} note{'s' * (notes != 1)})" if notes else ""
    if missing:
        noted += f"; {missing} path{'s' * (missing != 1)} not found"
    if not errors and not warnings and missing:
        return f"No findings in {files} file{'s' * (files != 1)} read{noted}."
    if not errors and not warnings:
        return f"All clear: {files} file{'s' * (files != 1)} read, {checked} with model code, no findings{noted}."
    return (f"Found {errors} error{'s' * (errors != 1)} and {warnings} warning{'s' * (warnings != 1)} "
            f"in {files} file{'s' * (files != 1)}{noted}.")


@cli.command()
@click.argument("code", required=False, metavar="CODE|NAME")
@click.option("--all", "show_all", is_flag=True, help="List every rule.")
def rule(code, show_all):
    """Explain a rule, by code (CNN101) or name (linear-in-features): what it finds, why it is a bug, an
    example, the fix."""
    from .config import suggest_rule
    from .rules import all_rules, by_code
    if show_all or not code:
        for r in all_rules():
            click.echo(f"{r.code}  {r.name:<28} {r.severity:<8} {r.summary}")
        return
    by_name = {r.name: r for r in all_rules()}
    r = by_code().get(code.strip().upper()) or by_name.get(code.strip().lower())
    if r is None:
        raise click.UsageError(f"unknown rule: {code}{suggest_rule(code)} (see `cnnlint rule --all`)")
    example = r.fires[0].strip() if r.fires else ""
    click.echo(f"{r.code} {r.name} ({r.severity})\n\n{r.summary}.\n\nWhy: {r.why}\n\nExample:\n\n"
               + "\n".join("    " + line for line in example.splitlines())
               + f"\n\nFix: {r.fix}")


COLUMN_NAMES = ("output-shape", "params", "mult-adds", "kernel", "connected-to")


def _columns(value):
    if not value:
        return None
    import difflib
    chosen = [c.strip().lower().replace("_", "-") for c in value.split(",") if c.strip()]
    for c in chosen:
        if c not in COLUMN_NAMES:
            close = difflib.get_close_matches(c, COLUMN_NAMES, n=1)
            hint = f"; did you mean `{close[0]}`?" if close else ""
            raise click.BadParameter(f"unknown column {c!r}{hint} (choose from {', '.join(COLUMN_NAMES)})",
                                     param_hint="--columns")
    return chosen


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(allow_dash=True))
@click.option("--model", "model_name", default=None,
              help="Only this model: its class name, its name in the summary, or a variable bound to it.")
@click.option("--input", "input_shapes", multiple=True, metavar="SHAPE",
              help="The model's input, like 4,3,32,32 or N,3,H,W (repeat for several inputs; add :long for indices).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "dot", "svg"]), default="table",
              show_default=True)
@click.option("--columns", default=None, metavar="LIST",
              help="Table columns, comma-separated: " + ", ".join(COLUMN_NAMES) + " (default: output-shape, "
                   "params, and connected-to for a model whose dataflow is not a chain).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Use this pyproject.toml or cnnlint.toml for every file (default: the nearest one above each).")
@click.option("--stdin-filename", type=click.Path(dir_okay=False), help=STDIN_HELP)
@click.option("--python", "python", type=click.Path(dir_okay=False), default=None, help=PYTHON_HELP)
@click.option("--follow-imports/--no-follow-imports", "follow", default=None, help=FOLLOW_HELP)
def shapes(paths, model_name, input_shapes, fmt, columns, config_path, stdin_filename, python, follow):
    """Per-layer output shapes, parameters and mult-adds of each PyTorch or Keras model in files or
    directories, without running them. A row where a check fails is marked with its finding; the exit code is
    then 1."""
    from .config import ConfigError, Resolver
    from .files import discover, mentions_framework
    from .inputs import parse_spec
    from .lint import INPUT_PROBLEMS, Selection, lint_text
    from .parse import SourceError, decode
    from .positions import Positions
    from .report import summary as views
    from .summary import summarize
    chosen_columns = _columns(columns)
    forced = None
    if input_shapes:
        specs = [s.split(":")[0] for s in input_shapes]
        dtype = "long" if input_shapes[0].endswith(":long") else None
        forced = parse_spec(" ".join(f"({s})" for s in specs))
        if forced is None:
            raise click.BadParameter(f"not a shape: {' '.join(input_shapes)} (use 4,3,32,32 or N,3,H,W)",
                                     param_hint="--input")
        forced = (forced[0], dtype)
    paths = paths or (".",)
    if "-" in paths and len(paths) > 1:
        raise click.UsageError("`-` (read the source from stdin) cannot be combined with other paths")
    try:
        resolver = Resolver(config_path)
    except ConfigError as exc:
        click.echo(f"cnnlint: error: {exc}", err=True)
        sys.exit(2)
    status = 0
    if paths == ("-",):
        sources = [(stdin_filename or "-", sys.stdin.buffer.read(), True)]
    else:
        sources = []
        for raw in paths:
            for path, error in discover([raw]):
                if error:
                    click.echo(f"cnnlint: error: {error}", err=True)
                    status = 2
                    continue
                try:
                    sources.append((str(path), Path(path).read_bytes(), str(path) == raw))
                except OSError as exc:
                    click.echo(f"cnnlint: error: {path}: cannot read the file: {exc.strerror or exc}", err=True)
                    status = 2
    summaries = []
    for path, data, named in sources:
        if not mentions_framework(data):
            if named:
                click.echo(f"cnnlint: {path} imports no deep-learning framework (PyTorch or Keras)", err=True)
                status = 2
            continue
        try:
            cfg = resolver.for_file(path)
            selection = cfg.settings_for(path, cli_python=python, cli_follow=follow)
        except ConfigError as exc:
            click.echo(f"cnnlint: error: {exc}", err=True)
            sys.exit(2)
        try:
            text = decode(data)
            result = lint_text(text, path, selection or Selection(), keep_analysis=True, forced_input=forced)
        except SourceError as exc:
            click.echo(f"cnnlint: error: {path}:{exc.line}:{exc.column}: {exc.message}", err=True)
            status = 2
            continue
        problems = [d for d in result.diagnostics if d.code in INPUT_PROBLEMS]
        if problems:
            for d in problems:
                click.echo(f"cnnlint: error: {d.path}:{d.line}:{d.column}: {d.message}", err=True)
            status = 2
            continue
        if result.analysis is None:
            if named:
                click.echo(f"cnnlint: {path} imports no deep-learning framework (PyTorch or Keras)", err=True)
                status = 2
            continue
        summaries += summarize(result, result.positions or Positions(result.module), text, selection)
    from .config import unmatched_inputs
    for message in unmatched_inputs(resolver, [path for path, _, _ in sources if path != "-"]):
        click.echo(f"cnnlint: error: {message}", err=True)
        status = 2
    if model_name:
        summaries = [s for s in summaries if model_name in (s.name, *s.aliases)]
        if not summaries:
            where = ", ".join(paths)
            click.echo(f"cnnlint: error: no model named {model_name!r} was run in {where}", err=True)
            sys.exit(2)
    if fmt == "table":
        if summaries or status == 0:
            click.echo(views.table(summaries, chosen_columns, show_paths=len(sources) > 1), nl=False)
    elif fmt == "json":
        click.echo(views.as_json(summaries), nl=False)
    else:
        graph = views.dot(summaries)
        if fmt == "dot":
            click.echo(graph, nl=False)
        else:
            import shutil
            import subprocess
            exe = shutil.which("dot")
            if exe is None:
                click.echo("cnnlint: error: --format svg needs Graphviz's `dot`; use --format dot", err=True)
                sys.exit(2)
            click.echo(subprocess.run([exe, "-Tsvg"], input=graph, capture_output=True, text=True).stdout, nl=False)
    if status == 0 and any(s.failed for s in summaries):
        status = 1
    sys.exit(status)


@cli.command()
def lsp():
    """Run the language server on stdio (for editors): diagnostics, hover shapes, inlay hints and quick fixes
    for PyTorch and Keras code."""
    from .lsp import main as serve
    serve()


def main(argv=None):
    """`cnnlint PATH...` means `cnnlint check PATH...`."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or (args[0] not in COMMANDS and args[0] not in ("--version", "--help", "-h")):
        args = ["check"] + args
    cli.main(args=args, prog_name="cnnlint")


if __name__ == "__main__":
    main()

"""The command line: `cnnlint PATH...` (= `cnnlint check PATH...`) and `cnnlint rule CODE`.

Exit codes: 0 nothing at warning or above, 1 findings, 2 a usage error or an input cnnlint could not check
(missing path, unreadable or undecodable file, syntax error, internal error) — the other files are still linted.
"""

from __future__ import annotations

import os
import sys


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


@click.group(invoke_without_command=False, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="cnnlint")
def cli():
    """Static shape analysis for PyTorch model code."""


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
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
def check(paths, output_format, config_path, select, extend_select, ignore, statistics, apply_fix, show_diff,
          unsafe_fixes, exit_zero, jobs, no_cache):
    """Lint files and directories (default: the current directory)."""
    import gc
    # Each file's CST is large and short-lived; the default thresholds make the cyclic collector walk it again
    # and again while it is alive. Fewer, larger collections cost less and keep memory bounded.
    gc.set_threshold(50_000, 20, 20)
    from .config import ConfigError, Resolver, known_codes
    from .diagnostics import SEVERITY_RANK
    from .lint import INPUT_PROBLEMS
    from .report import render
    from .runner import run_paths

    known = known_codes()
    for code in _codes(select) + _codes(ignore) + _codes(extend_select):
        if not any(c.startswith(code) for c in known):
            raise click.UsageError(f"unknown rule code or prefix: {code} (see `cnnlint rule --all`)")
    try:
        resolver = Resolver(config_path)

        def settings_for(path):
            cfg = resolver.for_file(path)
            if cfg.excluded(path):
                return None
            return cfg.settings_for(path, _codes(select), _codes(ignore), _codes(extend_select))

        if show_diff or apply_fix:
            from .fix import fix_paths
            diffs, fixed = fix_paths(paths or ["."], settings_for, unsafe=unsafe_fixes, write=not show_diff)
            if show_diff:
                click.echo("".join(diffs), nl=False)
                click.echo(f"{fixed} fix{'es' * (fixed != 1)} available in {len(diffs)} file"
                           f"{'s' * (len(diffs) != 1)}.", err=True)
                sys.exit(1 if diffs else 0)
            click.echo(f"Fixed {fixed} finding{'s' * (fixed != 1)} in {len(diffs)} file{'s' * (len(diffs) != 1)}.",
                       err=True)
        cache = None
        if not no_cache:
            from .cache import Cache
            cache = Cache()
        results, missing = run_paths(paths or ["."], jobs=jobs, cache=cache, settings_for=settings_for,
                                     progress=_progress if sys.stderr.isatty() else None)
    except ConfigError as exc:
        click.echo(f"cnnlint: error: {exc}", err=True)
        sys.exit(2)
    for message in missing:
        click.echo(f"cnnlint: error: {message}", err=True)
    diagnostics = [d for r in results for d in r.diagnostics]
    checked = sum(1 for r in results if not r.skipped)
    summary = _summary(diagnostics, len(results), checked)
    click.echo(render(output_format, diagnostics, summary), nl=False)
    if statistics:
        click.echo(_statistics(diagnostics), nl=False, err=output_format not in ("full", "concise"))
    if missing or any(d.code in INPUT_PROBLEMS for d in diagnostics):
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


def _summary(diagnostics, files, checked):
    errors = sum(d.severity == "error" for d in diagnostics)
    warnings = sum(d.severity == "warning" for d in diagnostics)
    notes = len(diagnostics) - errors - warnings
    noted = f" ({notes} note{'s' * (notes != 1)})" if notes else ""
    if not errors and not warnings:
        return f"All clear: {files} file{'s' * (files != 1)} read, {checked} with model code, no findings{noted}."
    return (f"Found {errors} error{'s' * (errors != 1)} and {warnings} warning{'s' * (warnings != 1)} "
            f"in {files} file{'s' * (files != 1)}{noted}.")


@cli.command()
@click.argument("code", required=False)
@click.option("--all", "show_all", is_flag=True, help="List every rule.")
def rule(code, show_all):
    """Explain a rule: what it finds, why it is a bug, an example, the fix."""
    from .rules import all_rules, by_code
    if show_all or not code:
        for r in all_rules():
            click.echo(f"{r.code}  {r.name:<28} {r.severity:<8} {r.summary}")
        return
    r = by_code().get(code.upper())
    if r is None:
        raise click.UsageError(f"unknown rule: {code} (see `cnnlint rule --all`)")
    example = r.fires[0].strip() if r.fires else ""
    click.echo(f"{r.code} {r.name} ({r.severity})\n\n{r.summary}.\n\nWhy: {r.why}\n\nExample:\n\n"
               + "\n".join("    " + line for line in example.splitlines())
               + f"\n\nFix: {r.fix}")


@cli.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--model", "model_name", default=None, help="Only this model (class or variable name).")
@click.option("--input", "input_shapes", multiple=True, metavar="SHAPE",
              help="The model's input, like 4,3,32,32 or N,3,H,W (repeat for several inputs; add :long for indices).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "dot", "svg"]), default="table",
              show_default=True)
def shapes(path, model_name, input_shapes, fmt):
    """Per-layer output shapes and parameter counts of each model in a file, without running it."""
    from .inputs import parse_spec
    from .lint import lint_text
    from .parse import SourceError, decode
    from .positions import Positions
    from .report import summary as views
    from .summary import summarize
    forced = None
    if input_shapes:
        specs = [s.split(":")[0] for s in input_shapes]
        dtype = "long" if input_shapes[0].endswith(":long") else None
        forced = parse_spec(" ".join(f"({s})" for s in specs))
        if forced is None:
            raise click.BadParameter(f"not a shape: {' '.join(input_shapes)} (use 4,3,32,32 or N,3,H,W)",
                                     param_hint="--input")
        forced = (forced[0], dtype)
    try:
        text = decode(open(path, "rb").read())
        result = lint_text(text, path, keep_analysis=True, forced_input=forced)
    except SourceError as exc:
        click.echo(f"cnnlint: error: {path}:{exc.line}: {exc.message}", err=True)
        sys.exit(2)
    if result.analysis is None:
        click.echo(f"cnnlint: {path} imports no deep-learning framework", err=True)
        sys.exit(2)
    summaries = summarize(result, result.positions or Positions(result.module))
    if model_name:
        summaries = [s for s in summaries if s.name == model_name]
        if not summaries:
            click.echo(f"cnnlint: error: no model named {model_name!r} was run in {path}", err=True)
            sys.exit(2)
    if fmt == "table":
        click.echo(views.table(summaries), nl=False)
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


@cli.command()
def lsp():
    """Run the language server on stdio (for editors)."""
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

"""Configuration: `[tool.cnnlint]` in pyproject.toml or the top level of cnnlint.toml.

The nearest configuration above each linted file applies (cnnlint.toml before pyproject.toml in one folder; a
pyproject.toml without [tool.cnnlint] is passed over); `--config` names one for every file. Paths in it are
relative to its folder.

    [tool.cnnlint]
    select = ["CNN1", "CNN2"]          # codes or prefixes; default: all
    extend-select = []
    ignore = ["CNN204"]
    exclude = ["generated/", "*_pb2.py"]
    per-file-ignores = { "tests/*" = ["CNN201"] }
    severity = { CNN202 = "error" }    # error | warning | info

    [tool.cnnlint.inputs]
    "pkg/models.py::Net" = "N, 3, 32, 32"

A key it does not know or a value of the wrong kind is a ConfigError: the CLI prints it and exits 2.
"""

from __future__ import annotations

import difflib
import fnmatch
import hashlib
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

KEYS = {"select", "extend-select", "ignore", "exclude", "per-file-ignores", "severity", "inputs", "python",
        "follow-imports"}
SEVERITIES = ("error", "warning", "info")


class ConfigError(Exception):
    pass


@dataclass
class Config:
    path: Path | None = None           # the file it came from
    root: Path = field(default_factory=Path.cwd)
    select: tuple = ()
    extend_select: tuple = ()
    ignore: tuple = ()
    exclude: tuple = ()
    per_file_ignores: dict = field(default_factory=dict)
    severity: dict = field(default_factory=dict)
    inputs: dict = field(default_factory=dict)     # "relative/path.py::Name" -> spec text
    python: str | None = None          # the interpreter whose installed packages imports resolve from
    follow_imports: bool = True
    fingerprint: str = ""

    def relative(self, path) -> str:
        p = Path(path).resolve()
        try:
            return p.relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return p.as_posix()

    def excluded(self, path) -> bool:
        return _matches(self.relative(path), self.exclude)

    def settings_for(self, path, cli_select=(), cli_ignore=(), cli_extend=(), cli_python=None, cli_follow=None):
        """The Selection for one file: CLI --select (and --python, --no-follow-imports) replace the configured
        ones; ignores add up."""
        from .inputs import parse_spec
        from .lint import Selection
        rel = self.relative(path)
        select = tuple(cli_select) or self.select
        extend = tuple(cli_extend) + self.extend_select
        if select and extend:
            select = select + extend
        ignore = tuple(cli_ignore) + self.ignore
        for pattern, codes in self.per_file_ignores.items():
            if _matches(rel, (pattern,)):
                ignore += tuple(codes)
        inputs = {}
        for key, spec in self.inputs.items():
            file_part, _, name = key.partition("::")
            if _matches(rel, (file_part,)):
                text = spec if "(" in spec else f"({spec})"
                parsed = parse_spec(text)
                if parsed is not None:
                    inputs[name] = parsed
        follow = self.follow_imports if cli_follow is None else cli_follow
        return Selection(select, ignore, dict(self.severity), inputs, cli_python or self.python, follow)


def _matches(rel: str, patterns) -> bool:
    for pattern in patterns:
        pattern = pattern.rstrip("/") if pattern.endswith("/") else pattern
        if fnmatch.fnmatch(rel, pattern) or rel.startswith(pattern.rstrip("/") + "/") or \
                fnmatch.fnmatch(Path(rel).name, pattern):
            return True
    return False


def _codes(value, key, known):
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"`{key}` must be a list of rule codes, like [\"CNN101\", \"CNN2\"]")
    out = tuple(v.strip().upper() for v in value)
    for raw, code in zip(value, out):
        if not any(k.startswith(code) for k in known):
            raise ConfigError(f"`{key}`: unknown rule code or prefix {code!r}{suggest_rule(raw)} "
                              f"(see `cnnlint rule --all`)")
    return out


def did_you_mean(word, candidates, cutoff=0.6) -> str:
    """'; did you mean `x`?' for the closest candidate (difflib), or ''."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=cutoff)
    return f"; did you mean `{close[0]}`?" if close else ""


def suggest_rule(text) -> str:
    """'; did you mean `CNN101` (linear-in-features)?' for a rule name written where a code goes, or a misspelt
    code or name; '' when nothing is close."""
    from .lint import INPUT_PROBLEMS, NOTICES
    from .rules import all_rules
    names = {r.name: r.code for r in all_rules()}
    names.update({name: code for code, name in {**INPUT_PROBLEMS, **NOTICES}.items()})
    codes = {code: name for name, code in names.items()}
    word = text.strip()
    if word.lower() in names:
        code = names[word.lower()]
        return f"; did you mean `{code}` ({word.lower()})?"
    code = word.upper().replace("O", "0").replace("I", "1").replace("L", "1").replace("C0NN", "CNN")
    close = difflib.get_close_matches(code, [c for c in codes if len(c) == len(code)], n=1, cutoff=0.8)
    if close:
        return f"; did you mean `{close[0]}` ({codes[close[0]]})?"
    close = difflib.get_close_matches(word.lower(), list(names), n=1, cutoff=0.6)
    if close:
        return f"; did you mean `{names[close[0]]}` ({close[0]})?"
    return ""


def known_codes():
    from .lint import INPUT_PROBLEMS, NOTICES
    from .rules import by_code
    return list(by_code()) + list(INPUT_PROBLEMS) + list(NOTICES)


def parse(table: dict, path: Path) -> Config:
    where = f"{path}"
    unknown = set(table) - KEYS
    if unknown:
        key = sorted(unknown)[0]
        raise ConfigError(f"{where}: unknown key `{key}` in cnnlint's configuration{did_you_mean(key, sorted(KEYS))} "
                          f"(known: {', '.join(sorted(KEYS))})")
    known = known_codes()
    try:
        cfg = Config(path=path, root=path.parent)
        cfg.select = _codes(table.get("select", []), "select", known)
        cfg.extend_select = _codes(table.get("extend-select", []), "extend-select", known)
        cfg.ignore = _codes(table.get("ignore", []), "ignore", known)
        exclude = table.get("exclude", [])
        if not isinstance(exclude, list) or not all(isinstance(e, str) for e in exclude):
            raise ConfigError("`exclude` must be a list of paths or glob patterns")
        cfg.exclude = tuple(exclude)
        pfi = table.get("per-file-ignores", {})
        if not isinstance(pfi, dict):
            raise ConfigError("`per-file-ignores` must be a table: pattern = [codes]")
        cfg.per_file_ignores = {k: _codes(v, f"per-file-ignores.{k}", known) for k, v in pfi.items()}
        sev = table.get("severity", {})
        if not isinstance(sev, dict):
            raise ConfigError("`severity` must be a table: CODE = \"error\" | \"warning\" | \"info\"")
        for code, level in sev.items():
            if code.upper() not in known:
                raise ConfigError(f"`severity`: unknown rule code {code!r}{suggest_rule(code)}")
            if level not in SEVERITIES:
                raise ConfigError(f"`severity.{code}` must be one of {', '.join(SEVERITIES)}, not {level!r}")
        cfg.severity = {k.upper(): v for k, v in sev.items()}
        inputs = table.get("inputs", {})
        if not isinstance(inputs, dict):
            raise ConfigError("`inputs` must be a table: \"path.py::Model\" = \"N, 3, 32, 32\"")
        from .inputs import parse_spec
        for key, spec in inputs.items():
            if "::" not in key:
                raise ConfigError(f"`inputs`: {key!r} must name a model as \"path/to/file.py::ClassName\"")
            if not isinstance(spec, str) or parse_spec(spec if "(" in spec else f"({spec})") is None:
                raise ConfigError(f"`inputs.\"{key}\"` must be a shape like \"N, 3, 32, 32\", not {spec!r}")
        cfg.inputs = dict(inputs)
        python = table.get("python")
        if python is not None:
            if not isinstance(python, str) or not python:
                raise ConfigError("`python` must be the path of a Python interpreter, like \".venv/bin/python\"")
            found = path.parent / python if not Path(python).is_absolute() and "/" in python else Path(python)
            cfg.python = str(found) if found.exists() else python
        follow = table.get("follow-imports", True)
        if not isinstance(follow, bool):
            raise ConfigError("`follow-imports` must be true or false")
        cfg.follow_imports = follow
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return cfg


def load(path) -> Config:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    if path.name == "pyproject.toml":
        table = data.get("tool", {}).get("cnnlint")
        if table is None:
            raise ConfigError(f"{path}: has no [tool.cnnlint] table")
    else:
        table = data
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.cnnlint] must be a table")
    cfg = parse(table, path.resolve())
    cfg.fingerprint = hashlib.sha256(path.read_bytes()).hexdigest()[:16] + str(path.resolve())
    return cfg


class Resolver:
    """The configuration of each file: the nearest one above it, found once per folder."""

    def __init__(self, explicit=None):
        self.explicit = load(explicit) if explicit else None
        self._by_dir: dict = {}

    def for_file(self, path) -> Config:
        if self.explicit is not None:
            return self.explicit
        folder = Path(path).resolve().parent
        return self._find(folder)

    def _find(self, folder: Path) -> Config:
        if folder in self._by_dir:
            return self._by_dir[folder]
        found = None
        for name in ("cnnlint.toml", "pyproject.toml"):
            candidate = folder / name
            if candidate.is_file():
                if name == "pyproject.toml":
                    try:
                        has_table = "cnnlint" in tomllib.loads(candidate.read_text()).get("tool", {})
                    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
                        raise ConfigError(f"{candidate}: not valid TOML: {exc}") from None
                    if not has_table:
                        continue
                found = load(candidate)
                break
        if found is None:
            found = Config(root=Path.cwd()) if folder.parent == folder else self._find(folder.parent)
        self._by_dir[folder] = found
        return found


_DEFINED = re.compile(r"^[ \t]*(?:(?:async[ \t]+)?def[ \t]+(\w+)|class[ \t]+(\w+)|(\w+)[ \t]*(?::[^=\n]*)?=(?!=))", re.M)


def unmatched_inputs(resolver, paths) -> list:
    """Messages for the `[tool.cnnlint.inputs]` keys whose name no linted file they apply to defines (as a class,
    a function or a variable): configuration errors, each named, with a "did you mean". A key whose path matches
    no linted file is not judged (that file was not linted)."""
    applies = {}
    for path in paths:
        try:
            cfg = resolver.for_file(path)
        except ConfigError:
            continue
        for key in cfg.inputs:
            file_part, _, name = key.partition("::")
            if _matches(cfg.relative(path), (file_part,)):
                applies.setdefault((id(cfg), key), (cfg, name, []))[2].append(path)
    messages = []
    for (_, key), (cfg, name, files) in applies.items():
        defined = set()
        for path in files:
            try:
                text = Path(path).read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            defined.update(n for m in _DEFINED.finditer(text) for n in m.groups() if n)
        if name not in defined:
            where = ", ".join(cfg.relative(p) for p in files[:3]) + (" ..." if len(files) > 3 else "")
            messages.append(f"{cfg.path or 'configuration'}: [tool.cnnlint.inputs] \"{key}\": no model, class or "
                            f"variable named `{name}` in {where}{did_you_mean(name, sorted(defined))}")
    return messages

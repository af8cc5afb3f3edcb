"""The rules: one module per rule, registered by being in this package (shipped as ``cnnlint.rules``).

Each module defines ``RULE``, a :class:`cnnlint.rulekit.Rule` with its code, name, severity, docs and the
examples that must fire and must not, and ``check(ctx)``, which reads one run's annotated graph through
:class:`cnnlint.rulekit.RuleContext` and calls ``ctx.report``.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache


@lru_cache(maxsize=None)
def all_rules():
    rules = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        rule = getattr(module, "RULE", None)
        if rule is not None:
            rules.append(rule.__class__(**{**rule.__dict__, "check": module.check}))
    return tuple(sorted(rules, key=lambda r: r.code))


def by_code():
    return {r.code: r for r in all_rules()}

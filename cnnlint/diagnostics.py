"""What cnnlint reports: findings from rules (CST nodes) and diagnostics (positions, ready to print)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Optional


@dataclass
class Fix:
    """Replacements of CST nodes: safe ones only set the flagged value; unsafe ones change more behaviour."""

    description: str
    safe: bool
    replacements: list = field(default_factory=list)    # [(old CST node, new CST node)]


@dataclass
class Finding:
    """A rule's verdict, located by CST node; positions are resolved only for findings that get reported."""

    code: str
    node: Any                                     # CST node of the primary location
    message: str
    related: list = field(default_factory=list)   # [(CST node or None, message)]
    gid: Any = None                               # the graph node judged, when there is one
    fix: Any = None                               # a Fix, when the repair is certain enough to offer


@dataclass
class Related:
    path: str
    line: int
    column: int
    message: str


@dataclass
class Diagnostic:
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    code: str
    rule: str
    severity: str                                 # "error" | "warning" | "info"
    message: str
    related: list = field(default_factory=list)   # [Related]
    source_line: Optional[str] = None
    fix: Optional[dict] = None                    # {"description", "applicability": "safe" | "unsafe"}

    def to_json(self) -> dict:
        data = asdict(self)
        data.pop("source_line")
        return data


SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}

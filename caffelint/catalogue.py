"""The rule catalogue: rules/*.yaml -> RuleSpec.

Each YAML entry holds everything a person reads about a rule (code, name,
severity, tier, fix kind, rationale, options, examples); the rule's module
holds only logic.  `caffelint rules`, `caffelint explain` and docs/rules.md
are all generated from these entries.
"""

from __future__ import annotations

import functools
import importlib
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from caffelint.errors import UsageError
from caffelint.findings import Severity

TIERS = ("minimal", "recommended", "strict")
FIX_KINDS = ("safe", "unsafe", "none")
GROUPS = ("syntax", "net", "solver", "data", "log")
VIEWS = ("file", "net", "solver", "data", "log")
CODE_RE = re.compile(r"^[A-Z]{2,3}\d{3}$")
NAME_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class RuleSpec:
    code: str
    name: str
    group: str
    severity: Severity
    tier: str
    fix: str
    summary: str
    rationale: str
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    cases: tuple[dict[str, Any], ...] = ()
    aliases: tuple[str, ...] = ()
    reported_by: str = ""  # parser, binder, loader, project or engine: no rule module of its own

    @property
    def module_name(self) -> str:
        return f"caffelint.rules.{self.group}.{self.name.replace('-', '_')}"

    def module(self):
        """The rule's module, or None for rules the parser, binder or engine report."""
        if self.reported_by:
            return None
        try:
            return importlib.import_module(self.module_name)
        except ModuleNotFoundError as exc:
            if exc.name == self.module_name:
                return None
            raise

    def checker(self, view: str):
        module = self.module()
        return getattr(module, f"check_{view}", None) if module is not None else None

    def option_defaults(self) -> dict[str, Any]:
        return {k: v.get("default") for k, v in self.options.items()}


class Catalogue:
    def __init__(self, specs: list[RuleSpec]) -> None:
        self.specs = sorted(specs, key=lambda s: s.code)
        self.by_code = {s.code: s for s in self.specs}
        self.by_name = {s.name: s for s in self.specs}
        for spec in self.specs:
            for alias in spec.aliases:
                self.by_code.setdefault(alias, spec)

    def __iter__(self):
        return iter(self.specs)

    def __len__(self) -> int:
        return len(self.specs)

    def get(self, key: str) -> RuleSpec | None:
        return self.by_code.get(key.upper()) or self.by_name.get(key.lower())

    def __getitem__(self, key: str) -> RuleSpec:
        spec = self.get(key)
        if spec is None:
            raise KeyError(key)
        return spec

    def select(self, selector: str) -> list[RuleSpec]:
        """Rules matching a code, a name, a code prefix (NET, NET0) or ALL."""
        key = selector.strip()
        if key.upper() == "ALL":
            return list(self.specs)
        spec = self.get(key)
        if spec is not None:
            return [spec]
        prefix = key.upper()
        matched = [s for s in self.specs if s.code.startswith(prefix)]
        if not matched:
            raise UsageError(f"unknown rule selector {selector!r} (see `caffelint rules`)")
        return matched


def _spec_from_entry(entry: dict[str, Any], origin: str) -> RuleSpec:
    try:
        return RuleSpec(
            code=entry["code"],
            name=entry["name"],
            group=entry["group"],
            severity=Severity.parse(entry["severity"]),
            tier=entry.get("tier", "recommended"),
            fix=entry.get("fix", "none"),
            summary=entry["summary"].strip(),
            rationale=entry.get("rationale", "").strip(),
            options=entry.get("options") or {},
            cases=tuple(entry.get("cases") or ()),
            aliases=tuple(entry.get("aliases") or ()),
            reported_by=entry.get("reported-by", ""),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"{origin}: bad catalogue entry: {exc}") from None


@functools.cache
def load() -> Catalogue:
    """Read every rules/*.yaml shipped with caffelint (package data)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    specs = []
    for item in sorted(resources.files("caffelint.catalogue_data").iterdir(), key=lambda p: p.name):
        if item.name.endswith(".yaml"):
            specs.append(_spec_from_entry(yaml.load(item.read_text("utf-8"), Loader=loader), item.name))
    return Catalogue(specs)

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
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    reported_by: str = ""  # parser, binder, loader, project or engine: no rule module of its own
    origin: str = ""  # the YAML file of the entry

    # The prose and the examples are read from the YAML only when asked for (explain, docs,
    # tests): a check needs neither, and parsing them is most of the catalogue's cost.
    @property
    def rationale(self) -> str:
        return _full_entry(self.origin).get("rationale", "").strip()

    @property
    def cases(self) -> tuple[dict[str, Any], ...]:
        return tuple(_full_entry(self.origin).get("cases") or ())

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


INDEX_KEYS = ("code", "name", "group", "severity", "tier", "fix", "summary", "options", "aliases",
              "reported-by")
INDEX = "index.json"


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
            options=entry.get("options") or {},
            aliases=tuple(entry.get("aliases") or ()),
            reported_by=entry.get("reported-by", ""),
            origin=origin,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"{origin}: bad catalogue entry: {exc}") from None


def _entry_files() -> list:
    folder = resources.files("caffelint.catalogue_data")
    return sorted((p for p in folder.iterdir() if p.name.endswith(".yaml")), key=lambda p: p.name)


@functools.cache
def _full_entry(origin: str) -> dict[str, Any]:
    import yaml

    text = resources.files("caffelint.catalogue_data").joinpath(origin).read_text("utf-8")
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def build_index() -> dict[str, Any]:
    """The fields a check needs, from every entry, with each file's size to detect staleness."""
    files = _entry_files()
    return {
        "files": {p.name: len(p.read_bytes()) for p in files},
        "rules": [{k: v for k, v in _full_entry(p.name).items() if k in INDEX_KEYS} | {"origin": p.name}
                  for p in files],
    }


def _read_index(files: list) -> dict[str, Any] | None:
    """rules/index.json when it matches the entries beside it (names and sizes), else None."""
    import json

    try:
        index = json.loads(resources.files("caffelint.catalogue_data").joinpath(INDEX).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    sizes = index.get("files", {})
    if sorted(sizes) != [p.name for p in files]:
        return None
    for p in files:
        try:
            size = p.stat().st_size
        except (AttributeError, OSError):
            size = len(p.read_bytes())
        if size != sizes[p.name]:
            return None
    return index


@functools.cache
def load() -> Catalogue:
    """The rules shipped with caffelint (package data): rules/index.json, or the YAML entries."""
    files = _entry_files()
    index = _read_index(files)
    if index is not None:
        return Catalogue([_spec_from_entry(e, e["origin"]) for e in index["rules"]])
    return Catalogue([_spec_from_entry(_full_entry(p.name), p.name) for p in files])

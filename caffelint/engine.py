"""The engine: choose the rules in force, run each on its views, stamp findings.

Rules never know their own code or severity: `RuleContext.finding` stamps both
from the catalogue and the configuration.  A rule that crashes becomes one
`internal-error` finding naming the rule and the file; the rest still runs.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from caffelint.catalogue import TIERS, Catalogue, RuleSpec
from caffelint.config import Options
from caffelint.errors import ConfigError
from caffelint.findings import Finding, Fix, Note, Problem, Severity, Span
from caffelint.source import SourceFile


def enabled_rules(catalogue: Catalogue, options: Options, path: str = "") -> list[RuleSpec]:
    """The rules in force: tier (or select), plus extend-select, minus ignore and per-file-ignores."""
    if options.tier not in TIERS:
        raise ConfigError(f"unknown tier {options.tier!r} (use {', '.join(TIERS)})")
    if options.select is not None:
        chosen = {s.code: s for sel in options.select for s in catalogue.select(sel)}
    else:
        level = TIERS.index(options.tier)
        chosen = {s.code: s for s in catalogue if TIERS.index(s.tier) <= level}
    for sel in options.extend_select:
        chosen.update((s.code, s) for s in catalogue.select(sel))
    for sel in options.ignore + (options.ignored_for(path) if path else ()):
        for spec in catalogue.select(sel):
            chosen.pop(spec.code, None)
    return sorted(chosen.values(), key=lambda s: s.code)


def severity_of(spec: RuleSpec, options: Options, catalogue: Catalogue) -> Severity:
    for key, level in options.severity:
        target = catalogue.get(key)
        if target is None:
            raise ConfigError(f"severity: unknown rule {key!r}")
        if target.code == spec.code:
            return Severity.parse(level)
    if spec.name == "data-source-missing" and options.require_data:
        return Severity.ERROR
    return spec.severity


def rule_options(spec: RuleSpec, options: Options) -> dict[str, Any]:
    values = spec.option_defaults()
    for key in (spec.code, spec.name):
        override = options.options_for(key)
        for name, value in override.items():
            if name not in spec.options:
                raise ConfigError(f"rules.{key}: unknown option {name!r} "
                                  f"(known: {', '.join(spec.options) or 'none'})")
            values[name] = value
    return values


@dataclass
class RuleContext:
    """What a rule gets besides its view: its options and a way to report."""

    spec: RuleSpec
    severity: Severity
    source: SourceFile
    options: dict[str, Any]
    run: Any = None  # the Project, for rules that look across files
    enabled: frozenset[str] = frozenset()  # codes of the rules on for this file, for rules that defer to another

    def finding(self, where: Any, message: str, *, fix: Fix | None = None,
                notes: Iterable[tuple[Any, str]] = (), source: SourceFile | None = None) -> Finding:
        """A finding at `where`: a node or Bound (with start/end), a (start, end) pair, an offset,
        or a ready Span (log rules: a training log's text is not kept, only line numbers)."""
        src = source or self.source
        return Finding(
            self.spec.code, self.spec.name, self.severity, message, _span(src, where), fix,
            tuple(Note(_span(src, w), text) for w, text in notes),
        )


def _span(source: SourceFile | None, where: Any) -> Span:
    if isinstance(where, Span):
        return where
    return source.span(*_offsets(where))


def _offsets(where: Any) -> tuple[int, int]:
    if hasattr(where, "start"):
        return where.start, where.end  # a node, a Bound, a token
    if isinstance(where, int):
        return where, where
    return where


@dataclass
class Stamper:
    """Turns Problems from the parser, binder and model into Findings."""

    catalogue: Catalogue
    options: Options
    enabled: set[str] = field(default_factory=set)

    def stamp(self, problem: Problem, source: SourceFile) -> Finding | None:
        spec = self.catalogue.get(problem.rule)
        if spec is None:
            raise KeyError(f"no catalogue entry for {problem.rule!r}")
        if spec.code not in self.enabled:
            return None
        notes = tuple(Note(source.span(s, e), text) for s, e, text in problem.notes)
        return Finding(spec.code, spec.name, severity_of(spec, self.options, self.catalogue),
                       problem.message, source.span(problem.start, problem.end), problem.fix, notes)


def guarded(spec: RuleSpec, source: SourceFile, results: Iterable[Finding], debug: bool,
            catalogue: Catalogue) -> list[Finding]:
    """Run a rule's generator; a crash becomes one internal-error finding."""
    try:
        return list(results)
    except Exception as exc:  # a bug in one rule must not hide the others' findings
        if debug:
            traceback.print_exc()
        internal = catalogue["internal-error"]
        return [Finding(internal.code, internal.name, Severity.ERROR,
                        f"rule {spec.code} {spec.name} crashed: {type(exc).__name__}: {exc}",
                        source.span(0, 0))]

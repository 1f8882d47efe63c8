"""The whole pipeline, top to bottom: files -> parse -> bind -> model -> rules -> findings."""

from __future__ import annotations

from dataclasses import dataclass, field

from caffelint import catalogue as catalogue_mod
from caffelint.config import Options, effective
from caffelint.engine import RuleContext, Stamper, enabled_rules, guarded, rule_options, severity_of
from caffelint.errors import InputError
from caffelint.findings import Finding
from caffelint.model.files import OTHER, ParsedFile
from caffelint.model.project import Project, discover
from caffelint.schema.descriptors import Schema, default_schema, schema_from_proto


@dataclass
class Report:
    findings: list[Finding]
    files: list[ParsedFile] = field(default_factory=list)
    project: Project | None = None


def load_schema(options: Options) -> Schema:
    return schema_from_proto(options.proto) if options.proto else default_schema()


def build_project(paths: list[str], options: Options, texts: dict[str, str] | None = None) -> Project:
    """`texts` maps real paths to text to use instead of the file's (unsaved fixes)."""
    from caffelint.model.forks import unknown_field_hint

    files = discover(paths)
    if not files:
        raise InputError(f"{', '.join(paths)}: no prototxt files found")
    project = Project(load_schema(options), options.root, options.kind, unknown_field_hint)
    project.texts = dict(texts or {})
    for path in files:
        project.add(path)
    project.follow_solvers()
    return project


def check_paths(paths: list[str], options: Options, debug: bool = False,
                texts: dict[str, str] | None = None) -> Report:
    """Lint `paths` (files or folders) and every net their solvers lead to."""
    catalogue = catalogue_mod.load()
    project = build_project(paths, options, texts)
    findings: list[Finding] = []
    for parsed in project.files:
        findings.extend(check_file(parsed, project, options, catalogue, debug))
    findings = _dedupe(findings)
    findings.sort(key=Finding.sort_key)
    return Report(findings, project.files, project)


def check_file(parsed: ParsedFile, project: Project, cli_options: Options, catalogue, debug: bool) -> list[Finding]:
    options = effective(cli_options, parsed.path)
    enabled = [s for s in enabled_rules(catalogue, options, parsed.path) if s.group != "log"]
    stamper = Stamper(catalogue, options, {s.code for s in enabled})
    out: list[Finding] = []
    for problem in parsed.problems + project.extra_problems.get(parsed, []):
        finding = stamper.stamp(problem, parsed.source)
        if finding is not None:
            out.append(finding)
    if parsed.kind == OTHER:
        from caffelint.findings import Problem

        finding = stamper.stamp(Problem("not-caffe-config", 0, 0, f"not checked: {parsed.other_reason}"),
                                parsed.source)
        out += [finding] if finding else []
    else:
        out += _rule_findings(parsed, project, options, enabled, catalogue, debug)
    if not options.no_suppressions:  # on every file: a label map's comment may silence its info too
        from caffelint.suppressions import apply_suppressions

        out = apply_suppressions(out, parsed, stamper)
    return out


def _rule_findings(parsed: ParsedFile, project: Project, options: Options, enabled, catalogue,
                   debug: bool) -> list[Finding]:
    """What the enabled rules find in a net or solver file, through each view of it."""
    out: list[Finding] = []
    views: list[tuple[str, object]] = [("file", parsed)]
    # On a half-parsed file only the file-level rules run (they judge one node at a
    # time); graph, solver and data rules would only guess at what is missing.
    if parsed.doc.error is None:
        views += [("net", view) for view in project.views(parsed)]
        if parsed in project.solvers:
            views.append(("solver", project.solvers[parsed]))
    if parsed.doc.error is None and not options.no_data:
        from caffelint.model.datasource import data_sources

        views += [("data", source) for source in data_sources(project, parsed, options)]
    codes = frozenset(spec.code for spec in enabled)
    for spec in enabled:
        for view_name, view in views:
            checker = spec.checker(view_name)
            if checker is None:
                continue
            ctx = RuleContext(spec, severity_of(spec, options, catalogue), parsed.source,
                              rule_options(spec, options), project, codes)
            out.extend(guarded(spec, parsed.source, checker(view, ctx), debug, catalogue))
    return out


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen = set()
    out = []
    for f in findings:
        key = (f.code, f.span.path, f.span.start.offset, f.span.end.offset, f.message)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out

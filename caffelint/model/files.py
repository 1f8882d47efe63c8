"""Loading one prototxt: read, parse, decide net or solver, bind to the schema."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from caffelint.findings import Problem
from caffelint.schema.binder import bind
from caffelint.schema.bound import Bound
from caffelint.schema.descriptors import Schema
from caffelint.source import BOM, SourceFile
from caffelint.syntax.cst import Document
from caffelint.syntax.parser import parse

NET, SOLVER, OTHER = "net", "solver", "other"
_TEMPLATE = re.compile(r"\{\{|\{%|\$\{|%\([a-z_]+\)[sd]")


@dataclass(eq=False)
class ParsedFile:
    source: SourceFile
    doc: Document
    kind: str
    bound: Bound | None
    problems: list[Problem] = field(default_factory=list)
    other_reason: str = ""

    @property
    def path(self) -> str:
        return self.source.path

    @property
    def has_syntax_error(self) -> bool:
        return self.doc.error is not None or any(p.rule == "syntax-error" for p in self.problems)

    @property
    def is_valid(self) -> bool:
        """True when Caffe's parser would accept the file (no parse or schema error)."""
        return not self.problems


def detect_kind(doc: Document, schema: Schema, path: str = "") -> tuple[str, str]:
    """Net, solver or other, from the top-level field names; returns (kind, reason for other)."""
    names = {f.name.text for f in doc.fields}
    net_fields, solver_fields = schema.net.fields, schema.solver.fields
    net_score = sum(1 for n in names if n in net_fields and n not in solver_fields)
    solver_score = sum(1 for n in names if n in solver_fields and n not in net_fields)
    if net_score > solver_score:
        return NET, ""
    if solver_score > net_score:
        return SOLVER, ""
    base = os.path.basename(path).lower()
    if doc.error is not None and _TEMPLATE.search(doc.text):
        return OTHER, "a template (it holds placeholders such as {{ }} or ${ }), not a net or solver"
    if names and names <= {"item"}:
        return OTHER, "a label map (LabelMap items), not a net or solver"
    if names and not (names & (set(net_fields) | set(solver_fields))):
        return OTHER, "text proto of another message type (none of its fields are net or solver fields)"
    return (SOLVER if "solver" in base else NET), ""


def load(source: SourceFile, schema: Schema, kind: str | None = None, hint=None) -> ParsedFile:
    """Parse and bind one file; problems are reported, never raised."""
    doc = parse(source.text)
    problems: list[Problem] = []
    if source.text.startswith(BOM):
        from caffelint.findings import SAFE, Edit, Fix

        problems.append(Problem("byte-order-mark", 0, 1,
                                "the file starts with a UTF-8 byte order mark, which Caffe's parser rejects",
                                Fix("Remove the byte order mark", SAFE, (Edit(0, 1, ""),))))
    reason = ""
    if kind is None:
        kind, reason = detect_kind(doc, schema, source.path)
    if doc.error is not None:
        err = doc.error
        problems.append(Problem("syntax-error", err.offset, err.end, err.message))
    if kind == OTHER:
        return ParsedFile(source, doc, kind, None, problems, reason)
    root = schema.net if kind == NET else schema.solver
    bound, bind_problems = bind(doc, root, hint)
    problems.extend(bind_problems)
    return ParsedFile(source, doc, kind, bound, problems)

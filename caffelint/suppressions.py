"""Inline suppressions: `# caffelint: disable=...` comments.

    layer {  # caffelint: disable=NET004           this line
    # caffelint: disable=batchnorm-without-scale   alone on a line: the next field (a whole
    layer {                                         block when that line opens one)
    # caffelint: disable=NET004,NET007  ...  # caffelint: enable=NET004,NET007   a range
    # caffelint: disable-file=all                   the whole file

Rules are named by code or name, or `all`.  Directives are read from comments in
the tokens' trivia, so a `#` inside a string is never one.  An own-line `disable=`
becomes a range when a later `enable=` names the same rule (or `all`).  What each
directive suppressed is recorded, so PRS008 unused-suppression can report the
ones that suppress nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from caffelint.findings import Finding

ALL = "all"
END = 1 << 62  # a line number past any file's end
_COMMENT = re.compile(r"#[^\n]*")
_DIRECTIVE = re.compile(r"#\s*caffelint\s*:\s*(?P<verb>[A-Za-z-]+)\s*(?:=\s*(?P<codes>[^\s,]+(?:\s*,\s*[^\s,]+)*))?")
VERBS = ("disable", "enable", "disable-file")


@dataclass(eq=False)
class Code:
    """One rule named in a directive: as written, where, and the code it means (None: no such rule)."""

    text: str
    start: int
    end: int
    code: str | None


@dataclass(eq=False)
class Directive:
    """One `# caffelint: ...` comment."""

    verb: str | None  # None for a comment that starts like a directive but is not one
    codes: list[Code]
    start: int  # the comment's span in the file text
    end: int
    line: int
    own_line: bool
    used: set[str] = field(default_factory=set)  # codes (or "all") that suppressed or closed something
    ranged: bool = False  # an own-line disable that a later enable ends


@dataclass(frozen=True)
class Scope:
    """Lines [first, last] where `code` (or every rule, for "all") is suppressed by `directive`."""

    code: str
    first: int
    last: int
    directive: Directive

    def covers(self, finding: Finding) -> bool:
        return self.first <= finding.span.start.line <= self.last and self.code in (ALL, finding.code)


def read_directives(parsed, catalogue) -> list[Directive]:
    """Every `# caffelint:` comment of the file, in order."""
    if "caffelint" not in parsed.source.text:
        return []  # most files have none: skip the walk over every token
    return [_directive(text, start, line, own_line, catalogue)
            for start, text, line, own_line in comments(parsed) if is_directive(text)]


def comments(parsed):
    """(offset, text, line, alone on its line) of every `#` comment of the file, in order."""
    source = parsed.source
    for token in parsed.doc.tokens:
        if "#" not in token.prefix:
            continue
        base = token.start - len(token.prefix)
        for comment in _COMMENT.finditer(token.prefix):
            start = base + comment.start()
            pos = source.pos(start)
            own_line = source.line_text(pos.line)[: pos.column - 1].strip() == ""
            yield start, comment.group().rstrip("\r"), pos.line, own_line


def is_directive(comment: str) -> bool:
    return re.match(r"#\s*caffelint\s*:", comment) is not None


def _directive(text: str, start: int, line: int, own_line: bool, catalogue) -> Directive:
    m = _DIRECTIVE.match(text)
    verb = m.group("verb").lower() if m else None
    if m is None or verb not in VERBS or not m.group("codes"):
        return Directive(None, [], start, start + len(text), line, own_line)
    codes = []
    for part in re.finditer(r"[^\s,]+", m.group("codes")):
        written = part.group()
        spec = catalogue.get(written)
        code = ALL if written.lower() == ALL else spec.code if spec else None
        offset = start + m.start("codes") + part.start()
        codes.append(Code(written, offset, offset + len(written), code))
    return Directive(verb, codes, start, start + len(text), line, own_line)


def build_scopes(directives: list[Directive], parsed) -> list[Scope]:
    """The line ranges each directive covers."""
    scopes: list[Scope] = []
    enables = [d for d in directives if d.verb == "enable"]
    next_field = _next_field_lines(parsed)
    for d in directives:
        for code in (c.code for c in d.codes if c.code):
            if d.verb == "disable-file":
                scopes.append(Scope(code, 1, END, d))
            elif d.verb == "disable" and d.own_line and (end := _matching_enable(d, code, enables)):
                d.ranged = True
                scopes.append(Scope(code, d.line, end.line, d))
            elif d.verb == "disable" and d.own_line:
                first, last = next_field(d.end)
                scopes.append(Scope(code, first, last, d))
            elif d.verb == "disable":
                scopes.append(Scope(code, d.line, d.line, d))
    return scopes


def _matching_enable(disable: Directive, code: str, enables: list[Directive]) -> Directive | None:
    """The first later enable naming `code` or all; it records that it closed something."""
    for enable in enables:
        if enable.start > disable.start:
            for c in enable.codes:
                if c.code in (code, ALL):
                    enable.used.add(c.code)
                    return enable
    return None


def _next_field_lines(parsed):
    """A function: offset -> the lines of the field (a whole block) that starts at the next token."""
    from caffelint.syntax.cst import walk_fields

    source = parsed.source
    ends: dict[int, int] = {}

    def lines(offset: int) -> tuple[int, int]:
        token = next((t for t in parsed.doc.tokens if t.start >= offset), None)
        if token is None or not token.text:
            return END, END  # nothing follows: the directive covers nothing
        if not ends:
            ends.update((f.start, f.end) for f in walk_fields(parsed.doc.fields))
        end = ends.get(token.start, token.end)
        return source.pos(token.start).line, source.pos(end).line

    return lines


def apply_suppressions(findings: list[Finding], parsed, stamper) -> list[Finding]:
    """Drop the findings in `parsed` that a directive covers; add PRS008 for directives that cover none."""
    from caffelint.rules.syntax.unused_suppression import unused_suppression_findings

    directives = read_directives(parsed, stamper.catalogue)
    if not directives:
        return findings
    scopes = build_scopes(directives, parsed)
    kept = [f for f in findings if not _suppressed(f, parsed.path, scopes)]
    # Unused-suppression findings are findings too (`disable-file=unused-suppression` hides them),
    # so directives naming that rule or `all` are judged after those findings have been matched.
    own = stamper.catalogue["unused-suppression"].code
    for f in unused_suppression_findings(directives, parsed, stamper, defer={own, ALL}):
        _suppressed(f, parsed.path, scopes, exempt=_owner(f, directives))
    unused = unused_suppression_findings(directives, parsed, stamper)
    return kept + [f for f in unused if not _suppressed(f, parsed.path, scopes, exempt=_owner(f, directives))]


def _suppressed(finding: Finding, path: str, scopes: list[Scope], exempt: Directive | None = None) -> bool:
    if finding.path != path:
        return False  # reported in another file: that file's comments decide
    hit = False
    for scope in scopes:
        if scope.directive is not exempt and scope.covers(finding):
            scope.directive.used.add(scope.code)
            hit = True
    return hit


def _owner(finding: Finding, directives: list[Directive]) -> Directive | None:
    """The directive an unused-suppression finding is about (it cannot hide its own report)."""
    return next((d for d in directives if d.start == finding.span.start.offset), None)

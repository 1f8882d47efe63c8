"""`caffelint check --add-noqa`: a `# caffelint: disable=CODE` comment on every line that has a
finding, so that a repository taking caffelint up starts clean and only new findings show.

The comments are small text edits, like fixes: appended to the line, or merged into the
`disable` directive that already ends it.  A line that ends in some other comment gets the
directive in front of that comment, since a directive is read from the start of a comment.
Left alone, and said so: a line whose comment is another directive (`enable`,
`disable-file`, or a misspelt one), and files that do not parse (their comments cannot be
read back).  Unused suppressions are not suppressed in turn: `caffelint fix` removes them.
Every file is re-parsed before it is written, as fixes are.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from caffelint.config import Options
from caffelint.findings import Edit


@dataclass
class NoqaReport:
    added: dict[str, int] = field(default_factory=dict)  # path -> suppressions added there
    notes: list[str] = field(default_factory=list)  # one line each: what was left alone, and why
    errors: list[str] = field(default_factory=list)  # files that could not be written

    @property
    def exit_code(self) -> int:
        return 1 if self.errors else 0


def add_noqa(paths: list[str], options: Options, *, follow_symlinks: bool = False,
             debug: bool = False) -> NoqaReport:
    """Suppress every finding in `paths` (and the nets their solvers use) where it is."""
    from caffelint import catalogue as catalogue_mod
    from caffelint.api import check_paths
    from caffelint.fixing import FileFix, refusal, splice, write_result

    report = check_paths(paths, options, debug)
    catalogue = catalogue_mod.load()
    files = {os.path.realpath(p.path): p for p in report.files}
    wanted: dict[str, dict[int, set[str]]] = {}  # real path -> line -> codes
    out = NoqaReport()
    unused = catalogue["unused-suppression"].code  # about a comment itself: `caffelint fix` removes it
    for finding in report.findings:
        if finding.code == unused:
            continue
        real, line = os.path.realpath(finding.path), finding.span.start.line
        parsed = files.get(real)
        if parsed is None or parsed.doc.error is not None or line < 1:
            out.notes.append(f"{finding.path}:{line}: {finding.code} left as it is: the file does not parse")
            continue
        wanted.setdefault(real, {}).setdefault(line, set()).add(finding.code)
    for real, lines in wanted.items():
        parsed = files[real]
        edits, notes = directive_edits(parsed, lines, catalogue)
        out.notes += notes
        if not edits:
            continue
        added = sum(count for _edit, count in edits)
        edits = [edit for edit, _count in edits]
        before = parsed.source.text
        result = FileFix(parsed.path, before, splice(before, edits))
        problem = refusal(before, result.after, parsed.kind, options)
        if problem:
            out.errors.append(f"{parsed.path}: not written: the comments {problem}")
            continue
        write_result(result, follow_symlinks)
        if result.error:
            out.errors.append(result.error)
        else:
            out.added[parsed.path] = added
    return out


def directive_edits(parsed, lines: dict[int, set[str]], catalogue) -> tuple[list[tuple[Edit, int]], list[str]]:
    """The edits that suppress the codes of each of `lines`, each with how many codes it adds,
    and a note per line left alone."""
    from caffelint.edits import line_end
    from caffelint.suppressions import comments, read_directives

    text = parsed.source.text
    directives = {d.start: d for d in read_directives(parsed, catalogue)}
    trailing = {line: (start, directives.get(start)) for start, _text, line, alone in comments(parsed) if not alone}
    edits, notes = [], []
    for line, codes in sorted(lines.items()):
        listed = ",".join(sorted(codes))
        start, directive = trailing.get(line, (None, None))
        if start is None:  # no comment: append one after the line's last token
            begin = parsed.source.line_starts[line - 1]
            end = line_end(text, begin)
            while end > begin and text[end - 1] in " \t":
                end -= 1
            edits.append((Edit(end, end, f"  # caffelint: disable={listed}"), len(codes)))
        elif directive is None:  # a comment of the user's: the directive goes in front of it
            edits.append((Edit(start, start, f"# caffelint: disable={listed}  "), len(codes)))
        elif directive.verb == "disable":
            named = {c.text for c in directive.codes} | {c.code for c in directive.codes}
            new = sorted(codes - named)
            if new:
                end = directive.codes[-1].end
                edits.append((Edit(end, end, "," + ",".join(new)), len(new)))
        else:
            notes.append(f"{parsed.path}:{line}: {listed} left as it is: the line already ends in another "
                         "caffelint directive")
    return edits, notes


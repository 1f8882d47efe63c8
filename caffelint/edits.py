"""Building blocks for fixes: Edits on a file's text that keep the file's own style.

The functions return Edits (offsets into `SourceFile.text`) that leave the
comments on other lines alone (a removed message block takes the comments
inside it along; say so in the fix's applicability).  Snippets of new text are written with
`\\n` and two spaces per nesting level, e.g. "param {\\n  lr_mult: 0\\n}";
they are re-indented with the file's indentation (tabs or its number of
spaces) and written with its line ending.  Inside a one-line block such as
`{ a: 1 }` a snippet is joined onto one line instead.

Functions here scan the text only from token boundaries outward (white
space, a `#` comment, a line end), so they never mistake a string's
content for structure.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from caffelint.findings import Edit
from caffelint.schema.bound import Bound
from caffelint.source import SourceFile
from caffelint.syntax.cst import Document, Field, Message, Scalar, walk_fields
from caffelint.syntax.lexer import Token, tokenize

SNIPPET_UNIT = "  "  # the indentation step snippets are written with

Block = Message | Document


# -- the file's style ------------------------------------------------------------


def indent_unit(source: SourceFile) -> str:
    """One indentation step of the file: a tab, or its smallest run of leading spaces (2 if none)."""
    return _indent_unit(source.text)


@functools.lru_cache(maxsize=16)
def _indent_unit(text: str) -> str:
    widths = set()
    for indent in re.findall(r"^([ \t]+)\S", text, re.MULTILINE):
        if indent.startswith("\t"):
            return "\t"
        widths.add(len(indent))
    return " " * min(widths) if widths else SNIPPET_UNIT


def quote_of(node: Block | Bound | None) -> str:
    """The quote character the strings under `node` use (`"` when it holds none)."""
    if isinstance(node, Bound):
        node = node.node
    if node is not None:
        for f in walk_fields(node.fields):
            if isinstance(f.value, Scalar) and f.value.is_string:
                return f.value.text[0]
    return '"'


def quote(value: str, like: str = '"') -> str:
    """`value` as a text-format string literal in quote character `like`."""
    escaped = (value.replace("\\", "\\\\").replace(like, "\\" + like)
               .replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t"))
    return f"{like}{escaped}{like}"


def reindent(source: SourceFile, snippet: str, indent: str) -> str:
    """`snippet` with every line moved to `indent`, its levels in the file's unit and newline."""
    unit = indent_unit(source)
    lines = []
    for line in snippet.strip("\n").split("\n"):
        body = line.lstrip(" ")
        if not body:
            lines.append("")
            continue
        levels = (len(line) - len(body)) // len(SNIPPET_UNIT)
        lines.append(indent + unit * levels + body)
    return source.newline.join(lines)


def one_line(snippet: str) -> str:
    """A snippet joined onto one line (for `{ a: 1 }` blocks); it must hold no comment."""
    if any("#" in token.prefix for token in tokenize(snippet)):
        raise ValueError("a snippet with a comment cannot be joined onto one line")
    return " ".join(line.strip() for line in snippet.split("\n") if line.strip())


# -- where things are on their lines ---------------------------------------------


def line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def line_end(text: str, offset: int) -> int:
    """Offset of the line ending (\\r\\n or \\n) of the line holding `offset`, or len(text)."""
    end = text.find("\n", offset)
    if end < 0:
        return len(text)
    return end - 1 if end > 0 and text[end - 1] == "\r" else end


def after_line_end(text: str, offset: int) -> int:
    """The offset where the next line starts (len(text) on the last line)."""
    end = text.find("\n", offset)
    return len(text) if end < 0 else end + 1


def starts_line(text: str, offset: int) -> bool:
    """Only white space before `offset` on its line."""
    return text[line_start(text, offset):offset].strip(" \t") == ""


def rest_is_trivia(text: str, offset: int) -> bool:
    """Only white space or a `#` comment after `offset` on its line (offset is at a token boundary)."""
    rest = text[offset:line_end(text, offset)].lstrip(" \t")
    return rest == "" or rest.startswith("#")


def is_one_line(source: SourceFile, block: Block) -> bool:
    """A message whose braces sit on one line: `{ a: 1 }`."""
    return (isinstance(block, Message) and block.close is not None
            and "\n" not in source.text[block.open.start:block.close.start])


def end_with_separator(source: SourceFile, node: Field | Message) -> int:
    """The end of `node`, with a `,` or `;` right after it (text format allows both)."""
    if isinstance(node, Field):
        return node.full_end
    text = source.text
    i = node.end
    while i < len(text) and text[i] in " \t":
        i += 1
    return i + 1 if i < len(text) and text[i] in ",;" else node.end


def field_indent(source: SourceFile, block: Block, anchor: Field | None = None) -> str:
    """The indentation of fields inside `block`: the anchor's, a sibling's, or one step in."""
    text = source.text
    if anchor is not None and starts_line(text, anchor.start):
        return source.indent_of_line(anchor.start)
    for f in block.fields:
        if starts_line(text, f.start):
            return source.indent_of_line(f.start)
    if isinstance(block, Document):
        return ""
    return source.indent_of_line(block.open.start) + indent_unit(source)


# -- the edits -------------------------------------------------------------------


def insert_field(source: SourceFile, block: Block | Bound, snippet: str, *,
                 after: Field | None = None, before: Field | None = None) -> Edit:
    """Insert `snippet` (one field, or several) into `block`: last, after `after`, or before `before`.

    In a multi-line block the snippet gets lines of its own at the fields'
    indentation; in a one-line block, an empty one included, it is joined in
    with single spaces.
    """
    if isinstance(block, Bound):
        block = block.node
    text, nl = source.text, source.newline
    if isinstance(block, Message) and block.close is None:
        raise ValueError("cannot insert into a message that is not closed")
    if is_one_line(source, block):
        flat = one_line(snippet)
        if before is not None:
            return Edit(before.start, before.start, flat + " ")
        anchor = after or (block.fields[-1] if block.fields else None)
        if anchor is None:
            return Edit(block.open.end, block.close.start, f" {flat} ")
        return Edit(anchor.full_end, anchor.full_end, " " + flat)
    if before is not None:
        if starts_line(text, before.start):
            at = line_start(text, before.start)
            return Edit(at, at, reindent(source, snippet, field_indent(source, block, before)) + nl)
        return Edit(before.start, before.start, one_line(snippet) + " ")
    anchor = after or (block.fields[-1] if block.fields else None)
    if anchor is None:
        if isinstance(block, Document):
            at = len(text)
            lead = "" if not text or text.endswith("\n") else nl
            return Edit(at, at, lead + reindent(source, snippet, "") + nl)
        at = line_end(text, block.open.end)
        return Edit(at, at, nl + reindent(source, snippet, field_indent(source, block)))
    end = anchor.full_end
    if rest_is_trivia(text, end):
        at = line_end(text, end)
        return Edit(at, at, nl + reindent(source, snippet, field_indent(source, block, anchor)))
    return Edit(end, end, " " + one_line(snippet))


def set_value(source: SourceFile, node: Field | Scalar, value: str) -> Edit:
    """Replace a scalar value (all adjacent string pieces of it) with the literal `value`.

    A comment after it that lines up with a comment on the line above or
    below stays in that column.
    """
    item = node.value if isinstance(node, Field) else node
    if not isinstance(item, Scalar):
        raise ValueError("set_value replaces scalar values only")
    return replace_keeping_comment_column(source, item.start, item.end, value)


def replace_keeping_comment_column(source: SourceFile, start: int, end: int, new: str) -> Edit:
    """Edit(start, end, new), with the spaces before an aligned trailing comment adjusted to keep it aligned."""
    text = source.text
    gap_end = end
    while gap_end < len(text) and text[gap_end] == " ":
        gap_end += 1
    gap = gap_end - end
    if gap == 0 or not text.startswith("#", gap_end) or "\n" in text[start:end]:
        return Edit(start, end, new)
    column = gap_end - line_start(text, gap_end)
    if not _comment_at_column(text, gap_end, column):
        return Edit(start, end, new)
    new_gap = gap - (len(new) - (end - start))
    return Edit(start, gap_end, new + " " * new_gap) if new_gap >= 1 else Edit(start, end, new)


def _comment_at_column(text: str, offset: int, column: int) -> bool:
    """Does the line above or below the one holding `offset` have a `#` at `column`?"""
    first = line_start(text, offset)
    above = line_start(text, first - 1) if first > 0 else None
    below = after_line_end(text, offset)
    for begin in (above, below if below < len(text) else None):
        if begin is not None:
            line = text[begin:line_end(text, begin)]
            if len(line) > column and line[column] == "#" and line[:column].strip():
                return True
    return False


def set_string(source: SourceFile, node: Field | Scalar, value: str) -> Edit:
    """Replace a string value, keeping the quote character it was written with."""
    item = node.value if isinstance(node, Field) else node
    like = item.text[0] if isinstance(item, Scalar) and item.is_string else '"'
    return set_value(source, node, quote(value, like))


def set_field(source: SourceFile, bound: Bound, dotted: str, value: str) -> Edit:
    """Set `dotted` (e.g. "data_param.backend") under `bound` to the literal `value`.

    An existing value is replaced; otherwise the field, and any missing
    message on the way to it, is inserted into the deepest message written.
    """
    names = dotted.split(".")
    node = bound
    depth = 0
    while depth < len(names) - 1 and node.msg(names[depth]) is not None:
        node = node.msg(names[depth])
        depth += 1
    if depth == len(names) - 1 and node.has(names[-1]):
        return set_value(source, node.entry(names[-1]).item, value)
    snippet = f"{names[-1]}: {value}"
    for name in reversed(names[depth:-1]):
        inner = "\n".join(SNIPPET_UNIT + line for line in snippet.split("\n"))
        snippet = f"{name} {{\n{inner}\n}}"
    return insert_field(source, node, snippet)


def remove_field(source: SourceFile, field: Field) -> Edit:
    """Delete `field` (its separator too).

    Alone on its line(s), the lines go; a comment after it on its last line
    stays where it was.  Beside other fields, the field and the spaces that
    joined it to them go.  Comments on other lines stay; comments inside a
    removed message block go with it.
    """
    return remove_span(source, field.start, field.full_end)


def remove_span(source: SourceFile, start: int, end: int) -> Edit:
    """Delete text[start:end] (whole fields), with its line or the spaces that joined it to others."""
    text = source.text
    alone_before = starts_line(text, start)
    tail = text[end:line_end(text, end)]
    rest = tail.lstrip(" \t")
    if alone_before and rest == "":
        first, after = line_start(text, start), after_line_end(text, end)
        if _blank_line_before(text, first) and _is_blank_or_eof(text, after):
            first = line_start(text, first - 1)  # do not leave two blank lines where one was
        return Edit(first, after, "")
    if alone_before:  # a trailing comment: keep it on the line, at the field's indentation
        return Edit(start, end + len(tail) - len(rest), "")
    if rest == "" or rest.startswith("#"):
        before = text[line_start(text, start):start]
        return Edit(start - (len(before) - len(before.rstrip(" \t"))), end, "")
    return Edit(start, end + len(tail) - len(rest), "")


def insert_after(source: SourceFile, node: Field | Message, snippet: str) -> Edit:
    """Insert `snippet` as a sibling right after `node`: on lines of its own when `node` ends its
    line (keeping a blank line between blocks when the file separates them so), else inline."""
    text, nl = source.text, source.newline
    end = end_with_separator(source, node)
    if not rest_is_trivia(text, end):
        return Edit(end, end, " " + one_line(snippet))
    indent = source.indent_of_line(node.start)
    at = line_end(text, end)
    start_line = line_start(text, node.start)
    spaced = _is_blank_line(text, after_line_end(text, end)) or _blank_line_before(text, start_line)
    return Edit(at, at, nl + (nl if spaced else "") + reindent(source, snippet, indent))


def insert_layer_after(source: SourceFile, layer: Field | Message, snippet: str) -> Edit:
    """Insert a whole layer block (`layer { ... }` snippet) after `layer`."""
    return insert_after(source, layer, snippet)


def rename(token: Token | Field, new: str) -> Edit:
    """Replace one token (a field's name when given a Field) with `new`."""
    if isinstance(token, Field):
        token = token.name
    return Edit(token.start, token.end, new)


def trailing_comment(source: SourceFile, end: int) -> str:
    """The `#` comment after offset `end` on its line, with the spaces before it ("" if none)."""
    text = source.text
    tail = text[end:line_end(text, end)]
    return tail.rstrip() if tail.lstrip(" \t").startswith("#") else ""


def comments_in(source: SourceFile, start: int, end: int) -> list[str]:
    """Every `#` comment in text[start:end] (which must start at a token boundary), in order."""
    found = []
    for token in tokenize(source.text[start:end]):
        found.extend(line.strip() for line in token.prefix.split("\n") if line.strip().startswith("#"))
    return found


def alone_on_line(source: SourceFile, field: Field) -> bool:
    """Nothing but white space before `field` and white space or a comment after it."""
    return starts_line(source.text, field.start) and rest_is_trivia(source.text, field.full_end)


def replace_fields(source: SourceFile, fields: list[Field], lines: list[tuple[str, Field | None]]) -> list[Edit]:
    """Replace `fields` (siblings) by new text at the place of the first one.

    `lines` is the snippet, one (line, origin) pair per line: a field alone
    on its line is removed with it, and its trailing comment moves to the
    first snippet line whose origin it is (or after the snippet), so no
    comment is lost.  When the first field shares its line with others the
    snippet goes in on that line and comments stay where they are.
    """
    text = source.text
    fields = sorted(set(fields), key=lambda f: f.start)
    first = fields[0]
    if not alone_on_line(source, first):
        runs: list[list[Field]] = []  # fields separated by spaces only go as one stretch
        for f in fields:
            if runs and text[runs[-1][1].full_end:f.start].strip(" \t") == "":
                runs[-1][1] = f
            else:
                runs.append([f, f])
        (head, last), *rest = runs
        edits = [Edit(head.start, last.full_end, one_line("\n".join(line for line, _ in lines)))]
        return merge_edits(edits + [remove_span(source, a.start, b.full_end) for a, b in rest])
    carried: dict[Field, str] = {}
    edits = []
    for f in fields:
        if not alone_on_line(source, f):
            edits.append(remove_field(source, f))
            continue
        carried[f] = trailing_comment(source, f.full_end)
        inner = comments_in(source, f.start, f.full_end)  # inside a message value
        carried.update({_Inner(f, i): c for i, c in enumerate(inner)})
        if f is not first:
            edits.append(Edit(line_start(text, f.start), after_line_end(text, f.full_end), ""))
    body = []
    for line, origin in lines:
        comment = carried.pop(origin, "") if origin is not None else ""
        body.append(line + comment)
    body.extend(c.strip() for c in carried.values() if c)
    indent = source.indent_of_line(first.start)
    edits.append(Edit(line_start(text, first.start), line_end(text, first.full_end),
                      reindent(source, "\n".join(body), indent)))
    return merge_edits(edits)


@dataclass(frozen=True)
class _Inner:
    """Key for a comment inside a replaced field's value (it goes after the snippet)."""

    field: Field
    index: int


def merge_edits(edits: list[Edit]) -> list[Edit]:
    """Sorted edits with overlapping deletions joined (a replacement keeps its text)."""
    out: list[Edit] = []
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        if out and edit.start < out[-1].end:
            last = out[-1]
            if last.text and edit.text:
                raise ValueError(f"overlapping replacements at {last.start} and {edit.start}")
            out[-1] = Edit(last.start, max(last.end, edit.end), last.text or edit.text)
        else:
            out.append(edit)
    return out


# -- helpers ---------------------------------------------------------------------


def _is_blank_line(text: str, offset: int) -> bool:
    return offset < len(text) and text[offset:line_end(text, offset)].strip(" \t") == ""


def _is_blank_or_eof(text: str, offset: int) -> bool:
    return offset >= len(text) or _is_blank_line(text, offset)


def _blank_line_before(text: str, first: int) -> bool:
    """The line before the one starting at `first` is blank."""
    if first == 0:
        return False
    return _is_blank_line(text, line_start(text, first - 1))

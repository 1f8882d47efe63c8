"""Binder: resolve every Field of a Document against a message schema.

The result is a tree of `Bound` messages plus Problems for what Caffe's parser
would refuse (unknown fields, wrong value kinds, bad values, singular fields
given twice), checked in the order text format checks them.  A field with a
problem is left out of the bound tree, so later stages see only valid values.
"""

from __future__ import annotations

from caffelint.findings import SAFE, Edit, Fix, Problem
from caffelint.schema import suggest
from caffelint.schema.bound import Bound, Entry
from caffelint.schema.descriptors import FieldSchema, MessageSchema
from caffelint.schema.values import convert
from caffelint.syntax.cst import Document, Field, ListValue, Message, Scalar
from caffelint.syntax.parser import gc_paused

_new = tuple.__new__

class Binder:
    """Binds one document; `hint(message, name)` may explain an unknown field (e.g. a fork's)."""

    def __init__(self, hint=None, text: str = "") -> None:
        self.text = text
        self.problems: list[Problem] = []
        self._hint = hint

    def bind(self, node: Document | Message, schema: MessageSchema) -> Bound:
        bound = Bound(schema, node)
        fields_by_name = schema.fields
        entries = bound.entries
        for f in node.fields:
            name_token, colon, value = f[0], f[1], f[2]
            key = name_token[1]  # the token's text (tuple indexing: this loop is the binder's hot path)
            field = fields_by_name.get(key)
            if field is None:
                self._unknown(f, schema)
                continue
            value_type = type(value)
            if value_type is Scalar and not field.is_message and colon is not None and len(value) == 1:
                # The common cases, inlined: one token for a scalar field ...
                try:
                    new = [_new(Entry, (field, f, value, field.convert(value[0][1])))]
                except ValueError as exc:
                    self._invalid(f, field, value, str(exc))
                    continue
            elif value_type is Message and field.is_message:
                # ... and one block for a message field.
                new = [_new(Entry, (field, f, value, self.bind(value, field.message)))]
            else:
                if type(value) is ListValue:
                    if not field.repeated:
                        self._problem("invalid-value", f,
                                      f"{field.name} is not repeated: a list is not allowed here")
                        continue
                    items = value.items
                else:
                    items = (value,)
                if field.is_message:
                    new = self._bind_messages(f, field, items)
                else:
                    new = self._bind_scalars(f, field, items)
                if not new:
                    continue
            previous = entries.get(key)
            if previous is None:
                entries[key] = new
            elif field.repeated:
                previous.extend(new)
            else:
                first = previous[0].node
                self._problem(
                    "duplicate-field", f,
                    f"{field.name} is set twice in {schema.name} (it is not repeated; Caffe refuses the file)",
                    notes=((first.start, first.end, "first set here"),),
                )
        return bound

    # -- helpers -----------------------------------------------------------------

    def _bind_messages(self, f: Field, field: FieldSchema, items) -> list[Entry]:
        out = []
        for item in items:
            if not isinstance(item, Message):
                self._problem("invalid-value", f,
                              f"{field.name} is a message ({field.message.name}): expected '{{', "
                              f"found {item.text}", start=item.start, end=item.end)
                return out
            out.append(Entry(field, f, item, self.bind(item, field.message)))
        return out

    def _bind_scalars(self, f: Field, field: FieldSchema, items) -> list[Entry]:
        if f.colon is None:
            at = f.value
            self._problem("syntax-error", f, f"expected ':' after {field.name}", start=at.start, end=at.start)
            return []
        out = []
        for item in items:
            if isinstance(item, Message):
                self._problem("invalid-value", f,
                              f"{field.name} takes a {field.type_name}, not a message",
                              start=item.start, end=item.open.end)
                return out
            try:
                value = convert([t.text for t in item.tokens], field)
            except ValueError as exc:
                self._invalid(f, field, item, str(exc))
                return out
            out.append(Entry(field, f, item, value))
        return out

    def _invalid(self, f: Field, field: FieldSchema, item: Scalar, message: str) -> None:
        fix = None
        if field.type_name == "enum":
            close = suggest.close_matches(item.text.strip("'\""), list(field.enum.by_name))
            message = f"{field.name}: {message}"
            if close:
                message += f"; did you mean {close[0]}?" if len(close) == 1 else \
                    f"; did you mean one of {', '.join(close)}?"
            if len(close) == 1:
                fix = Fix(f"Use {close[0]}", SAFE, (self._replace(item.start, item.end, close[0]),))
        else:
            message = f"{field.name}: {message}"
        self._problem("invalid-value", f, message, start=item.start, end=item.end, fix=fix)

    def _unknown(self, f: Field, schema: MessageSchema) -> None:
        name = f.name.text
        message = f"{schema.name} has no field {name!r}"
        hint = self._hint(schema, name) if self._hint else None
        close = [] if hint else suggest.close_matches(name, list(schema.fields))
        fix = None
        if hint:
            message += f" ({hint})"
        elif close:
            message += f"; did you mean {close[0]!r}?" if len(close) == 1 else \
                f"; did you mean one of {', '.join(repr(c) for c in close)}?"
            if len(close) == 1:
                fix = Fix(f"Rename to {close[0]}", SAFE, (self._replace(f.name.start, f.name.end, close[0]),))
        self._problem("unknown-field", f, message, start=f.name.start, end=f.name.end, fix=fix)

    def _replace(self, start: int, end: int, new: str) -> Edit:
        """An edit that keeps an aligned trailing comment in its column."""
        from caffelint.edits import replace_keeping_comment_column
        from caffelint.source import SourceFile

        return replace_keeping_comment_column(SourceFile("", self.text), start, end, new)

    def _problem(self, rule: str, f: Field, message: str, *, start: int | None = None,
                 end: int | None = None, fix: Fix | None = None, notes=()) -> None:
        self.problems.append(Problem(
            rule, f.name.start if start is None else start, f.name.end if end is None else end,
            message, fix, notes,
        ))


def bind(doc: Document, schema: MessageSchema, hint=None) -> tuple[Bound, list[Problem]]:
    """Bind `doc` as a `schema` message; return the bound tree and the problems found."""
    binder = Binder(hint, doc.text)
    with gc_paused():
        bound = binder.bind(doc, schema)
    return bound, binder.problems

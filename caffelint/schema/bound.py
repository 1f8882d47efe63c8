"""Bound messages: CST nodes paired with their schema and converted values.

Rules read values through `Bound` (which knows Caffe's defaults) and point at
places through the nodes it keeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from operator import itemgetter
from typing import Any

from caffelint.schema.descriptors import FieldSchema, MessageSchema
from caffelint.syntax.cst import Document, Field, Message, Scalar

_MISSING = object()


class Entry(tuple):
    """One value of a field as written: the Field node, the value node and the value."""

    __slots__ = ()
    field: FieldSchema = property(itemgetter(0))  # type: ignore[assignment]
    node: Field = property(itemgetter(1))  # type: ignore[assignment]
    item: Scalar | Message = property(itemgetter(2))  # type: ignore[assignment]
    value: Any = property(itemgetter(3))  # type: ignore[assignment]

    def __new__(cls, field: FieldSchema, node: Field, item: Scalar | Message, value: Any) -> Entry:
        return tuple.__new__(cls, (field, node, item, value))

    __eq__ = object.__eq__  # type: ignore[assignment]
    __ne__ = object.__ne__  # type: ignore[assignment]
    __hash__ = object.__hash__  # type: ignore[assignment]


class Bound:
    """A message as written: fields by name, in file order, with Caffe's defaults behind them."""

    __slots__ = ("schema", "node", "entries")

    def __init__(self, schema: MessageSchema, node: Document | Message) -> None:
        self.schema = schema
        self.node = node
        self.entries: dict[str, list[Entry]] = {}

    def has(self, name: str) -> bool:
        return name in self.entries

    def get(self, name: str, default: Any = _MISSING) -> Any:
        """The value as written (the last one for a repeated name) or Caffe's default."""
        found = self.entries.get(name)
        if found:
            return found[-1].value
        if default is not _MISSING:
            return default
        field = self.schema.fields.get(name)
        if field is None:
            raise KeyError(f"{self.schema.full_name} has no field {name!r}")
        if field.repeated:
            return []
        return field.default

    def all(self, name: str) -> list[Any]:
        return [e.value for e in self.entries.get(name, ())]

    def msg(self, name: str) -> Bound | None:
        """A singular sub-message as written, or None."""
        found = self.entries.get(name)
        return found[-1].value if found else None

    def entry(self, name: str) -> Entry | None:
        found = self.entries.get(name)
        return found[-1] if found else None

    def entries_of(self, name: str) -> list[Entry]:
        return self.entries.get(name, [])

    def path(self, dotted: str, default: Any = _MISSING) -> Any:
        """`get` through sub-messages: bound.path("transform_param.scale")."""
        node: Bound | None = self
        *heads, last = dotted.split(".")
        for head in heads:
            node = node.msg(head) if node is not None else None
        if node is None:
            if default is not _MISSING:
                return default
            schema = self.schema
            for head in heads:
                schema = schema.fields[head].message
            field = schema.fields[last]
            return [] if field.repeated else field.default
        return node.get(last, default)

    def __iter__(self) -> Iterator[Entry]:
        """Every entry in file order."""
        flat = [e for entries in self.entries.values() for e in entries]
        flat.sort(key=lambda e: e.item.start)
        return iter(flat)

    @property
    def start(self) -> int:
        return self.node.start

    @property
    def end(self) -> int:
        return self.node.end

    def __repr__(self) -> str:
        return f"<Bound {self.schema.name} at {self.node.start}>"

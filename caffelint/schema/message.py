"""Build the protobuf message a Bound tree stands for (to compare with text_format)."""

from __future__ import annotations

from typing import Any

from caffelint.schema.bound import Bound


def to_message(bound: Bound, message: Any) -> Any:
    """Fill the empty protobuf `message` from `bound`; returns it."""
    for name, entries in bound.entries.items():
        field = entries[0].field
        if field.is_message:
            if field.repeated:
                container = getattr(message, name)
                for entry in entries:
                    to_message(entry.value, container.add())
            else:
                sub = getattr(message, name)
                sub.SetInParent()
                to_message(entries[-1].value, sub)
        elif field.repeated:
            getattr(message, name).extend(_wire(e) for e in entries)
        else:
            setattr(message, name, _wire(entries[-1]))
    return message


def _wire(entry) -> Any:
    field = entry.field
    if field.type_name == "enum":
        return field.enum.by_name[entry.value]
    return entry.value

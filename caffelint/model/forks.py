"""Fields that only forks of Caffe define, to explain an unknown-field finding."""

from __future__ import annotations


def unknown_field_hint(message, name: str) -> str | None:
    """Name the fork defining `message.name`, if it is a known fork-only field."""
    return None

"""Findings, fixes and edits: the values every stage after parsing passes along."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum


class Severity(IntEnum):
    """How bad a finding is; ordered so that thresholds compare naturally."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r} (use error, warning or info)") from None

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True, order=True)
class Pos:
    """A place in a file: 1-based line and column (columns count code points)."""

    line: int
    column: int
    offset: int = 0


@dataclass(frozen=True, slots=True)
class Span:
    path: str
    start: Pos
    end: Pos


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace text[start:end] (offsets into the decoded file text) with `text`."""

    start: int
    end: int
    text: str


SAFE = "safe"
UNSAFE = "unsafe"
DISPLAY = "display"


@dataclass(frozen=True, slots=True)
class Fix:
    """A correction: an imperative title and non-overlapping edits on one file."""

    title: str
    applicability: str
    edits: tuple[Edit, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "edits", tuple(sorted(self.edits, key=lambda e: (e.start, e.end))))


@dataclass(frozen=True, slots=True)
class Note:
    """A related place, e.g. where a blob was first produced."""

    span: Span
    message: str


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    name: str
    severity: Severity
    message: str
    span: Span
    fix: Fix | None = None
    notes: tuple[Note, ...] = field(default=())

    @property
    def path(self) -> str:
        return self.span.path

    def sort_key(self) -> tuple:
        return (self.span.path, self.span.start.line, self.span.start.column, self.code, self.message)


@dataclass(frozen=True, slots=True)
class Problem:
    """A finding before the engine stamps it: rule name, offsets in one text, message.

    Lower layers (parser, binder, model) report Problems; they know neither codes nor
    severities, which come from the catalogue and the user's configuration.
    """

    rule: str
    start: int
    end: int
    message: str
    fix: Fix | None = None
    notes: tuple[tuple[int, int, str], ...] = ()

"""Concrete syntax tree nodes.  They hold tokens, so no syntax choice is lost.

Nodes are immutable tuples over the token list of a Document, compared by identity.  Offsets are into
the decoded text; line and column come from the SourceFile's line index.
Fixes never edit nodes: they edit text, which is then parsed again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from operator import itemgetter

from caffelint.syntax.lexer import STRING, Token

_new = tuple.__new__  # nodes are tuples built without a Python-level __init__: parsing is hot


class Scalar(tuple):
    """A scalar value: a tuple of one token, or of several adjacent string literals."""

    __slots__ = ()

    @property
    def tokens(self) -> tuple[Token, ...]:
        return tuple(self)

    @property
    def start(self) -> int:
        return self[0].start

    @property
    def end(self) -> int:
        return self[-1].end

    @property
    def text(self) -> str:
        """The first token's text (the value as written, quotes included)."""
        return self[0].text

    @property
    def is_string(self) -> bool:
        return self[0].kind == STRING

    def __repr__(self) -> str:
        return f"Scalar({' '.join(t.text for t in self)})"


class _Block(tuple):
    """A bracketed node: (open token, children, close token or None when the file ends first)."""

    __slots__ = ()
    open: Token = property(itemgetter(0))  # type: ignore[assignment]
    close: Token | None = property(itemgetter(2))  # type: ignore[assignment]

    def __new__(cls, open: Token, children: tuple, close: Token | None):
        return _new(cls, (open, children, close))

    @property
    def start(self) -> int:
        return self[0].start

    @property
    def end(self) -> int:
        return self[2].end if self[2] is not None else _open_end(self)


class Message(_Block):
    """`{ fields }` or `< fields >`."""

    __slots__ = ()
    fields: tuple[Field, ...] = property(itemgetter(1))  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Message({len(self.fields)} fields at {self.start})"


class ListValue(_Block):
    """`[a, b, ...]`: items are Scalars or Messages."""

    __slots__ = ()
    items: tuple[Scalar | Message, ...] = property(itemgetter(1))  # type: ignore[assignment]


def _open_end(node: Message | ListValue) -> int:
    """Where an unclosed block ends: the end of its last descendant, found without recursion
    (a truncated file may leave thousands of blocks open)."""
    while True:
        if node[2] is not None:
            return node[2].end
        children = node[1]
        if not children:
            return node[0].end
        last = children[-1]
        value = last[2] if type(last) is Field else last
        if type(value) is Scalar:
            return value.end
        node = value


Value = Scalar | Message | ListValue


class Field(tuple):
    """`name [:] value [,;]`."""

    __slots__ = ()
    name: Token = property(itemgetter(0))  # type: ignore[assignment]
    colon: Token | None = property(itemgetter(1))  # type: ignore[assignment]
    value: Value = property(itemgetter(2))  # type: ignore[assignment]
    separator: Token | None = property(itemgetter(3))  # type: ignore[assignment]

    def __new__(cls, name: Token, colon: Token | None, value: Value, separator: Token | None) -> Field:
        return _new(cls, (name, colon, value, separator))

    @property
    def key(self) -> str:
        return self[0].text

    @property
    def start(self) -> int:
        return self[0].start

    @property
    def end(self) -> int:
        """End of the value (a trailing separator is not part of the field's span)."""
        return self[2].end

    @property
    def full_end(self) -> int:
        return self[3].end if self[3] is not None else self[2].end

    def __repr__(self) -> str:
        return f"Field({self.key} at {self.start})"

    # Nodes are compared by identity: two equal-looking fields are still two places.
    __eq__ = object.__eq__  # type: ignore[assignment]
    __ne__ = object.__ne__  # type: ignore[assignment]
    __hash__ = object.__hash__  # type: ignore[assignment]


for _node in (Scalar, Message, ListValue):
    _node.__eq__ = object.__eq__  # type: ignore[method-assign]
    _node.__ne__ = object.__ne__  # type: ignore[method-assign]
    _node.__hash__ = object.__hash__  # type: ignore[method-assign]


@dataclass(frozen=True, slots=True)
class SyntaxProblem:
    """The first place where the text stops being text format."""

    offset: int
    end: int
    message: str


@dataclass(frozen=True, slots=True, eq=False)
class Document:
    """A whole file: its tokens (the lossless record) and its top-level fields."""

    text: str
    tokens: tuple[Token, ...]
    fields: tuple[Field, ...]
    error: SyntaxProblem | None

    def __str__(self) -> str:
        return "".join([t.prefix + t.text for t in self.tokens])

    @property
    def start(self) -> int:
        return 0

    @property
    def end(self) -> int:
        return len(self.text)

    @property
    def eof(self) -> Token:
        return self.tokens[-1]


def walk_fields(fields: tuple[Field, ...]) -> Iterator[Field]:
    """Every field below `fields`, depth first, in file order."""
    stack = [iter(fields)]
    while stack:
        for f in stack[-1]:
            yield f
            value = f.value
            if isinstance(value, Message):
                stack.append(iter(value.fields))
                break
            if isinstance(value, ListValue):
                nested = [m for m in value.items if isinstance(m, Message)]
                if nested:
                    stack.append(iter([g for m in nested for g in m.fields]))
                    break
        else:
            stack.pop()



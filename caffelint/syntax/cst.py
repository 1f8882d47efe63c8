"""Concrete syntax tree nodes.  They hold tokens, so no syntax choice is lost.

Nodes are immutable views over the token list of a Document.  Offsets are into
the decoded text; line and column come from the SourceFile's line index.
Fixes never edit nodes: they edit text, which is then parsed again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from caffelint.syntax.lexer import EOF, STRING, Token


@dataclass(frozen=True, slots=True, eq=False)
class Scalar:
    """A scalar value: one token, or several adjacent string literals."""

    tokens: tuple[Token, ...]

    @property
    def start(self) -> int:
        return self.tokens[0].start

    @property
    def end(self) -> int:
        return self.tokens[-1].end

    @property
    def text(self) -> str:
        """The first token's text (the value as written, quotes included)."""
        return self.tokens[0].text

    @property
    def is_string(self) -> bool:
        return self.tokens[0].kind == STRING


@dataclass(frozen=True, slots=True, eq=False)
class Message:
    """`{ fields }` or `< fields >`; `close` is None when the file ends first."""

    open: Token
    fields: tuple[Field, ...]
    close: Token | None

    @property
    def start(self) -> int:
        return self.open.start

    @property
    def end(self) -> int:
        if self.close is not None:
            return self.close.end
        return self.fields[-1].end if self.fields else self.open.end


@dataclass(frozen=True, slots=True, eq=False)
class ListValue:
    """`[a, b, ...]`: items are Scalars or Messages."""

    open: Token
    items: tuple[Scalar | Message, ...]
    close: Token | None

    @property
    def start(self) -> int:
        return self.open.start

    @property
    def end(self) -> int:
        if self.close is not None:
            return self.close.end
        return self.items[-1].end if self.items else self.open.end


Value = Scalar | Message | ListValue


@dataclass(frozen=True, slots=True, eq=False)
class Field:
    """`name [:] value [,;]`."""

    name: Token
    colon: Token | None
    value: Value
    separator: Token | None

    @property
    def key(self) -> str:
        return self.name.text

    @property
    def start(self) -> int:
        return self.name.start

    @property
    def end(self) -> int:
        """End of the value (a trailing separator is not part of the field's span)."""
        return self.value.end

    @property
    def full_end(self) -> int:
        return self.separator.end if self.separator is not None else self.value.end


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


def is_eof(token: Token) -> bool:
    return token.kind == EOF

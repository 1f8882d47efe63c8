"""Lexer for protobuf text format: every token owns the trivia before it.

The token classes follow google.protobuf.text_format's tokenizer, so caffelint
splits a file exactly where the reference parser does: identifiers may carry
`+` and `-`, a number is any run starting with a digit, sign or `.digit`,
strings end at their quote or at the end of the line, and any other
character is a token of its own.  Trivia is white space and `#` comments.
Joining `prefix + text` over all tokens gives the input back exactly.
"""

from __future__ import annotations

import re
from typing import NamedTuple

NAME = "name"
NUMBER = "number"
STRING = "string"
PUNCT = "punct"
EOF = "eof"

# The token classes, shared with the parser's combined pattern.
TRIVIA = r"(?:\s+|\#[^\n]*)*"
NAME_RE = r"[a-zA-Z_][0-9a-zA-Z_+-]*"
NUMBER_RE = r"(?:[0-9+-]|\.[0-9])[0-9a-zA-Z_.+-]*"
STRING_RE = (r"(?:\"[^\"\n\\]*(?:(?:\\.)+[^\"\n\\]*)*(?:\"|\\?$)"
             r"|'[^'\n\\]*(?:(?:\\.)+[^'\n\\]*)*(?:'|\\?$))")

_TOKEN_RE = re.compile(
    rf"(?P<prefix>{TRIVIA})(?:(?P<name>{NAME_RE})|(?P<number>{NUMBER_RE})|(?P<string>{STRING_RE})"
    r"|(?P<punct>.))?",
    re.MULTILINE,
)


class Token(NamedTuple):
    """A token: its kind, its text, the trivia before it, and its start offset."""

    kind: str
    text: str
    prefix: str
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.text)


_KINDS = (None, None, NAME, NUMBER, STRING, PUNCT)  # by regex group index
_new = tuple.__new__  # builds Tokens without a Python-level __new__: lexing is the hot path


def tokenize(text: str) -> list[Token]:
    """Split `text` into tokens; the last token is EOF and carries the file's tail."""
    tokens: list[Token] = []
    append = tokens.append
    # A leading byte order mark is kept as trivia; the loader reports it.
    bom = 1 if text.startswith("\ufeff") else 0
    prefix_start = 0
    for m in _TOKEN_RE.finditer(text, bom):
        index = m.lastindex
        if index is None or index == 1:
            break  # only trivia (or nothing) left: the end of the file
        start = m.end(1)
        end = m.end()
        append(_new(Token, (_KINDS[index], text[start:end], text[prefix_start:start], start)))
        prefix_start = end
    append(_new(Token, (EOF, "", text[prefix_start:], len(text))))
    return tokens

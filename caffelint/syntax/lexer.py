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

_TOKEN_RE = re.compile(
    r"""
    (?P<prefix>(?:\s+|\#[^\n]*)*)
    (?:
        (?P<name>[a-zA-Z_][0-9a-zA-Z_+-]*)
      | (?P<number>(?:[0-9+-]|\.[0-9])[0-9a-zA-Z_.+-]*)
      | (?P<string>"[^"\n\\]*(?:(?:\\.)+[^"\n\\]*)*(?:"|\\?$)
                  |'[^'\n\\]*(?:(?:\\.)+[^'\n\\]*)*(?:'|\\?$))
      | (?P<punct>.)
    )?
    """,
    re.VERBOSE | re.MULTILINE,
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


def tokenize(text: str) -> list[Token]:
    """Split `text` into tokens; the last token is EOF and carries the file's tail."""
    tokens: list[Token] = []
    append = tokens.append
    # A leading byte order mark is kept as trivia; the loader reports it.
    pos = 1 if text.startswith("\ufeff") else 0
    end = len(text)
    match = _TOKEN_RE.match
    while True:
        m = match(text, pos)
        kind = m.lastgroup
        if kind == "prefix" or kind is None:
            # Only trivia left (or nothing): the end of the file.
            append(Token(EOF, "", text[0 if not tokens else m.start():m.end()], m.end()))
            return tokens
        start = m.start(kind)
        pos = m.end()
        append(Token(kind, text[start:pos], text[m.start() if tokens else 0:start], start))
        if pos >= end:
            append(Token(EOF, "", "", pos))
            return tokens

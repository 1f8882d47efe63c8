"""Parser: tokens -> Document.  Schema-free, iterative (deep nesting is no problem).

It accepts what text format allows in any message: `name: value`, `name { }`,
`name: { }`, `name < >`, `name: [a, b]`, adjacent string literals, and an
optional `,` or `;` after each field.  Whether a colon may be left out, or a
list used, depends on the field's type, so the binder judges that.  At the
first syntax error parsing stops: the fields parsed so far are kept (partly
closed messages included) and the rest of the file stays in the token list,
so printing the Document still gives the input back.
"""

from __future__ import annotations

import re

from caffelint.syntax.cst import Document, Field, ListValue, Message, Scalar, SyntaxProblem
from caffelint.syntax.lexer import EOF, NAME, NUMBER, PUNCT, STRING, Token, tokenize

_FIELD_NAME = re.compile(r"\w")  # text_format takes any \w+ run as a field name
_OPEN = {"{": "}", "<": ">"}


class _Frame:
    """An open message (or the document) or an open list, while parsing."""

    __slots__ = ("kind", "open", "close_text", "items", "name", "colon")

    def __init__(self, kind: str, open_tok: Token | None, close_text: str, name: Token | None,
                 colon: Token | None) -> None:
        self.kind = kind  # "message" or "list"
        self.open = open_tok
        self.close_text = close_text
        self.items: list = []
        self.name = name
        self.colon = colon


def parse(text: str) -> Document:
    """Parse text-format `text` into a lossless Document."""
    tokens = tokenize(text)
    fields, error = _parse_tokens(tokens)
    return Document(text, tuple(tokens), fields, error)


def _describe(tok: Token) -> str:
    return "end of file" if tok.kind == EOF else repr(tok.text)


def _parse_tokens(tokens: list[Token]) -> tuple[tuple[Field, ...], SyntaxProblem | None]:
    root = _Frame("message", None, "", None, None)
    stack = [root]
    frame = root
    i = 0
    error: SyntaxProblem | None = None

    def fail(tok: Token, message: str) -> SyntaxProblem:
        return SyntaxProblem(tok.start, max(tok.end, tok.start), message)

    while True:
        tok = tokens[i]
        kind = tok.kind
        if frame.kind == "message":
            if kind == NAME or (kind == NUMBER and _FIELD_NAME.match(tok.text)):
                name = tok
                i += 1
                colon = None
                nxt = tokens[i]
                if nxt.kind == PUNCT and nxt.text == ":":
                    colon = nxt
                    i += 1
                    nxt = tokens[i]
                nkind = nxt.kind
                if nkind == PUNCT and nxt.text in _OPEN:
                    frame = _Frame("message", nxt, _OPEN[nxt.text], name, colon)
                    stack.append(frame)
                    i += 1
                    continue
                if nkind == PUNCT and nxt.text == "[":
                    frame = _Frame("list", nxt, "]", name, colon)
                    stack.append(frame)
                    i += 1
                    continue
                if nkind in (NAME, NUMBER, STRING):
                    i, value = _scalar(tokens, i)
                    i, sep = _separator(tokens, i)
                    frame.items.append(Field(name, colon, value, sep))
                    continue
                error = fail(nxt, f"expected a value after {name.text!r}, found {_describe(nxt)}")
                break
            if kind == PUNCT and tok.text == frame.close_text:
                i += 1
                message = Message(frame.open, tuple(frame.items), tok)
                stack.pop()
                frame, i = _attach(stack, frame, message, tokens, i)
                continue
            if kind == EOF:
                if frame is root:
                    break
                error = fail(tok, f"expected {frame.close_text!r} to close {frame.name.text!r}, "
                                  "found end of file")
                break
            if frame is root:
                error = fail(tok, f"expected a field name, found {_describe(tok)}")
            else:
                error = fail(tok, f"expected a field name or {frame.close_text!r}, found {_describe(tok)}")
            break
        # Inside a list: items separated by commas, closed by "]".
        if kind == PUNCT and tok.text == "]":
            i += 1
            stack.pop()
            frame, i = _attach(stack, frame, ListValue(frame.open, tuple(frame.items), tok), tokens, i)
            continue
        if frame.items:
            if not (kind == PUNCT and tok.text == ","):
                error = fail(tok, f"expected ',' or ']' in the list of {frame.name.text!r}, "
                                  f"found {_describe(tok)}")
                break
            i += 1
            tok = tokens[i]
            kind = tok.kind
        if kind == PUNCT and tok.text in _OPEN:
            frame = _Frame("message", tok, _OPEN[tok.text], frame.name, None)
            stack.append(frame)
            i += 1
            continue
        if kind in (NAME, NUMBER, STRING):
            i, value = _scalar(tokens, i)
            frame.items.append(value)
            continue
        error = fail(tok, f"expected a value in the list of {frame.name.text!r}, found {_describe(tok)}")
        break

    if error is not None:
        _close_partial(stack)
    return tuple(root.items), error


def _scalar(tokens: list[Token], i: int) -> tuple[int, Scalar]:
    first = tokens[i]
    if first.kind != STRING:
        return i + 1, Scalar((first,))
    j = i + 1
    while tokens[j].kind == STRING:
        j += 1
    return j, Scalar(tuple(tokens[i:j]))


def _separator(tokens: list[Token], i: int) -> tuple[int, Token | None]:
    tok = tokens[i]
    if tok.kind == PUNCT and (tok.text == "," or tok.text == ";"):
        return i + 1, tok
    return i, None


def _attach(stack: list[_Frame], done: _Frame, value, tokens: list[Token], i: int) -> tuple[_Frame, int]:
    """Hand a finished message or list to the frame below it; return that frame."""
    parent = stack[-1]
    if parent.kind == "list" and done.kind == "message":
        parent.items.append(value)
        return parent, i
    i, sep = _separator(tokens, i)
    parent.items.append(Field(done.name, done.colon, value, sep))
    return parent, i


def _close_partial(stack: list[_Frame]) -> None:
    """After an error, keep what was parsed: fold open frames into their parents."""
    while len(stack) > 1:
        frame = stack.pop()
        parent = stack[-1]
        if frame.kind == "message":
            value = Message(frame.open, tuple(frame.items), None)
        else:
            value = ListValue(frame.open, tuple(frame.items), None)
        if parent.kind == "list" and frame.kind == "message":
            parent.items.append(value)
        else:
            parent.items.append(Field(frame.name, frame.colon, value, None))

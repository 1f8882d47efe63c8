"""Parser: text -> Document, in one pass.  Schema-free and iterative (deep nesting is fine).

It accepts what text format allows in any message: `name: value`, `name { }`,
`name: { }`, `name < >`, `name: [a, b]`, adjacent string literals, and an
optional `,` or `;` after each field.  Whether a colon may be left out, or a
list used, depends on the field's type, so the binder judges that.  At the
first syntax error parsing stops: the fields parsed so far are kept (partly
closed messages included) and the rest of the file is still tokenized, so
printing the Document gives the input back.

Speed: the lexer's token classes are combined with one extra alternative that
matches the most common shape, `name: scalar` on one line, in a single regex
match.  It yields exactly the tokens the general path would; it only saves
Python-level steps.  Separators and adjacent strings are attached to the
field just built, so the tree is the same whichever path produced it.
"""

from __future__ import annotations

import contextlib
import gc
import re
from collections.abc import Iterator

from caffelint.syntax.cst import Document, Field, ListValue, Message, Scalar, SyntaxProblem
from caffelint.syntax.lexer import (
    EOF,
    NAME,
    NAME_RE,
    NUMBER,
    NUMBER_RE,
    PUNCT,
    STRING,
    STRING_RE,
    TRIVIA,
    Token,
)

_PATTERN = re.compile(
    rf"(?P<prefix>{TRIVIA})(?:"
    # 2-5: `name: value` on one line; a string value not followed by another string literal
    rf"(?P<fname>{NAME_RE})(?P<ws1>[ \t]*):(?P<ws2>[ \t]*)"
    rf"(?P<fvalue>{NAME_RE}|{NUMBER_RE}|{STRING_RE}(?!(?:\s|\#[^\n]*)*[\"']))"
    # 6-10: `name {`, `name: {`, `name <` on one line
    rf"|(?P<mname>{NAME_RE})(?P<mws1>[ \t]*)(?P<mcolon>:)?(?P<mws2>[ \t]*)(?P<mopen>[{{<])"
    # 11-14: single tokens
    rf"|(?P<name>{NAME_RE})|(?P<number>{NUMBER_RE})|(?P<string>{STRING_RE})|(?P<punct>.))?",
    re.MULTILINE,
)
_FAST, _OPEN, _NAME, _NUMBER, _STRING, _PUNCT = 5, 10, 11, 12, 13, 14
_KINDS = {_NAME: NAME, _NUMBER: NUMBER, _STRING: STRING, _PUNCT: PUNCT}
_FIELD_NAME = re.compile(r"\w")  # text_format takes any \w+ run as a field name
_CLOSE = {"{": "}", "<": ">"}
_new = tuple.__new__
_VALUE_KIND = {'"': STRING, "'": STRING, "_": NAME} | {
    c: NAME for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"}

# What the parser expects next (_FAILED: nothing more, after a syntax error).
_FIELD, _AFTER_NAME, _AFTER_COLON, _LIST_ITEM, _LIST_NEXT, _FAILED = range(6)


class _Frame:
    """An open message (or the document) or an open list."""

    __slots__ = ("is_list", "open", "close_text", "items", "name", "colon")

    def __init__(self, is_list: bool, open_tok: Token | None, close_text: str, name: Token | None,
                 colon: Token | None) -> None:
        self.is_list = is_list
        self.open = open_tok
        self.close_text = close_text
        self.items: list = []
        self.name = name
        self.colon = colon


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building large acyclic trees.

    Parsing allocates hundreds of thousands of tuples and none of them form
    cycles; letting the collector scan them over and over costs more than the
    parse itself on big nets.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            # Move what survived into the permanent generation: a tree lives for the whole
            # run, so the collector would only rescan it (cycles, if any, are not ours).
            gc.freeze()
            gc.enable()


def parse(text: str) -> Document:
    """Parse text-format `text` into a lossless Document."""
    with gc_paused():
        return _Parser(text).run()


def _describe(tok: Token) -> str:
    return "end of file" if tok.kind == EOF else repr(tok.text)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[Token] = []
        self.root = _Frame(False, None, "", None, None)
        self.stack = [self.root]
        self.error: SyntaxProblem | None = None

    def run(self) -> Document:
        text = self.text
        tokens = self.tokens
        append = tokens.append
        extend = tokens.extend
        frame = self.root
        stack = self.stack
        state = _FIELD
        name = colon = None
        prefix_start = 0
        bom = 1 if text.startswith("\ufeff") else 0  # kept as trivia; the loader reports it
        for m in _PATTERN.finditer(text, bom):
            index = m.lastindex
            if index is None or index == 1:
                break  # only trivia (or nothing) left
            if index == _FAST:
                prefix, name_text, ws1, ws2, value_text = m.group(1, 2, 3, 4, 5)
                if bom and not tokens:
                    prefix = "\ufeff" + prefix
                name_start = prefix_start + len(prefix)
                name_end = name_start + len(name_text)
                colon_start = name_end + len(ws1)
                value_start = colon_start + 1 + len(ws2)
                value_kind = _VALUE_KIND.get(value_text[0], NUMBER)
                name_tok = _new(Token, (NAME, name_text, prefix, name_start))
                colon_tok = _new(Token, (PUNCT, ":", ws1, colon_start))
                value_tok = _new(Token, (value_kind, value_text, ws2, value_start))
                extend((name_tok, colon_tok, value_tok))
                prefix_start = value_start + len(value_text)
                if state == _FIELD:
                    frame.items.append(_new(Field, (name_tok, colon_tok,
                                                    _new(Scalar, (value_tok,)), None)))
                    continue
                if state == _FAILED:
                    continue
                # Not where a field may stand: replay the three tokens through the general path.
                for tok in (name_tok, colon_tok, value_tok):
                    frame, state, name, colon = self.step(tok, frame, state, name, colon)
                    if state == _FAILED:
                        break
                continue
            if index == _OPEN:
                prefix, name_text, ws1, colon, ws2, open_text = m.group(1, 6, 7, 8, 9, 10)
                if bom and not tokens:
                    prefix = "\ufeff" + prefix
                name_start = prefix_start + len(prefix)
                name_end = name_start + len(name_text)
                name_tok = _new(Token, (NAME, name_text, prefix, name_start))
                append(name_tok)
                if colon:
                    colon_start = name_end + len(ws1)
                    colon_tok = _new(Token, (PUNCT, ":", ws1, colon_start))
                    append(colon_tok)
                    open_start = colon_start + 1 + len(ws2)
                    open_tok = _new(Token, (PUNCT, open_text, ws2, open_start))
                else:
                    colon_tok = None
                    open_start = name_end + len(ws1) + len(ws2)
                    open_tok = _new(Token, (PUNCT, open_text, ws1 + ws2, open_start))
                append(open_tok)
                prefix_start = open_start + 1
                if state == _FIELD:
                    frame = _Frame(False, open_tok, _CLOSE[open_text], name_tok, colon_tok)
                    stack.append(frame)
                    continue
                if state == _FAILED:
                    continue
                for tok in (name_tok, colon_tok, open_tok):
                    if tok is not None:
                        frame, state, name, colon = self.step(tok, frame, state, name, colon)
                        if state == _FAILED:
                            break
                continue
            prefix, tok_text = m.group(1, index)
            if bom and not tokens:
                prefix = "\ufeff" + prefix
            start = prefix_start + len(prefix)
            tok = _new(Token, (_KINDS[index], tok_text, prefix, start))
            append(tok)
            prefix_start = start + len(tok_text)
            if state == _FAILED:
                continue
            if state == _FIELD and index == _PUNCT and tok[1] == frame.close_text:
                # Inlined close_message: closing braces are a quarter of all tokens.
                stack.pop()
                message = _new(Message, (frame.open, tuple(frame.items), tok))
                parent = stack[-1]
                if parent.is_list:
                    parent.items.append(message)
                    state = _LIST_NEXT
                else:
                    parent.items.append(_new(Field, (frame.name, frame.colon, message, None)))
                frame = parent
                continue
            frame, state, name, colon = self.step(tok, frame, state, name, colon)
        eof = _new(Token, (EOF, "", text[prefix_start:], len(text)))
        append(eof)
        if self.error is None:
            self.finish(eof, frame, state, name)
        if self.error is not None:
            self.close_partial()
        return Document(text, tuple(tokens), tuple(self.root.items), self.error)

    # -- the general path, one token at a time ------------------------------------

    def step(self, tok: Token, frame: _Frame, state: int, name, colon):
        kind = tok.kind
        text = tok.text
        if state == _FIELD:
            if kind == NAME or (kind == NUMBER and _FIELD_NAME.match(text)):
                return frame, _AFTER_NAME, tok, None
            items = frame.items
            if kind == PUNCT and text == frame.close_text:
                return self.close_message(tok, frame)
            if kind == PUNCT and (text == "," or text == ";") and items and items[-1][3] is None:
                last = items[-1]
                items[-1] = _new(Field, (last[0], last[1], last[2], tok))
                return frame, state, None, None
            if kind == STRING and items and self.extends_string(items[-1][2]) and items[-1][3] is None:
                last = items[-1]
                items[-1] = _new(Field, (last[0], last[1], _new(Scalar, (*last[2], tok)), None))
                return frame, state, None, None
            if frame is self.root:
                self.fail(tok, f"expected a field name, found {_describe(tok)}")
            else:
                self.fail(tok, f"expected a field name or {frame.close_text!r}, found {_describe(tok)}")
            return frame, _FAILED, None, None
        if state == _AFTER_NAME and kind == PUNCT and text == ":":
            return frame, _AFTER_COLON, name, tok
        if state in (_AFTER_NAME, _AFTER_COLON):
            if kind == PUNCT and text in _CLOSE:
                return self.open_frame(_Frame(False, tok, _CLOSE[text], name, colon))
            if kind == PUNCT and text == "[":
                return self.open_frame(_Frame(True, tok, "]", name, colon), _LIST_ITEM)
            if kind in (NAME, NUMBER, STRING):
                frame.items.append(_new(Field, (name, colon, _new(Scalar, (tok,)), None)))
                return frame, _FIELD, None, None
            self.fail(tok, f"expected a value after {name.text!r}, found {_describe(tok)}")
            return frame, _FAILED, None, None
        items = frame.items
        if kind == PUNCT and text == "]" and (state == _LIST_NEXT or not items):
            self.stack.pop()
            parent = self.stack[-1]
            parent.items.append(_new(Field, (frame.name, frame.colon,
                                             _new(ListValue, (frame.open, tuple(items), tok)), None)))
            return parent, _FIELD, None, None
        if state == _LIST_NEXT:
            if kind == PUNCT and text == ",":
                return frame, _LIST_ITEM, None, None
            if kind == STRING and self.extends_string(items[-1]):
                items[-1] = _new(Scalar, (*items[-1], tok))
                return frame, state, None, None
            self.fail(tok, f"expected ',' or ']' in the list of {frame.name.text!r}, found {_describe(tok)}")
            return frame, _FAILED, None, None
        # _LIST_ITEM
        if kind == PUNCT and text in _CLOSE:
            return self.open_frame(_Frame(False, tok, _CLOSE[text], frame.name, None))
        if kind in (NAME, NUMBER, STRING):
            items.append(_new(Scalar, (tok,)))
            return frame, _LIST_NEXT, None, None
        self.fail(tok, f"expected a value in the list of {frame.name.text!r}, found {_describe(tok)}")
        return frame, _FAILED, None, None

    @staticmethod
    def extends_string(value) -> bool:
        """Adjacent string literals concatenate: is `value` a string scalar to extend?"""
        return type(value) is Scalar and value[-1].kind == STRING

    def open_frame(self, frame: _Frame, state: int = _FIELD):
        self.stack.append(frame)
        return frame, state, None, None

    def close_message(self, tok: Token, frame: _Frame):
        self.stack.pop()
        message = _new(Message, (frame.open, tuple(frame.items), tok))
        parent = self.stack[-1]
        if parent.is_list:
            parent.items.append(message)
            return parent, _LIST_NEXT, None, None
        parent.items.append(_new(Field, (frame.name, frame.colon, message, None)))
        return parent, _FIELD, None, None

    def finish(self, eof: Token, frame: _Frame, state: int, name) -> None:
        if frame is self.root and state == _FIELD:
            return
        if state in (_AFTER_NAME, _AFTER_COLON):
            self.fail(eof, f"expected a value after {name.text!r}, found end of file")
        elif frame.is_list:
            self.fail(eof, f"expected ']' to close the list of {frame.name.text!r}, found end of file")
        else:
            self.fail(eof, f"expected {frame.close_text!r} to close {frame.name.text!r}, found end of file")

    def fail(self, tok: Token, message: str) -> None:
        self.error = SyntaxProblem(tok.start, max(tok.end, tok.start), message)

    def close_partial(self) -> None:
        """After an error, keep what was parsed: fold open frames into their parents."""
        stack = self.stack
        while len(stack) > 1:
            frame = stack.pop()
            parent = stack[-1]
            if frame.is_list:
                value = ListValue(frame.open, tuple(frame.items), None)
            else:
                value = Message(frame.open, tuple(frame.items), None)
            if parent.is_list and not frame.is_list:
                parent.items.append(value)
            else:
                parent.items.append(_new(Field, (frame.name, frame.colon, value, None)))

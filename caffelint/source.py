"""Reading files: bytes -> SourceFile (text, newline style, line index)."""

from __future__ import annotations

import bisect
import os
from dataclasses import dataclass, field

from caffelint.errors import InputError
from caffelint.findings import Pos, Span

BOM = "\ufeff"


def repository_root(start: str) -> str | None:
    """The nearest folder at or above `start` holding .git (or .hg), if any."""
    folder = os.path.abspath(start)
    while True:
        if os.path.exists(os.path.join(folder, ".git")) or os.path.exists(os.path.join(folder, ".hg")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def decode(data: bytes) -> str:
    """Decode UTF-8 losslessly: undecodable bytes survive as surrogate escapes."""
    return data.decode("utf-8", "surrogateescape")


def encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


@dataclass(eq=False)
class SourceFile:
    """One text file as caffelint sees it: its path, its text and a line index."""

    path: str
    text: str
    _line_starts: list[int] | None = field(default=None, repr=False)

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> SourceFile:
        path = os.fspath(path)
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except IsADirectoryError:
            raise InputError(f"{path}: is a directory") from None
        except OSError as exc:
            raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
        return cls(path, decode(data))

    @property
    def line_starts(self) -> list[int]:
        if self._line_starts is None:
            starts = [0]
            find = self.text.find
            i = find("\n")
            while i >= 0:
                starts.append(i + 1)
                i = find("\n", i + 1)
            self._line_starts = starts
        return self._line_starts

    @property
    def newline(self) -> str:
        """The file's own line ending, for text that fixes insert."""
        i = self.text.find("\n")
        return "\r\n" if i > 0 and self.text[i - 1] == "\r" else "\n"

    def pos(self, offset: int) -> Pos:
        starts = self.line_starts
        line = bisect.bisect_right(starts, offset)
        return Pos(line, offset - starts[line - 1] + 1, offset)

    def span(self, start: int, end: int) -> Span:
        return Span(self.path, self.pos(start), self.pos(max(start, end)))

    def line_text(self, line: int) -> str:
        starts = self.line_starts
        begin = starts[line - 1]
        end = starts[line] if line < len(starts) else len(self.text)
        return self.text[begin:end].rstrip("\r\n")

    def indent_of_line(self, offset: int) -> str:
        """The leading white space of the line holding `offset`."""
        line = self.line_text(self.pos(offset).line)
        return line[: len(line) - len(line.lstrip(" \t"))]

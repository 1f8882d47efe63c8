"""A table of a TOML file as YAML nodes that carry the line and column of their keys.

The config checks (config.py) walk YAML nodes and report errors at a node's mark.
tomllib gives values without places, so the values of the table are turned into
nodes by PyYAML's representer, and each node is then marked with where its key is
written: `key = value` lines under `[table]` headers, dotted keys, and the keys of
one-line inline tables.  The strings of an array written after its key (on one line
or several) are marked where each is written; other items, and a value whose key
cannot be placed, take the mark of the key above them.
"""

from __future__ import annotations

import re
from typing import Any

_HEADER = re.compile(r"\s*\[\[?\s*(?P<keys>[^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = r'(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
_ASSIGN = re.compile(rf"\s*(?P<keys>{_KEY}(?:\s*\.\s*{_KEY})*)\s*=")
_INLINE_KEY = re.compile(rf"[{{,]\s*(?P<keys>{_KEY}(?:\s*\.\s*{_KEY})*)\s*=")
_ERROR_PLACE = re.compile(r"\(at line (?P<line>\d+), column (?P<column>\d+)\)")
_ARRAY_OPEN = re.compile(r"=[ \t]*\[")  # `= [`: the value is an array
_ARRAY_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'|#[^\n]*|[\[\]]')  # strings, comments, brackets


def toml_module():
    """tomllib (Python 3.11), or tomli, the same parser for older Pythons."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    return tomllib


def table_nodes(text: str, table: tuple[str, ...], name: str):
    """The nodes of `table` (("tool", "caffelint")) of the TOML `text`, or None when it has none.
    ValueError names the place of a TOML syntax error."""
    import yaml

    toml = toml_module()
    try:
        data = toml.loads(text)
    except toml.TOMLDecodeError as exc:
        place = _ERROR_PLACE.search(str(exc))
        line, column = (place.group("line"), place.group("column")) if place else (text.count("\n") + 1, 1)
        message = _ERROR_PLACE.sub("", str(exc)).strip()
        raise ValueError(f"{name}:{line}:{column}: invalid TOML: {message}") from None
    value: Any = data
    for key in table:
        value = value.get(key) if isinstance(value, dict) else None
    if value is None:
        return None
    places = key_places(text)
    node = yaml.representer.SafeRepresenter().represent_data(value)
    _mark(node, table, places, places.get(table, (0, 0)), name, text)
    return node


def key_places(text: str) -> dict[tuple[str, ...], tuple[int, int]]:
    """(line, column), both 0-based, of each key path written in `text`."""
    places: dict[tuple[str, ...], tuple[int, int]] = {}
    current: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines()):
        header = _HEADER.match(line)
        if header and not _ASSIGN.match(line):
            current = _split(header.group("keys"))
            places.setdefault(current, (number, line.index("[")))
            continue
        assign = _ASSIGN.match(line)
        if not assign:
            continue
        path = current + _split(assign.group("keys"))
        places.setdefault(path, (number, assign.start("keys")))
        for inner in _INLINE_KEY.finditer(line, assign.end()):  # one level of `key = {a = 1, b = 2}`
            places.setdefault(path + _split(inner.group("keys")), (number, inner.start("keys")))
    return places


def _split(keys: str) -> tuple[str, ...]:
    parts = re.findall(_KEY, keys)
    return tuple(part[1:-1] if part[:1] in "\"'" else part for part in parts)


def _mark(node, path: tuple[str, ...], places, fallback: tuple[int, int], name: str, text: str) -> None:
    import yaml

    line, column = places.get(path, fallback)
    node.start_mark = node.end_mark = yaml.Mark(name, 0, line, column, None, None)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = path + (str(key.value),)
            _mark(key, child, places, (line, column), name, text)
            _mark(value, child, places, (line, column), name, text)
    elif isinstance(node, yaml.SequenceNode):
        strings = _array_strings(text, line, column) if path in places else []
        for i, item in enumerate(node.value):
            _mark(item, path, places, (line, column), name, text)
            if len(strings) == len(node.value) and isinstance(item, yaml.ScalarNode):
                item.start_mark = item.end_mark = yaml.Mark(name, 0, *strings[i], None, None)


def _array_strings(text: str, line: int, column: int) -> list[tuple[int, int]]:
    """(line, column) of each string written at the top level of the array whose key is at
    (line, column); empty when the value there is not an array, or holds anything else."""
    lines = text.splitlines(keepends=True)
    start = sum(len(lines[i]) for i in range(line)) + column
    equals = text.find("=", start)
    opening = _ARRAY_OPEN.match(text, equals) if equals >= 0 else None
    if opening is None:
        return []
    found, depth, at = [], 0, opening.end() - 1
    for token in _ARRAY_TOKEN.finditer(text, at):
        kind = token.group()[0]
        if kind == "[":
            depth += 1
        elif kind == "]":
            depth -= 1
        elif kind in "\"'" and depth == 1:
            found.append(token.start())
        gap = text[at:token.start()].replace(",", "")
        if gap.strip():  # a number, a boolean, a table: not an array of strings only
            return []
        at = token.end()
        if depth == 0:
            break
    return [(text.count("\n", 0, offset), offset - text.rfind("\n", 0, offset) - 1) for offset in found]

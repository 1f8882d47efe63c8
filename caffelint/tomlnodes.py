"""A table of a TOML file as YAML nodes that carry the line and column of their keys.

The config checks (config.py) walk YAML nodes and report errors at a node's mark.
tomllib gives values without places, so the values of the table are turned into
nodes by PyYAML's representer, and each node is then marked with where its key is
written: `key = value` lines under `[table]` headers, dotted keys, and the keys of
one-line inline tables.  An array's items, and a value whose key cannot be placed,
take the mark of the key above them.
"""

from __future__ import annotations

import re
from typing import Any

_HEADER = re.compile(r"\s*\[\[?\s*(?P<keys>[^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = r'(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
_ASSIGN = re.compile(rf"\s*(?P<keys>{_KEY}(?:\s*\.\s*{_KEY})*)\s*=")
_INLINE_KEY = re.compile(rf"[{{,]\s*(?P<keys>{_KEY}(?:\s*\.\s*{_KEY})*)\s*=")
_ERROR_PLACE = re.compile(r"\(at line (?P<line>\d+), column (?P<column>\d+)\)")


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
    _mark(node, table, places, places.get(table, (0, 0)), name)
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


def _mark(node, path: tuple[str, ...], places, fallback: tuple[int, int], name: str) -> None:
    import yaml

    line, column = places.get(path, fallback)
    node.start_mark = node.end_mark = yaml.Mark(name, 0, line, column, None, None)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = path + (str(key.value),)
            _mark(key, child, places, (line, column), name)
            _mark(value, child, places, (line, column), name)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _mark(item, path, places, (line, column), name)

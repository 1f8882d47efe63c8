"""Forks of Caffe: which fork defines a field or a layer type that BVLC Caffe lacks.

Facts live in caffelint/data/forks.yaml (forks and their fields) and in the
`forks:` section of caffelint/data/layer_types.yaml (their layer types).  A net
written for a fork stays wrong for BVLC Caffe, but the message can say which
Caffe it needs instead of guessing at a typo.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from caffelint.model import layer_types


@dataclass(frozen=True)
class Fork:
    key: str
    name: str  # "SSD"
    repo: str  # "weiliu89/caffe, branch ssd"

    def describe(self) -> str:
        return f"{self.name} = {self.repo}"


@functools.cache
def _facts() -> dict[str, Any]:
    from caffelint import facts as data

    return data.load("forks.yaml")


@functools.cache
def all_forks() -> dict[str, Fork]:
    return {key: Fork(key, value["name"], value["repo"]) for key, value in _facts()["forks"].items()}


def _message_name(message: Any) -> str:
    name = message if isinstance(message, str) else message.name
    # V1 nets (`layers { }`) carry the same *_param fields as V2 layers.
    return "LayerParameter" if name == "V1LayerParameter" else name


def field_forks(message: Any, name: str) -> list[Fork]:
    """The forks that add field `name` to `message` (a MessageSchema or a message name)."""
    keys = (_facts()["fields"].get(_message_name(message)) or {}).get(name, [])
    return [all_forks()[key] for key in keys]


def type_forks(type_name: str) -> list[Fork]:
    """The forks that register layer type `type_name`."""
    table = layer_types.facts().get("forks") or {}
    return [all_forks()[key] for key, types in table.items() if type_name in types]


def describe(forks: list[Fork]) -> str:
    """'SSD = weiliu89/caffe branch ssd, Intel Caffe = intel/caffe'."""
    return ", ".join(fork.describe() for fork in forks)


def unknown_field_hint(message_schema: Any, name: str) -> str | None:
    """Name the fork defining `message.name`, if it is a known fork-only field."""
    forks = field_forks(message_schema, name)
    if not forks:
        return None
    return f"a fork field: {describe(forks)}; check with --proto <the fork's caffe.proto>"


def schema_has_fork(schema: Any, fork: Fork) -> bool:
    """True when `schema` (e.g. loaded with --proto) defines a field only `fork` adds to layers."""
    layer = schema.message("caffe.LayerParameter").fields
    own = _facts()["fields"].get("LayerParameter") or {}
    return any(fork.key in keys and name in layer for name, keys in own.items())

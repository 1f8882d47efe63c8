"""Layer behaviour caffe.proto does not describe, loaded once from caffelint/data/net_facts.yaml."""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def facts() -> dict[str, Any]:
    from caffelint import facts as data

    return data.load("net_facts.yaml")


@functools.cache
def type_set(*path: str) -> frozenset[str]:
    """The layer types listed under `path`, e.g. type_set("in_place", "safe")."""
    node: Any = facts()
    for key in path:
        node = node[key]
    return frozenset(node)


def is_learnable(type_name: str) -> bool:
    """The type owns parameter blobs (weights Caffe copies and shares by layer name)."""
    return type_name in type_set("learnable")

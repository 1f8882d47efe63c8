"""Layer-type facts that caffe.proto lacks, loaded once from caffelint/data/layer_types.yaml."""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def facts() -> dict[str, Any]:
    from caffelint import facts as data

    return data.load("layer_types.yaml")


def bvlc_types() -> frozenset[str]:
    return frozenset(facts()["bvlc"])


def v1_type_name(enum_name: str) -> str:
    """The string type a V1 enum type upgrades to (UpgradeV1LayerType)."""
    return facts()["v1_enum"].get(enum_name, enum_name)


def v0_type_name(v0: str) -> str:
    """The string type a V0 type upgrades to, through its V1 enum."""
    enum = facts()["v0_type"].get(v0)
    return v1_type_name(enum) if enum else v0


def fork_of(type_name: str) -> str | None:
    """The fork that registers `type_name`, if it is a known fork-only type."""
    for fork, types in (facts().get("forks") or {}).items():
        if type_name in types:
            return fork
    return None

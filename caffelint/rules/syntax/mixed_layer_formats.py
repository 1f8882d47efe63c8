"""PRS005 mixed-layer-formats (catalogue: rules/PRS005.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.net import NetView


def check_net(net: NetView, ctx: RuleContext) -> Iterator[Finding]:
    bound = net.bound
    if bound.has("layer") and bound.has("layers"):
        first_v1 = bound.entries_of("layers")[0].node
        first_v2 = bound.entries_of("layer")[0].node
        yield ctx.finding(
            first_v1.name,
            f"the net has {len(bound.entries_of('layers'))} V1 `layers` and "
            f"{len(bound.entries_of('layer'))} current `layer` blocks; Caffe refuses to upgrade a mix",
            notes=[(first_v2.name, "first `layer` block")],
        )

"""NET005 include-and-exclude (catalogue: rules/NET005.yaml).

FilterNet refuses a layer with both kinds of rule: "Specify either include
rules or exclude rules; not both." (BVLC/caffe:src/caffe/net.cpp).
"""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.net import NetView


def check_net(net: NetView, ctx: RuleContext) -> Iterator[Finding]:
    for layer in net.layers:
        if layer.include and layer.exclude:
            first_exclude = layer.bound.entries_of("exclude")[0].node
            yield ctx.finding(
                first_exclude.name,
                f"Specify either include rules or exclude rules; not both (layer '{layer.name}' has "
                f"{len(layer.include)} include and {len(layer.exclude)} exclude)",
                notes=[(layer.bound.entries_of("include")[0].node.name, "include rule here")])

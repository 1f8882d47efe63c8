"""INI002 gaussian-filler-without-std (catalogue: rules/INI002.yaml).

FillerParameter.std defaults to 1 (caffe.proto): a gaussian filler without std
draws weights from N(0, 1).
"""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.net import NetView


def check_net(net: NetView, ctx: RuleContext) -> Iterator[Finding]:
    if not net.is_training_net:
        return
    for layer in net.layers:
        if layer.version == 0 or layer.is_frozen:
            continue
        for name, filler in _fillers(layer):
            if filler.get("type") == "gaussian" and not filler.has("std"):
                yield ctx.finding(
                    filler.entry("type").item,
                    f"{name} of {layer.type} '{layer.name}' is gaussian without std: Caffe draws from "
                    f"N(0, 1) (std defaults to 1), far too wide for weights; give std (e.g. 0.01) or use "
                    f"\"msra\"/\"xavier\"")


def _fillers(layer):
    """(field name, Bound) of each filler in the layer's own *_param (data fillers excluded)."""
    for entry in layer.bound:
        value = entry.value
        if not entry.field.is_message or entry.field.name in ("param", "include", "exclude",
                                                                "transform_param", "dummy_data_param"):
            continue
        for inner in value:
            if inner.field.is_message and inner.field.message.name == "FillerParameter":
                yield f"{entry.field.name}.{inner.field.name}", inner.value

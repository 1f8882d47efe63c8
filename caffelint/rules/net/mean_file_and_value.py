"""INP003 mean-file-and-value (catalogue: rules/INP003.yaml).

DataTransformer's checks (BVLC/caffe:src/caffe/data_transformer.cpp):
"Cannot specify mean_file and mean_value at the same time", and
"Specify either 1 mean_value or as many as channels".
"""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.net import Layer, NetView
from caffelint.model.net_facts import type_set
from caffelint.model.transform import transform_of


def check_net(net: NetView, ctx: RuleContext) -> Iterator[Finding]:
    for layer in net.layers:
        if layer.type not in type_set("image_data"):
            continue
        t = transform_of(layer)
        if t.mean_file and t.mean_values:
            first_value = t.param.entries_of("mean_value")[0].item
            yield ctx.finding(
                first_value,
                f"Cannot specify mean_file and mean_value at the same time (layer '{layer.name}' "
                f"has mean_file '{t.mean_file}' and {len(t.mean_values)} mean_value)",
                notes=[(t.param.entry("mean_file").item if t.param.has("mean_file") else layer.node,
                        "mean_file here")])
            continue
        count = len(t.mean_values)
        channels = _channels(layer)
        allowed = {1, channels} if channels else {1, 3}
        if count and count not in allowed:
            if channels == 1:
                expected = "1 (the images have 1 channel)"
            elif channels:
                expected = f"1 or {channels}"
            else:
                expected = "1, or one per channel (3 for color images)"
            yield ctx.finding(
                t.param.entries_of("mean_value")[count - 1].item,
                f"Specify either 1 mean_value or as many as channels: layer '{layer.name}' gives "
                f"{count}, Caffe accepts {expected}")


def _channels(layer: Layer) -> int | None:
    """Channels when the file says them: force_gray/force_color, or ImageData's is_color."""
    if layer.get("transform_param.force_gray"):
        return 1
    if layer.get("transform_param.force_color"):
        return 3
    if layer.type == "ImageData" and layer.param("image_data_param") is not None:
        return 3 if layer.get("image_data_param.is_color") else 1
    return None

"""INP005 imagedata-not-shuffled (catalogue: rules/INP005.yaml).

ImageData reads its list in file order unless `shuffle: true` (default false in
ImageDataParameter; image_data_layer.cpp reshuffles each epoch only when set).
"""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.edits import set_field
from caffelint.engine import RuleContext
from caffelint.findings import SAFE, Finding, Fix
from caffelint.model.net import TRAIN, Layer, NetView

PARAMS = {"ImageData": "image_data_param", "DenseImageData": "dense_image_data_param"}


def check_net(net: NetView, ctx: RuleContext) -> Iterator[Finding]:
    if not net.is_training_net:
        return
    seen: set[Layer] = set()
    for graph in net.graphs():
        if graph.state.phase != TRAIN:
            continue
        for layer in graph.layers_of_type(*PARAMS):
            name = PARAMS[layer.type]
            param = layer.param(name)
            if layer in seen or layer.version == 0 or (param is None and name not in layer.bound.schema.fields):
                continue  # a fork's layer under a schema without its parameters
            seen.add(layer)
            if param is not None and param.get("shuffle"):
                continue
            written = param is not None and param.has("shuffle")
            edit = set_field(ctx.source, layer.bound, f"{name}.shuffle", "true")
            where = param.entry("shuffle").item if written else layer.name_node
            yield ctx.finding(
                where,
                f"{layer.type} layer '{layer.name}' reads its list in file order in "
                f"{graph.state.describe()} (shuffle {'is false' if written else 'defaults to false'}): "
                f"lists grouped by class give batches of one class and a loss that swings each epoch",
                fix=Fix("Set shuffle: true", SAFE, (edit,)))

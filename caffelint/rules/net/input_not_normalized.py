"""INP001 input-not-normalized (catalogue: rules/INP001.yaml).

Image data layers deliver 8-bit pixels (0..255) unless transform_param scales
them or subtracts a mean (DataTransformer, BVLC/caffe:src/caffe/data_transformer.cpp).
"""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.edits import set_field
from caffelint.engine import RuleContext
from caffelint.findings import UNSAFE, Finding, Fix
from caffelint.model.net import Layer, NetView, PhaseGraph
from caffelint.model.net_facts import type_set
from caffelint.model.transform import transform_of

ONE_OVER_256 = "0.00390625"  # BVLC's MNIST examples (examples/mnist/lenet_train_test.prototxt)
NORMALIZERS = {"BatchNorm", "BN", "MVN"}
WEIGHTED = {"Convolution", "Deconvolution", "InnerProduct", "ConvolutionDepthwise", "DepthwiseConvolution"}


def check_net(net: NetView, ctx: RuleContext) -> Iterator[Finding]:
    seen: set[Layer] = set()
    for graph in net.graphs():
        for layer in graph.layers_of_type(*type_set("image_data")):
            if layer in seen or not layer.tops:
                continue
            seen.add(layer)
            transform = transform_of(layer)
            if transform.scale < 1 or transform.has_mean or _normalized_downstream(graph, layer):
                continue
            fix = None
            if layer.version >= 1:
                edit = set_field(ctx.source, layer.bound, "transform_param.scale", ONE_OVER_256)
                fix = Fix(f"Scale pixels by 1/256 (scale: {ONE_OVER_256})", UNSAFE, (edit,))
            where = transform.scale_at or layer.name_node
            yield ctx.finding(
                where,
                f"{layer.type} layer '{layer.name}' feeds raw 0-255 pixels: no transform_param scale "
                f"below 1, no mean subtraction, and no BatchNorm right after the first convolution",
                fix=fix)


def _normalized_downstream(graph: PhaseGraph, data: Layer) -> bool:
    """The data reaches a normaliser before, or right after, its first weighted layers."""
    frontier, seen, weighted = [(data, data.tops[0])], set(), []
    while frontier:
        writer, blob = frontier.pop()
        for reader in graph.readers(writer, blob):
            if reader in seen:
                continue
            seen.add(reader)
            if reader.type in NORMALIZERS or (reader.type == "Power" and reader.get("power_param.scale") < 1):
                return True
            if reader.type in WEIGHTED:
                weighted.append(reader)
            else:
                frontier.extend((reader, top) for top in reader.tops)
    return bool(weighted) and all(any(r.type in NORMALIZERS for r in graph.readers(w, w.tops[0]))
                                  for w in weighted if w.tops)

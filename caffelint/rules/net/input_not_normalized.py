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
    weighted = []
    for reader in graph.downstream(data, data.tops[0], lambda layer: layer.type not in WEIGHTED):
        if reader.type in NORMALIZERS or (reader.type == "Power" and reader.get("power_param.scale") < 1):
            return True
        if reader.type in WEIGHTED:
            weighted.append(reader)
    return bool(weighted) and all(any(r.type in NORMALIZERS for r in graph.readers(w, w.tops[0]))
                                  for w in weighted if w.tops)


# -- evidence from the data (model/datasource.py scans the source; --no-data skips this) --------

def check_data(source, ctx: RuleContext) -> Iterator[Finding]:
    """What only the records show: HDF5 values no transform_param can scale (HDF5Data refuses
    one), and values already in 0..1 that a scale shrinks again.  Raw pixels with no scale and
    no mean are check_net's: the pixel range would only repeat that finding."""
    from caffelint.rules.data import scanned

    scan = scanned(source)
    pixels = scan.pixels if scan is not None else None
    if pixels is None:
        return
    seen = f"{pixels.low:g}..{pixels.high:g} in {pixels.records} sampled records of {source.written!r}"
    if source.layer.type == "HDF5Data":
        if pixels.low >= 0 and pixels.high > 2:
            yield ctx.finding(source.item, f"the HDF5 data holds values {seen}, and HDF5Data cannot scale "
                                           f"them (\"does not transform data\"): store them scaled, e.g. /255")
        return
    transform = transform_of(source.layer)
    top = max(abs(pixels.low), abs(pixels.high)) * transform.scale
    if transform.scale < 1 and not transform.has_mean and 0 < pixels.high <= 1 and top < 0.05:
        yield ctx.finding(source.item, f"the records hold {pixels.kind} values {seen}, already in 0..1, "
                                       f"and scale {transform.scale:g} shrinks them to 0..{top:.2g}: inputs "
                                       f"that small learn slowly; drop the scale",
                          notes=[(transform.scale_at, f"scale {transform.scale:g}")] if transform.scale_at else [])

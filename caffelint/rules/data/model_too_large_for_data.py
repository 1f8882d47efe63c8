"""DAT011 model-too-large-for-data (catalogue: rules/DAT011.yaml).

Learnable parameters of the TRAIN net against the records of its training
source.  Parameter shapes need the input shape, which the scan supplies.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.datasource import DataSource
from caffelint.model.net import PhaseGraph
from caffelint.rules.data import scanned
from caffelint.rules.data.datum_shape_mismatch import record_shapes

SAME_SHAPE = frozenset({
    "ReLU", "PReLU", "ELU", "Sigmoid", "TanH", "AbsVal", "BNLL", "Power", "Exp", "Log", "Clip", "Swish",
    "Dropout", "BatchNorm", "Scale", "Bias", "Split", "Softmax", "LRN", "MVN", "Eltwise",
})


def check_data(source: DataSource, ctx: RuleContext) -> Iterator[Finding]:
    graph = next((g for g in source.graphs if g.state.phase == "TRAIN"), None)
    scan = scanned(source)
    if graph is None or scan is None or scan.records == 0:
        return
    shapes, _how = record_shapes(source, scan)
    datum = max(shapes, key=shapes.get) if shapes else None
    params, complete = count_parameters(source, graph, datum)
    per_record = params / scan.records
    if per_record <= ctx.options["max_params_per_sample"]:
        return
    least = "" if complete else "at least "
    yield ctx.finding(source.item, f"the TRAIN net has {least}{params:,} learnable parameters for "
                                   f"{scan.records:,} training records in {source.written!r} ({per_record:,.0f} "
                                   f"per record): a net this large memorises small data and diverges "
                                   f"easily; use fewer or narrower layers (num_output), or more data")


def count_parameters(source: DataSource, graph: PhaseGraph, datum: tuple | None) -> tuple[int, bool]:
    """(parameters, whether every layer's count is known), from model/shapes.py when it can take
    the records' shape, else from a simple count over Convolution, InnerProduct and Scale."""
    try:
        from caffelint.model import shapes
    except ImportError:
        shapes = None
    counter = getattr(shapes, "count_parameters", None)
    if counter is not None and "datum_shapes" in inspect.signature(counter).parameters:
        datum_shapes = {source.layer.name: datum} if datum is not None else {}
        return counter(source.net, datum_shapes=datum_shapes), \
            shapes.parameters_complete(source.net, datum_shapes=datum_shapes)
    return _simple_count(source, graph, datum)


def _simple_count(source: DataSource, graph: PhaseGraph, datum: tuple | None) -> tuple[int, bool]:
    crop = source.value("crop_size", 0) or 0
    blobs: dict[str, tuple | None] = {}
    if datum is not None and source.layer.tops:
        blobs[source.layer.tops[0]] = (datum[0], crop or datum[1], crop or datum[2])
    total, complete = 0, True
    for layer in graph.layers:
        if not layer.bottoms:
            continue  # data and input layers: only the scanned source's shape is known
        out, params = _step(layer, blobs.get(layer.bottoms[0]))
        if params is None:
            complete = False
        else:
            total += params
        for top in layer.tops:
            blobs[top] = out
    return total, complete


def _step(layer, shape):
    """(output shape or None, parameters or None when unknown) of one layer."""
    get = layer.get
    if layer.type in ("Convolution", "Deconvolution"):
        n, group = get("convolution_param.num_output"), get("convolution_param.group") or 1
        kernel = _one(get("convolution_param.kernel_size"), 0) or get("convolution_param.kernel_h") or 1
        bias = n if get("convolution_param.bias_term") else 0
        if shape is None or len(shape) != 3:
            return None, None
        channels, height, width = shape
        fan_in = channels if layer.type == "Convolution" else n
        fan_out = n if layer.type == "Convolution" else channels
        stride = _one(get("convolution_param.stride"), 1)
        pad = _one(get("convolution_param.pad"), 0)
        size = (lambda s: (s + 2 * pad - kernel) // stride + 1) if layer.type == "Convolution" else \
            (lambda s: stride * (s - 1) + kernel - 2 * pad)
        return (n, size(height), size(width)), fan_out * (fan_in // group) * kernel * kernel + bias
    if layer.type == "InnerProduct":
        n = get("inner_product_param.num_output")
        bias = n if get("inner_product_param.bias_term") else 0
        if shape is None:
            return (n,), None
        fan_in = 1
        for d in shape:
            fan_in *= d
        return (n,), n * fan_in + bias
    if layer.type == "Pooling":
        if shape is None or len(shape) != 3:
            return None, 0
        if get("pooling_param.global_pooling"):
            return (shape[0], 1, 1), 0
        kernel = get("pooling_param.kernel_size") or get("pooling_param.kernel_h") or 1
        stride = get("pooling_param.stride") or 1
        pad = get("pooling_param.pad") or 0
        size = lambda s: -(-(s + 2 * pad - kernel) // stride) + 1  # noqa: E731 - Caffe rounds pooling up
        return (shape[0], size(shape[1]), size(shape[2])), 0
    if layer.type in SAME_SHAPE:
        if layer.type in ("Scale", "Bias", "PReLU"):
            if shape is None:
                return None, None
            bias = shape[0] if layer.type == "Scale" and get("scale_param.bias_term") else 0
            return shape, shape[0] + bias
        return shape, 0
    if layer.type == "Flatten" and shape is not None:
        count = 1
        for d in shape:
            count *= d
        return (count,), 0
    return None, (None if layer.type == "Embed" else 0)


def _one(value, default: int) -> int:
    """A repeated field read with Bound.get: its last value as written, or [] when not written."""
    return default if value == [] or value is None else value

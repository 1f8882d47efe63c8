"""DAT009 datum-shape-mismatch (catalogue: rules/DAT009.yaml).

DataTransformer::Transform (BVLC/caffe:src/caffe/data_transformer.cpp) checks
each record against the layer's settings: crop_size within the image, the
mean image the same shape as the record, one mean_value or one per channel;
records of one batch must share a shape unless cropped.  The record shapes
come from the scan; encoded records and image files from a decoded sample.
"""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.datascan import DataScan
from caffelint.model.datasource import DataSource
from caffelint.rules.data import record_shapes, scanned

IMAGE_CHANNELS = (1, 3, 4)  # grey, colour, colour with alpha


def check_data(source: DataSource, ctx: RuleContext) -> Iterator[Finding]:
    scan = scanned(source)
    if scan is None:
        return
    yield from _payload_sizes(source, scan, ctx)
    shapes, how = record_shapes(source, scan)
    if not shapes:
        return
    main = max(shapes, key=shapes.get)
    text = _shape_text(main)
    yield from _hwc(source, main, how, ctx)
    yield from _mixed(source, shapes, how, ctx)
    crop = source.setting("crop_size")
    if crop is not None and crop.value:
        low_h, low_w = min(s[1] for s in shapes), min(s[2] for s in shapes)
        if crop.value > low_h or crop.value > low_w:
            axis, size = ("height", low_h) if crop.value > low_h else ("width", low_w)
            yield ctx.finding(source.item, f"crop_size {crop.value} is larger than the {how} of "
                                           f"{source.written!r} ({axis} {size}; commonest shape "
                                           f"{text}): Caffe stops with \"Check failed: datum_{axis} >= "
                                           f"crop_size\"", notes=[(crop.item, f"crop_size {crop.value}")])
    mean = source.mean_file
    if mean is not None and mean[1] is not None and mean[1].shape is not None and mean[1].shape != main:
        setting, found = mean
        axis = next(name for i, name in enumerate(("channels", "height", "width")) if found.shape[i] != main[i])
        yield ctx.finding(source.item, f"mean_file {setting.value!r} is {_shape_text(found.shape)} but the "
                                       f"{how} of {source.written!r} are {text}: Caffe stops with \"Check "
                                       f"failed: datum_{axis} == data_mean_.{axis}()\"",
                          notes=[(setting.item, f"mean image {_shape_text(found.shape)}")])
    values = source.setting("mean_value")
    if values is not None and len(values.value) not in (1, main[0]):
        yield ctx.finding(source.item, f"{len(values.value)} mean_value for the {main[0]}-channel {how} of "
                                       f"{source.written!r}: Caffe stops with \"Specify either 1 mean_value "
                                       f"or as many as channels: {main[0]}\"",
                          notes=[(values.item, f"{len(values.value)} mean_value")])


def _payload_sizes(source: DataSource, scan: DataScan, ctx: RuleContext) -> Iterator[Finding]:
    for shape, n in scan.shapes.items():
        if len(shape) != 5 or shape[3] not in ("uint8", "float") or scan.format != "lmdb":
            continue
        channels, height, width, payload, size = shape
        if channels <= 0:
            yield ctx.finding(source.item, f"{n:,} records of {source.written!r} have channels {channels}: "
                                           f"Caffe stops with \"Check failed: datum_channels > 0\"")
        elif channels * height * width != size:
            unit = "bytes" if payload == "uint8" else "floats"
            yield ctx.finding(source.item, f"{n:,} records of {source.written!r} say {_shape_text(shape)} "
                                           f"= {channels * height * width:,} values but hold {size:,} {unit}: "
                                           f"Caffe indexes the payload by the shape and reads out of bounds")


def _hwc(source: DataSource, shape: tuple, how: str, ctx: RuleContext) -> Iterator[Finding]:
    channels, height, width = shape
    if channels not in IMAGE_CHANNELS and width in IMAGE_CHANNELS and height > max(IMAGE_CHANNELS):
        yield ctx.finding(source.item, f"the {how} of {source.written!r} say channels {channels}, height "
                                       f"{height}, width {width}: pixels written height-width-channel "
                                       f"(numpy/OpenCV order) where Caffe expects channels first; "
                                       f"transpose each image with .transpose(2, 0, 1) before storing it")


def _mixed(source: DataSource, shapes: dict[tuple, int], how: str, ctx: RuleContext) -> Iterator[Finding]:
    if len(shapes) < 2:
        return
    crop = source.value("crop_size", 0) or 0
    batch = source.batch_size
    channels = {s[0] for s in shapes}
    fits_crop = crop and all(s[1] >= crop and s[2] >= crop for s in shapes)
    if len(channels) == 1 and (fits_crop or batch <= 1):
        return  # crops of one size from each, or one record per batch: Caffe copes
    ranked = sorted(shapes.items(), key=lambda item: -item[1])
    listed = ", ".join(f"{_shape_text(s)} ({n:,})" for s, n in ranked[:4])
    more = f" and {len(ranked) - 4} more" if len(ranked) > 4 else ""
    if len(channels) > 1:
        why = "records of one batch must have the same channels (\"Check failed: channels == datum_channels\")"
    else:
        why = (f"with batch_size {batch} and no crop_size every record of a batch must match the first "
               f"(\"Check failed: datum_height == height\"); resize when converting "
               f"(convert_imageset --resize_height/--resize_width) or crop")
    yield ctx.finding(source.item, f"the {how} of {source.written!r} come in {len(ranked)} shapes: "
                                   f"{listed}{more}; {why}")


def _shape_text(shape: tuple) -> str:
    return "x".join(str(d) for d in shape[:3])

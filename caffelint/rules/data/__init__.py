"""Rules that read the data behind a net: LMDB databases of Datums, image lists, HDF5 files.

Shared queries of these rules: a source's usable scan and label statistics,
the record shapes Caffe's transformer gets, and phrases for messages.
"""

from __future__ import annotations

from caffelint.model.datascan import DataScan
from caffelint.model.datasource import DataSource
from caffelint.model.labels import LabelStats

SCANNED_KINDS = ("lmdb", "imagelist", "hdf5")


def scanned(source) -> DataScan | None:
    """The scan of a source that exists and could be read and inspected, else None."""
    if source.kind not in SCANNED_KINDS:
        return None
    scan = source.scan
    return scan if scan.usable else None


def labels_of(source) -> tuple[DataScan, LabelStats] | None:
    """(scan, labels) when the source was read and the net takes its labels (a second top)."""
    scan = scanned(source)
    if scan is None or source.label_top is None or scan.labels is None or not scan.labels.records:
        return None
    if scan.labels.overflow:
        return None  # over a million distinct values: regression targets, not class labels
    return scan, scan.labels


def name_of(source) -> str:
    """The source as written, for messages."""
    return repr(source.written)


def classes_text(values: list[int], limit: int = 8) -> str:
    """1, 2, 5 ... (n in all) for long lists."""
    shown = ", ".join(str(v) for v in values[:limit])
    return shown + (f" ... ({len(values)} in all)" if len(values) > limit else "")


def num_output_node(layer):
    """The num_output value node of a classifier (for notes), or the layer."""
    for param in ("inner_product_param", "convolution_param"):
        block = layer.param(param)
        if block is not None and block.has("num_output"):
            return block.entry("num_output").item
    return layer.node


def record_shapes(source: DataSource, scan: DataScan) -> tuple[dict[tuple, int], str]:
    """(channels, height, width) -> records, and how they were seen, as Caffe's transformer gets them."""
    shapes: dict[tuple, int] = {}
    if scan.decoded_shapes:
        for shape, n in scan.decoded_shapes.items():
            shapes[shape[:3]] = shapes.get(shape[:3], 0) + n
        how = f"images (decoded sample of {sum(scan.decoded_shapes.values())})"
        if source.layer.type == "ImageData" and source.param is not None:
            height, width = source.param.get("new_height"), source.param.get("new_width")
            if height > 0 and width > 0:  # ImageDataLayer resizes every image first
                return {(c, height, width): sum(shapes.values()) for c in {s[0] for s in shapes}}, \
                    f"images (resized to {height}x{width})"
        return shapes, how
    for shape, n in scan.shapes.items():
        if len(shape) == 5 and shape[3] in ("uint8", "float"):
            shapes[shape[:3]] = shapes.get(shape[:3], 0) + n
    return shapes, "records"

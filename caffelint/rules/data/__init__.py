"""Rules that read the data behind a net: LMDB databases of Datums, image lists, HDF5 files.

Shared queries of these rules: a source's usable label statistics and the
phrases that say how much of the source a finding rests on.
"""

from __future__ import annotations

from caffelint.model.datascan import DataScan
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

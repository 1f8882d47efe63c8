"""DAT007 data-not-shuffled (catalogue: rules/DAT007.yaml).

Caffe's Data layer reads an LMDB in key order, and ImageData/HDF5Data read
their lists in order unless `shuffle: true`.  Labels that come in runs make
batches of one class: a runs test against a random order, and the longest run
against the batch size, say whether they do.
"""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.datasource import DataSource
from caffelint.rules.data import labels_of
from caffelint.rules.net.imagedata_not_shuffled import PARAMS as IMAGE_LISTS

CHANCE = 1e-3  # a run this unlikely in a random order is evidence, not luck
IMAGEDATA_NOT_SHUFFLED = "INP005"  # reports every TRAIN ImageData layer without shuffle


def check_data(source: DataSource, ctx: RuleContext) -> Iterator[Finding]:
    if "TRAIN" not in source.phases:
        return  # a test pass averages over every batch: order does not matter there
    if source.layer.type != "Data" and source.param is not None and source.param.get("shuffle"):
        return  # ImageData and HDF5Data reshuffle every epoch
    if source.layer.type in IMAGE_LISTS and IMAGEDATA_NOT_SHUFFLED in ctx.enabled:
        return  # that rule reports the layer (shuffle is off), with the fix: one finding, not two
    found = labels_of(source)
    if found is None:
        return
    scan, labels = found
    test = labels.shuffle_test()
    if test is None:
        return
    batch = source.batch_size
    longest = labels.longest
    long_run = (not scan.sampled and batch > 1 and longest.length >= batch
                and labels.chance_of_run(longest.length) < CHANCE)
    runs = test.z < -ctx.options["z_threshold"] and test.ratio < ctx.options["max_change_ratio"]
    if not (runs or long_run):
        return
    order = "key order" if scan.format == "lmdb" else "list order"
    text = (f"labels of {source.written!r} come in runs in {order}, the order Caffe reads them: "
            f"{test.changes:,} label changes between {test.pairs:,} adjacent records where a random "
            f"order gives about {test.expected:,.0f} (runs test z = {test.z:.1f})")
    if scan.sampled:
        text += (f"; {labels.single_label_segments} of {labels.segments} sampled stretches of about "
                 f"{scan.scanned // max(1, labels.segments)} consecutive records hold a single label")
    else:
        text += (f"; the longest run is {longest.length:,} records of label {longest.label} (records "
                 f"{longest.start:,}..{longest.start + longest.length - 1:,})")
        if batch > 1 and longest.length >= batch:
            text += f", more than batch_size {batch}, so whole batches hold a single class"
    yield ctx.finding(source.item, f"{text}; {_remedy(source)}")


def _remedy(source: DataSource) -> str:
    if source.layer.type == "Data":
        listing = source.list_file() or "LISTFILE"
        return (f"rebuild it shuffled: convert_imageset --shuffle ROOTFOLDER/ {listing} {source.written} "
                f"(or shuffle the list first: shuf {listing} -o {listing})")
    if source.layer.type == "ImageData":
        return (f"set shuffle: true in image_data_param (Caffe then reshuffles every epoch), or shuffle "
                f"the list once: shuf {source.written} -o {source.written}")
    return "set shuffle: true in hdf5_data_param (Caffe then shuffles files and rows every epoch)"

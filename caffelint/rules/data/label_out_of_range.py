"""DAT006 label-out-of-range (catalogue: rules/DAT006.yaml).

A label at or above the classifier's num_output (or below 0) indexes past the
classifier's outputs; release builds of Caffe do not check it.
"""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.datasource import DataSource
from caffelint.rules.data import classes_text, labels_of, num_output_node


def check_data(source: DataSource, ctx: RuleContext) -> Iterator[Finding]:
    found = labels_of(source)
    if found is None:
        return
    scan, labels = found
    for classifier in source.classifiers():
        bad = sorted(x for x in labels.counts
                     if (x < 0 or x >= classifier.num_output) and x != classifier.ignore_label)
        if not bad:
            continue
        records = sum(labels.counts[x] for x in bad)
        share = records / labels.records
        consumer = classifier.consumer
        text = (f"labels span {labels.low}..{labels.high} in {scan.describe_count()} of "
                f"{source.written!r}, but classifier {classifier.layer.name!r} has num_output "
                f"{classifier.num_output} (valid labels 0..{classifier.num_output - 1}) and feeds "
                f"{consumer.type} {consumer.name!r}: {records:,} records ({share:.1%}) carry label "
                f"{classes_text(bad)}")
        if classifier.ignore_label is not None:
            text += f" (ignore_label {classifier.ignore_label} excepted)"
        text += ("; release builds read past the class scores (debug builds stop with \"Check failed: "
                 "label_value < num_labels\")")
        yield ctx.finding(source.item, text, notes=[(num_output_node(classifier.layer),
                                                     f"num_output {classifier.num_output}")])

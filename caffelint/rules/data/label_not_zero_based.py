"""DAT004 label-not-zero-based (catalogue: rules/DAT004.yaml).

Caffe's classification losses read a label as the index of a class, 0..C-1;
labels that start at 1 leave output 0 untrained and push the largest class
out of range.
"""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.datasource import DataSource
from caffelint.rules.data import labels_of, num_output_node


def check_data(source: DataSource, ctx: RuleContext) -> Iterator[Finding]:
    found = labels_of(source)
    if found is None:
        return
    scan, labels = found
    if labels.low is None or labels.low <= 0:
        return
    missing = len(labels.missing_between())
    text = (f"labels span {labels.low}..{labels.high} ({labels.classes} classes, "
            f"{missing or 'none'} missing between) in {scan.describe_count()} of {source.written!r}: "
            f"label 0 never occurs")
    notes = []
    for classifier in source.classifiers():
        text += f"; classifier {classifier.layer.name!r} has num_output {classifier.num_output}"
        if labels.high >= classifier.num_output:
            text += f", so label {labels.high} is out of range"
        notes.append((num_output_node(classifier.layer), f"num_output {classifier.num_output}"))
    text += f"; subtract {labels.low} from every label in the list the data was built from"
    yield ctx.finding(source.item, text, notes=notes)

"""DAT008 class-imbalance (catalogue: rules/DAT008.yaml).

A plain softmax loss weighs every record alike, so a class with a hundredth of
the records of another is a hundredth of the gradient.
"""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.datasource import DataSource
from caffelint.rules.data import labels_of


def check_data(source: DataSource, ctx: RuleContext) -> Iterator[Finding]:
    if "TRAIN" not in source.phases:
        return
    found = labels_of(source)
    if found is None:
        return
    scan, labels = found
    counts = {label: n for label, n in labels.counts.items() if label >= 0}
    if not 2 <= len(counts) <= ctx.options["max_classes"]:
        return
    common = max(counts, key=counts.get)
    rare = min(counts, key=counts.get)
    ratio = counts[common] / counts[rare]
    if ratio <= ctx.options["max_ratio"]:
        return
    share = counts[rare] / labels.records
    yield ctx.finding(source.item, f"classes of {source.written!r} are imbalanced {ratio:.0f}:1 in "
                                   f"{scan.describe_count()}: label {common} has {counts[common]:,} records, "
                                   f"label {rare} {counts[rare]:,} ({share:.1%}); a plain softmax loss learns "
                                   f"the rare classes little (consider resampling or InfogainLoss weights)")

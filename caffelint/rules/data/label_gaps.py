"""DAT005 label-gaps (catalogue: rules/DAT005.yaml).

Labels that never occur between the smallest and the largest, and classifier
outputs above the largest label, are classes the net is asked to learn from
no example at all.
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
    low, high = max(labels.low, 0), labels.high
    if high < low:
        return
    if scan.sampled and _independent_draws(labels) < ctx.options["min_sample_per_class"] * (high - low + 1):
        return  # a sample can miss a rare class by chance: only trust one with many draws per class
    missing = [x for x in labels.missing_between() if x >= 0]
    if missing:
        yield ctx.finding(source.item, f"labels span {labels.low}..{high} in {scan.describe_count()} of "
                                       f"{source.written!r}, but {classes_text(missing)} never occur "
                                       f"({labels.classes} of {high - low + 1} classes present): "
                                       f"{_consequence(source)}")
    if scan.sampled:
        return
    for classifier in source.classifiers():
        unused = classifier.num_output - 1 - high
        if unused > 0 and high >= 0:
            above = str(high + 1) if unused == 1 else f"{high + 1}..{classifier.num_output - 1}"
            yield ctx.finding(source.item, f"classifier {classifier.layer.name!r} has num_output "
                                           f"{classifier.num_output} but the labels of {source.written!r} "
                                           f"stop at {high}: outputs {above} are never a target (set "
                                           f"num_output: {high + 1} unless those classes come later)",
                              notes=[(num_output_node(classifier.layer),
                                      f"num_output {classifier.num_output}")])


def _consequence(source: DataSource) -> str:
    if "TRAIN" in source.phases:
        return "their outputs are trained on no example"
    return "those classes are never tested"


def _independent_draws(labels) -> int:
    """Records of a sample that count as independent draws: all of them in a random order, else
    one per stretch (in sorted data a stretch of consecutive records shows one class)."""
    test = labels.shuffle_test()
    return labels.records if test is not None and test.ratio > 0.8 else labels.segments

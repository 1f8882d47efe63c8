"""BN002 batchnorm-global-stats-in-train (catalogue: rules/BN002.yaml).

use_global_stats unset means "false when the network is in the training phase
and true when the network is in the testing phase" (BatchNormParameter in
BVLC/caffe:src/caffe/proto/caffe.proto); writing it fixes one value for every
phase the layer is in.
"""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.edits import remove_field
from caffelint.engine import RuleContext
from caffelint.findings import UNSAFE, Finding, Fix
from caffelint.model.net import TEST, TRAIN, Layer, NetView, PhaseGraph


def check_net(net: NetView, ctx: RuleContext) -> Iterator[Finding]:
    reported: set[Layer] = set()
    for graph in net.graphs():
        phase = graph.state.phase
        if phase == TRAIN and not net.is_training_net:
            continue
        for bn in graph.layers_of_type("BatchNorm"):
            param = bn.param("batch_norm_param")
            if bn in reported or param is None or not param.has("use_global_stats"):
                continue
            value = param.get("use_global_stats")
            if phase == TRAIN and value and not _frozen(graph, bn):
                problem = (f"uses the stored mean and variance in {graph.state.describe()}: they are never "
                           f"updated while it is true, so the layer normalises with its initial statistics "
                           f"instead of each batch's")
            elif phase == TEST and not value:
                problem = (f"normalises with each batch's statistics in {graph.state.describe()}: test and "
                           f"deployed outputs depend on what else is in the batch")
            else:
                continue
            reported.add(bn)
            entry = param.entry("use_global_stats")
            fix = Fix("Remove use_global_stats so the phase default applies", UNSAFE,
                      (remove_field(ctx.source, entry.node),))
            yield ctx.finding(entry.item, f"BatchNorm '{bn.name}' has use_global_stats: "
                                          f"{str(value).lower()} and {problem}", fix=fix)


def _frozen(graph: PhaseGraph, bn: Layer) -> bool:
    """Fine-tuning with frozen BatchNorm: the Scale after it does not learn either (lr_mult 0)."""
    readers = graph.readers(bn, bn.tops[0]) if bn.tops else []
    return any(r.type == "Scale" and r.is_frozen for r in readers)

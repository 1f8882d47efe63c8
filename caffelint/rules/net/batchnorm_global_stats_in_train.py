"""BN002 batchnorm-global-stats-in-train (catalogue: rules/BN002.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.edits import remove_field
from caffelint.engine import RuleContext
from caffelint.findings import UNSAFE, Finding, Fix
from caffelint.model.batchnorm import written_global_stats
from caffelint.model.net import TRAIN, Layer, NetView, PhaseGraph


def check_net(net: NetView, ctx: RuleContext) -> Iterator[Finding]:
    if not net.is_training_net:
        return
    for graph, bn, entry in written_global_stats(net, TRAIN):
        if entry.value and not _frozen(graph, bn):
            fix = Fix("Remove use_global_stats so the phase default applies", UNSAFE,
                      (remove_field(ctx.source, entry.node),))
            yield ctx.finding(
                entry.item,
                f"BatchNorm '{bn.name}' has use_global_stats: true and uses the stored mean and variance "
                f"in {graph.state.describe()}: they are never updated while it is true, so the layer "
                f"normalises with its initial statistics instead of each batch's", fix=fix)


def _frozen(graph: PhaseGraph, bn: Layer) -> bool:
    """Fine-tuning with frozen BatchNorm: the Scale after it does not learn either (lr_mult 0)."""
    readers = graph.readers(bn, bn.tops[0]) if bn.tops else []
    return any(r.type == "Scale" and r.is_frozen for r in readers)

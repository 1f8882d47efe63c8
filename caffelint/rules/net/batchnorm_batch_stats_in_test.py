"""BN005 batchnorm-batch-stats-in-test (catalogue: rules/BN005.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.edits import remove_field
from caffelint.engine import RuleContext
from caffelint.findings import UNSAFE, Finding, Fix
from caffelint.model.batchnorm import written_global_stats
from caffelint.model.net import TEST, NetView


def check_net(net: NetView, ctx: RuleContext) -> Iterator[Finding]:
    for graph, bn, entry in written_global_stats(net, TEST):
        if not entry.value:
            fix = Fix("Remove use_global_stats so the phase default applies", UNSAFE,
                      (remove_field(ctx.source, entry.node),))
            yield ctx.finding(
                entry.item,
                f"BatchNorm '{bn.name}' has use_global_stats: false and normalises with each batch's "
                f"statistics in {graph.state.describe()}: test and deployed outputs depend on what else "
                f"is in the batch", fix=fix)

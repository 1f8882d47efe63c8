"""BN003 batchnorm-learnable-stats (catalogue: rules/BN003.yaml).

BatchNorm's three blobs (mean, variance, moving-average factor) are statistics,
not parameters: LayerSetUp adds `param { lr_mult: 0 }` itself and checks any
written one ("Cannot configure batch normalization statistics as layer
parameters.", BVLC/caffe:src/caffe/layers/batch_norm_layer.cpp); a layer with
exactly three param blocks is first rewritten to lr_mult 0 (UpgradeNetBatchNorm
in src/caffe/util/upgrade_proto.cpp).
"""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.edits import remove_field
from caffelint.engine import RuleContext
from caffelint.findings import SAFE, Finding, Fix
from caffelint.model.net import Layer, NetView

STAT_BLOBS = 3


def check_net(net: NetView, ctx: RuleContext) -> Iterator[Finding]:
    legacy: list[tuple[Layer, list[float]]] = []
    for bn in net.layers:
        if bn.type != "BatchNorm" or bn.version != 2 or not bn.bound.has("param"):
            continue
        learning = [m for m in bn.lr_mults if m != 0]
        if learning and len(bn.bound.entries_of("param")) != STAT_BLOBS:
            yield ctx.finding(
                bn.bound.entries_of("param")[0].node.name,
                f"Cannot configure batch normalization statistics as layer parameters. (BatchNorm "
                f"'{bn.name}' gives lr_mult {_listed(learning)}: Caffe stops)", fix=_remove_params([bn], ctx))
        else:
            legacy.append((bn, learning))
    if not legacy:
        return
    first, _ = legacy[0]
    ignored = [(bn, learning) for bn, learning in legacy if learning]
    count = f"{len(legacy)} BatchNorm layers have" if len(legacy) > 1 else f"BatchNorm '{first.name}' has"
    message = f"{count} param blocks on their statistics: redundant, Caffe fixes their lr_mult to 0 itself"
    if ignored:
        bn, learning = ignored[0]
        message += (f"; the lr_mult {_listed(learning)} written on '{bn.name}' is silently set to 0 "
                    f"(they are statistics, not weights)")
    others = [(bn.bound.entries_of("param")[0].node.name, "param blocks here") for bn, _ in legacy[1:6]]
    yield ctx.finding(first.bound.entries_of("param")[0].node.name, message, notes=others,
                      fix=_remove_params([bn for bn, _ in legacy], ctx))


def _remove_params(layers: list[Layer], ctx: RuleContext) -> Fix | None:
    entries = [entry for bn in layers for entry in bn.bound.entries_of("param")]
    if any(entry.value.has("name") or entry.value.has("share_mode") for entry in entries):
        return None  # a named param shares the statistics with another layer: keep the sharing
    return Fix("Remove the param blocks", SAFE, tuple(remove_field(ctx.source, e.node) for e in entries))


def _listed(values: list[float]) -> str:
    return ", ".join(f"{v:g}" for v in values)

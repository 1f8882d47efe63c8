"""NET009 fork-layer-type (catalogue: rules/NET009.yaml).

A layer type that BVLC Caffe does not register but a known fork does: the net
needs that fork's build (layer types: caffelint/data/layer_types.yaml `forks:`,
forks: caffelint/data/forks.yaml).
"""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model import layer_types
from caffelint.model.forks import describe, schema_has_fork, type_forks
from caffelint.model.net import Layer, NetView


def check_net(net: NetView, ctx: RuleContext) -> Iterator[Finding]:
    bvlc = layer_types.bvlc_types()
    schema = getattr(ctx.run, "schema", None)
    by_type: dict[str, list[Layer]] = {}
    for layer in net.layers:
        if layer.type not in bvlc and type_forks(layer.type):
            by_type.setdefault(layer.type, []).append(layer)
    for kind, layers in by_type.items():
        forks = type_forks(kind)
        if schema is not None and any(schema_has_fork(schema, fork) for fork in forks):
            continue  # checked against a fork's caffe.proto (--proto): that Caffe has the type
        first = layers[0]
        count = f"{len(layers)} layers, first '{first.name}'" if len(layers) > 1 else f"layer '{first.name}'"
        yield ctx.finding(
            first.type_node,
            f"layer type '{kind}' ({count}) is not BVLC Caffe's: it comes from {describe(forks)}; "
            f"BVLC Caffe stops with \"Unknown layer type: {kind}\"")

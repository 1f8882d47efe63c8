"""BatchNorm's use_global_stats as written, per phase.

Left unset it is "false when the network is in the training phase and true
when the network is in the testing phase" (BatchNormParameter in
BVLC/caffe:src/caffe/proto/caffe.proto); written, it holds in every phase.
"""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.model.net import Layer, NetView, PhaseGraph
from caffelint.schema.bound import Entry


def written_global_stats(net: NetView, phase: str) -> Iterator[tuple[PhaseGraph, Layer, Entry]]:
    """(graph, BatchNorm layer, use_global_stats entry) for each layer of `phase` that writes it."""
    seen: set[Layer] = set()
    for graph in net.graphs():
        if graph.state.phase != phase:
            continue
        for bn in graph.layers_of_type("BatchNorm"):
            param = bn.param("batch_norm_param")
            if bn in seen or param is None or not param.has("use_global_stats"):
                continue
            seen.add(bn)
            yield graph, bn, param.entry("use_global_stats")

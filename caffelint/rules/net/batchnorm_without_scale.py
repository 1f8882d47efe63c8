"""BN001 batchnorm-without-scale (catalogue: rules/BN001.yaml).

Caffe's BatchNorm only standardises; the learned scale and shift come from a
Scale layer with bias_term: true after it (BVLC/caffe:include/caffe/layers/batch_norm_layer.hpp).
"""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.edits import insert_layer_after, quote, quote_of, set_field
from caffelint.engine import RuleContext
from caffelint.findings import UNSAFE, Finding, Fix
from caffelint.model.net import Layer, NetView, PhaseGraph


def check_net(net: NetView, ctx: RuleContext) -> Iterator[Finding]:
    reported: set[Layer] = set()
    for graph in net.graphs():
        for bn in graph.layers_of_type("BatchNorm"):
            if bn in reported or not bn.tops:
                continue
            readers = graph.readers(bn, bn.tops[0])
            scales = [r for r in readers if r.type == "Scale" and len(r.bottoms) == 1]
            if any(_has_shift(graph, scale) for scale in scales):
                continue
            reported.add(bn)
            if scales:
                scale = scales[0]
                edit = set_field(ctx.source, scale.bound, "scale_param.bias_term", "true")
                yield ctx.finding(
                    scale.name_node,
                    f"Scale '{scale.name}' after BatchNorm '{bn.name}' has no bias_term (its default is "
                    f"false): the normalised output gets a learned scale but no learned shift",
                    notes=[(bn.name_node, "BatchNorm here")],
                    fix=Fix("Set bias_term: true", UNSAFE, (edit,)))
                continue
            yield ctx.finding(
                bn.name_node,
                f"BatchNorm '{bn.name}' is not followed by a Scale layer with bias_term: true: Caffe's "
                f"BatchNorm has no learned scale and shift, so every channel stays at mean 0 and "
                f"variance 1",
                fix=_insert_scale(net, bn, ctx))


def _has_shift(graph: PhaseGraph, scale: Layer) -> bool:
    """Scale with bias_term, or Scale followed by a Bias layer."""
    if scale.get("scale_param.bias_term"):
        return True
    return bool(scale.tops) and any(r.type == "Bias" for r in graph.readers(scale, scale.tops[0]))


def _insert_scale(net: NetView, bn: Layer, ctx: RuleContext) -> Fix:
    names = {layer.name for layer in net.layers}
    name = next(n for n in (f"{bn.name}_scale", f"scale_{bn.name}", f"{bn.name}_scale2") if n not in names)
    q = quote_of(bn.bound)
    top = bn.tops[0]
    snippet = (f"layer {{\n  name: {quote(name, q)}\n  type: {quote('Scale', q)}\n"
               f"  bottom: {quote(top, q)}\n  top: {quote(top, q)}\n"
               f"  scale_param {{\n    bias_term: true\n  }}\n}}")
    return Fix(f"Insert Scale '{name}' with bias_term after '{bn.name}'", UNSAFE,
               (insert_layer_after(ctx.source, bn.node, snippet),))

"""NET020 wrong-blob-count (catalogue: rules/NET020.yaml).

Layer::SetUp first runs CheckBlobCounts against the layer's {ExactNum,Min,Max}
{Bottom,Top}Blobs (BVLC/caffe:include/caffe/layer.hpp), then SetLossWeights:
"loss_weight must be unspecified or specified once per top blob."  The counts
of each type are in caffelint/data/layer_specs.yaml.  Net::Init checks every
layer's propagate_down, whatever its type: "propagate_down param must be
specified either 0 or bottom_size times" (BVLC/caffe:src/caffe/net.cpp).
"""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.layer_specs import Bounds, LayerSpec, checkable
from caffelint.model.net import Layer, NetView


def check_net(net: NetView, ctx: RuleContext) -> Iterator[Finding]:
    for layer in net.layers:
        spec = checkable(layer)
        problems = _problems(layer, spec) if spec is not None else iter(())
        for where, message in (*problems, *_propagate_down(layer)):
            yield ctx.finding(where, f"{layer.type} '{layer.name}': {message}")


def _propagate_down(layer: Layer) -> Iterator[tuple[object, str]]:
    flags = layer.bound.entries_of("propagate_down") if "propagate_down" in layer.bound.schema.fields else []
    if flags and len(flags) != len(layer.bottoms):
        where = flags[len(layer.bottoms)].item if len(flags) > len(layer.bottoms) else flags[0].item
        yield where, (f"{len(flags)} propagate_down for {_count(len(layer.bottoms), 'bottom')} (propagate_down "
                      f"param must be specified either 0 or bottom_size times)")


def _problems(layer: Layer, spec: LayerSpec) -> Iterator[tuple[object, str]]:
    bottoms, tops = len(layer.bottoms), spec.effective_tops(layer)
    accepted = spec.bottoms(layer)
    if accepted is not None and not accepted.accepts(bottoms):
        yield _place(layer, "bottom", accepted), (
            f"{_count(bottoms, 'bottom')}, but {layer.type} takes {accepted.describe()} "
            f"({_caffe(layer.type, accepted, bottoms, 'takes', 'bottom', 'input')})")
    accepted = spec.tops(layer)
    if accepted is not None and not accepted.accepts(tops):
        yield _place(layer, "top", accepted), (
            f"{_count(len(layer.tops), 'top')}, but {layer.type} produces {accepted.describe()} "
            f"({_caffe(layer.type, accepted, tops, 'produces', 'top', 'output')})")
    if spec.one_top_per_bottom and bottoms != len(layer.tops):
        yield layer.type_node, (f"{_count(bottoms, 'bottom')} and {_count(len(layer.tops), 'top')} "
                                f"({layer.type} Layer produces one top blob as output for each bottom blob input.)")
    if spec.tops_per_bottoms is not None and bottoms and len(layer.tops) != bottoms + spec.tops_per_bottoms:
        yield layer.type_node, (f"{_count(bottoms, 'bottom')} need {bottoms + spec.tops_per_bottoms} tops, "
                                f"one per bottom but the selector; it has {len(layer.tops)}")
    weights = layer.bound.entries_of("loss_weight") if "loss_weight" in layer.bound.schema.fields else []
    if weights and len(weights) != tops:
        yield weights[0].item, (f"{len(weights)} loss_weight for {_count(tops, 'top')} (loss_weight must be "
                                f"unspecified or specified once per top blob.)")


def _place(layer: Layer, kind: str, accepted: Bounds):
    """The first surplus bottom/top when there are too many, else the layer's type."""
    entries = layer.bound.entries_of(kind)
    if accepted.hi is not None and len(entries) > accepted.hi:
        return entries[accepted.hi].item
    return layer.type_node


def _count(n: int, kind: str) -> str:
    return f"{n} {kind} blob{'' if n == 1 else 's'}"


def _caffe(type_name: str, accepted: Bounds, n: int, verb: str, kind: str, role: str) -> str:
    """Caffe's own CheckBlobCounts message for the bound that fails."""
    if accepted.exact:
        amount = f"{accepted.lo}"
    elif n < accepted.lo:
        amount = f"at least {accepted.lo}"
    else:
        amount = f"at most {accepted.hi}"
    return f"{type_name} Layer {verb} {amount} {kind} blob(s) as {role}."

"""NET022 too-many-param-blocks (catalogue: rules/NET022.yaml).

Net::Init refuses more `param {}` than the layer has parameter blobs ("Too many
params specified for layer"), and Net::AppendParam checks each blob shared by
name against its owner: the shape ("Cannot share param ... shape mismatch",
only the count with share_mode PERMISSIVE), lr_mult and decay_mult ("Shared
param '<p>' has mismatched lr_mult.").  BVLC/caffe:src/caffe/net.cpp.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.layer_specs import checkable
from caffelint.model.net import Layer, NetState, NetView, scope
from caffelint.model.shape_step import describe, product
from caffelint.model.shapes import shapes_of


def check_net(net: NetView, ctx: RuleContext) -> Iterator[Finding]:
    for layer in net.layers:
        yield from _too_many(layer, ctx)
    found: dict[tuple, tuple[object, str, list, list[NetState]]] = {}
    for graph in net.graphs():
        result = shapes_of(net, graph)
        for where, message, notes in _sharing(graph.layers, result.params):
            found.setdefault((where.start, message), (where, message, notes, []))[3].append(graph.state)
    checked = net.states()
    for where, message, notes, states in found.values():
        yield ctx.finding(where, message + scope(states, checked), notes=notes)


def _too_many(layer: Layer, ctx: RuleContext) -> Iterator[Finding]:
    spec = checkable(layer)
    blobs = spec.param_blobs(layer) if spec is not None else None
    if blobs is None:
        return
    entries = _param_entries(layer)
    if len(entries) <= blobs:
        return
    what = f"{blobs} parameter blob{'' if blobs == 1 else 's'}" if blobs else "no parameter blobs"
    yield ctx.finding(entries[blobs].node, (
        f"Too many params specified for layer {layer.name}: {len(entries)} `{entries[0].field.name}` "
        f"for {what} ({_blobs_of(layer, blobs)})"))


def _param_entries(layer: Layer) -> list:
    """One entry per ParamSpec Caffe builds: V2 `param {}`; V1 the longest of `param` names,
    `blobs_lr` and `weight_decay` (UpgradeV1LayerParameter adds one ParamSpec per index)."""
    if layer.version >= 2:
        return layer.bound.entries_of("param")
    lists = [layer.bound.entries_of(name) for name in ("param", "blobs_lr", "weight_decay")]
    return max(lists, key=len)


def _blobs_of(layer: Layer, blobs: int) -> str:
    kind = layer.type
    if kind in ("Convolution", "Deconvolution", "InnerProduct", "Embed"):
        return "the weights" + (" and the bias" if blobs == 2 else "; bias_term is false")
    if kind in ("Scale", "Bias"):
        return "what its bias_term and its number of bottoms leave"
    if kind == "BatchNorm":
        return "mean, variance and the moving-average factor"
    if blobs == 0:
        return f"{kind} learns nothing"
    return f"{kind}'s own"


@dataclass
class _Owner:
    layer: Layer
    index: int
    shape: tuple | None
    lr_mult: float | None
    decay_mult: float | None
    node: object


def _sharing(layers: list[Layer], params: dict) -> Iterator[tuple[object, str, list]]:
    """Net::AppendParam over one graph: the first layer naming a param owns it."""
    owners: dict[str, _Owner] = {}
    for layer in layers:
        if layer.version < 2:
            continue  # V1 shares by `param` name too, but without ParamSpec fields to compare
        spec = checkable(layer)
        blobs = spec.param_blobs(layer) if spec is not None else None
        shapes = params.get(layer.index) or []
        for i, entry in enumerate(layer.bound.entries_of("param")[:blobs]):
            param = entry.value
            name = param.get("name")
            if not name:
                continue
            shape = shapes[i] if i < len(shapes) else None
            lr = param.get("lr_mult") if param.has("lr_mult") else None
            decay = param.get("decay_mult") if param.has("decay_mult") else None
            owner = owners.get(name)
            if owner is None:
                owners[name] = _Owner(layer, i, shape, lr, decay, entry.node)
                continue
            note = [(owner.node, f"'{name}' is owned by layer '{owner.layer.name}' here")]
            yield from _compare(layer, name, param, shape, owner, entry, note)
            if lr is not None and owner.lr_mult is None:
                owner.lr_mult = lr  # Caffe adopts the sharer's value when the owner left it unset
            if decay is not None and owner.decay_mult is None:
                owner.decay_mult = decay


def _compare(layer: Layer, name: str, param, shape, owner: _Owner, entry, note) -> Iterator[tuple]:
    permissive = param.get("share_mode") == "PERMISSIVE"
    if shape is not None and owner.shape is not None and None not in shape and None not in owner.shape:
        if permissive and product(shape) != product(owner.shape):
            yield entry.node, (f"Cannot share param '{name}' owned by layer '{owner.layer.name}' with layer "
                               f"'{layer.name}'; count mismatch: {describe(owner.shape)} vs "
                               f"{describe(shape)}"), note
        elif not permissive and tuple(shape) != tuple(owner.shape):
            yield entry.node, (f"Cannot share param '{name}' owned by layer '{owner.layer.name}' with layer "
                               f"'{layer.name}'; shape mismatch. Owner layer param shape is "
                               f"{describe(owner.shape)}; sharing layer expects shape {describe(shape)}"), note
    for field, mine in (("lr_mult", "lr_mult"), ("decay_mult", "decay_mult")):
        theirs = owner.lr_mult if field == "lr_mult" else owner.decay_mult
        if param.has(mine) and theirs is not None and param.get(mine) != theirs:
            yield param.entry(mine).item, (f"Shared param '{name}' has mismatched {field}: {param.get(mine)} "
                                           f"here, {theirs} in layer '{owner.layer.name}'"), note

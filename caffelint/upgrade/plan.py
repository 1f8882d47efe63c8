"""What in a net or solver is deprecated, and the edits that upgrade it as Caffe would.

Caffe's UpgradeNetAsNeeded runs, in order: V0 -> V1 (padding layers first),
the data-transformation move, V1 -> V2, net inputs -> Input layer, BatchNorm
rates.  The last is batchnorm-learnable-stats' (BN003) to report.  A net in V0 or V1 format is upgraded as a whole by one fix (its
Input layer included), because a half-upgraded net mixing `layers` and
`layer` is one Caffe refuses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from caffelint import edits as ed
from caffelint.findings import Edit
from caffelint.model.net import NetView
from caffelint.model.solver import SolverView
from caffelint.source import SourceFile
from caffelint.upgrade import inputs, v0, v1
from caffelint.upgrade.solver import upgrade_solver_type
from caffelint.upgrade.tables import V0_NET_FIELDS

NET_TITLE = "Upgrade the net to the current format"
MISREAD = {"syntax-error", "unknown-field", "invalid-value", "duplicate-field"}


@dataclass
class Deprecation:
    """One deprecated construct: where, what, and the fix (None: upgrade by hand)."""

    where: Any
    message: str
    title: str = ""
    edits: tuple[Edit, ...] | None = None
    unsafe: list[str] = field(default_factory=list)  # why the fix changes meaning, if it does


def plan_net(net: NetView, source: SourceFile) -> list[Deprecation]:
    bound = net.bound
    quote = ed.quote_of(bound)
    inline = net.file is not None and net.file.kind == "solver"
    found: list[Deprecation] = []
    layers = bound.entries_of("layers")
    if layers:
        found += _old_layers(net, source, quote, inline)
    elif bound.has("input"):
        found.append(_inputs_alone(source, net, quote))
    return found


def plan_solver(solver: SolverView, source: SourceFile) -> list[Deprecation]:
    upgrade = upgrade_solver_type(source, solver.bound)
    if upgrade is None:
        return []
    item = solver.bound.entry("solver_type").node
    return [Deprecation(item.name, upgrade.message, "Use the `type` field",
                        tuple(upgrade.edits) if upgrade.edits else None)]


# -- V0 and V1 nets ------------------------------------------------------------------


def _old_layers(net: NetView, source: SourceFile, quote: str, inline: bool) -> list[Deprecation]:
    bound = net.bound
    layers = bound.entries_of("layers")
    first = layers[0].node
    v0_count = sum(1 for e in layers if v0.inner(e) is not None)
    edits: list[Edit] = []
    unsafe: list[str] = []
    manual = ""
    if v0_count == len(layers):
        fmt = "V0 format (`layers { layer { ... } }` with types such as \"conv\"), deprecated since 2014"
        manual = _upgrade_v0(source, net, quote, edits, unsafe)
    elif v0_count:
        fmt = "V0 and V1 formats mixed"
        manual = "it mixes V0 and V1 layers; Caffe's upgrade would keep only bottom and top of the V1 ones"
    else:
        fmt = "V1 format (`layers` blocks with enum types), deprecated since 2015"
        _upgrade_v1(source, net, quote, edits, unsafe)
    extra: list[Deprecation] = []
    if not manual and bound.has("input"):
        upgrade = inputs.upgrade_inputs(source, bound, quote)
        manual = upgrade.manual and f"its inputs cannot become an Input layer: {upgrade.manual}"
        edits += upgrade.edits
        if upgrade.unsafe:
            unsafe.append(upgrade.unsafe)
        extra.append(Deprecation(bound.entry("input").node.name, _inputs_message(upgrade)))
    where = "a net inside the solver" if inline else "the net"
    message = f"{where} uses the {fmt} ({len(layers)} `layers` block{'s' if len(layers) != 1 else ''})"
    if manual:
        return [Deprecation(first.name, f"{message}; upgrade it by hand: {manual}")] + extra
    message += "; Caffe does not upgrade nets written inside a solver and ignores `layers` there" if inline \
        else "; Caffe converts it on every load"
    if _misread(net):  # the fix comes once the errors are fixed (in a later fix round)
        return [Deprecation(first.name, f"{message}; fix the errors inside it, then it can be upgraded")] + extra
    fix_edits = tuple(ed.merge_edits(edits))
    if unsafe:
        message += "; the upgrade " + " and ".join(unsafe)
    out = [Deprecation(first.name, message, NET_TITLE, fix_edits, unsafe)]
    for d in extra:  # the Input layer is part of the same fix: `layer` must not mix with `layers`
        d.title, d.edits, d.unsafe = NET_TITLE, fix_edits, unsafe
    return out + extra


def _upgrade_v1(source: SourceFile, net: NetView, quote: str, edits: list[Edit], unsafe: list[str]) -> None:
    bound = net.bound
    layers = bound.entries_of("layers")
    data_upgrade = v1.needs_data_upgrade(layers)
    for node in dict.fromkeys(e.node for e in layers):  # `layers: [{...}, {...}]` is one field
        edits.append(ed.rename(node.name, "layer"))
    for entry in layers:
        edits += v1.upgrade_v1_layer(source, entry, quote, data_upgrade)
    if bound.has("layer"):
        unsafe.append("keeps the `layer` blocks that Caffe refuses to mix with `layers`, in file order")


def _upgrade_v0(source: SourceFile, net: NetView, quote: str, edits: list[Edit], unsafe: list[str]) -> str:
    """Edits for a V0 net; returns why it must be upgraded by hand ("" if it need not)."""
    bound = net.bound
    layers = bound.entries_of("layers")
    unknown = sorted({t for t in map(v0.v0_type, layers) if not v0.known_v0_type(t)})
    if unknown:
        return f"unknown V0 layer type {unknown[0]!r} (Caffe stops: Unknown layer name)"
    padding, problem = v0.padding_plan(layers, bound.all("input"))
    if problem:
        return problem
    dropped: list[str] = []
    for i, entry in enumerate(layers):
        if v0.v0_type(entry) == v0.PADDING:
            edits.append(ed.remove_field(source, entry.node))
            continue
        text, lost = v0.rewrite_v0_layer(source, entry, quote, padding.get(i))
        dropped += [f"{name} ({v0.v0_type(entry) or 'untyped'} layer {i})" for name in lost]
        edits.append(Edit(entry.node.start, entry.node.full_end, text))
    for entry in bound:
        if entry.field.name not in V0_NET_FIELDS:
            dropped.append(f"net-level {entry.field.name}")
            edits.append(ed.remove_field(source, entry.node))
    if padding:
        unsafe.append("merges padding layers into the layers that read them")
    if dropped:
        unsafe.append("drops what Caffe's V0 upgrade ignores: " + ", ".join(dict.fromkeys(dropped)))
    return ""


def _misread(net: NetView) -> bool:
    """Does the file hold a value Caffe would refuse inside this net (the binder left it out)?"""
    problems = net.file.problems if net.file is not None else []
    start, end = net.bound.start, net.bound.end
    return any(p.rule in MISREAD and start <= p.start < end for p in problems)


# -- V2 nets -------------------------------------------------------------------------


def _inputs_message(upgrade: inputs.InputUpgrade) -> str:
    text = "net-level input fields are deprecated since 2016; Caffe turns them into an Input layer named \"input\""
    if upgrade.manual:
        text += f", but here it cannot: {upgrade.manual}"
    elif upgrade.unsafe:
        text = "net-level `input` without dimensions is deprecated; Caffe removes it"
    return text


def _inputs_alone(source: SourceFile, net: NetView, quote: str) -> Deprecation:
    upgrade = inputs.upgrade_inputs(source, net.bound, quote)
    where = net.bound.entry("input").node.name
    if upgrade.manual:
        return Deprecation(where, _inputs_message(upgrade))
    unsafe = [upgrade.unsafe] if upgrade.unsafe else []
    return Deprecation(where, _inputs_message(upgrade), "Replace the input fields with an Input layer",
                       tuple(upgrade.edits), unsafe)

"""NET008 unknown-layer-type (catalogue: rules/NET008.yaml).

Caffe's layer factory knows the types registered in the build and stops on any
other: "Unknown layer type: <T> (known types: ...)" (CreateLayer in
BVLC/caffe:include/caffe/layer_factory.hpp).  Types of known forks are NET009's.
A type is a local fact of its layer, so it is checked even in a file whose
syntax error stops the graph rules: the user sees every misspelling at once.
"""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.edits import set_string
from caffelint.engine import RuleContext
from caffelint.findings import SAFE, Finding, Fix
from caffelint.model import layer_types
from caffelint.model.files import ParsedFile
from caffelint.model.forks import type_forks
from caffelint.schema import suggest


def check_file(parsed: ParsedFile, ctx: RuleContext) -> Iterator[Finding]:
    known = layer_types.bvlc_types()
    layers = [layer for net in ctx.run.views(parsed) for layer in net.layers]
    for layer in layers:
        if layer.version != 2 or layer.type in known or type_forks(layer.type):
            continue  # V0 and V1 types are enums, checked when the file is bound
        if not layer.type:
            yield ctx.finding(layer.node, f"layer '{layer.name}' has no type: Caffe stops with "
                                          f"\"Unknown layer type: \"")
            continue
        candidates, why = _candidates(layer.type, sorted(known))
        message = f"Unknown layer type: {layer.type} (layer '{layer.name}')"
        fix = None
        if candidates:
            message += f"; {why}" if why else f"; did you mean {' or '.join(repr(c) for c in candidates)}?"
            if len(candidates) == 1:
                fix = Fix(f"Use type '{candidates[0]}'", SAFE,
                          (set_string(ctx.source, layer.type_node, candidates[0]),))
        yield ctx.finding(layer.type_node, message, fix=fix)


def _candidates(written: str, known: list[str]) -> tuple[list[str], str]:
    """Close BVLC types, and a reason when the spelling has a known origin."""
    upgraded = layer_types.v1_type_name(written)
    if upgraded != written and upgraded in known:
        return [upgraded], f"{written} is the V1 enum name of '{upgraded}' (layers {{ }} syntax)"
    from_v0 = layer_types.v0_type_name(written)
    if from_v0 != written and from_v0 in known:
        return [from_v0], f"'{written}' is the V0 name of '{from_v0}'"
    return suggest.close_matches(written, known), ""


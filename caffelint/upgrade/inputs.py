"""Net-level `input` / `input_dim` / `input_shape` -> an Input layer (UpgradeNetInput).

Caffe adds `layer { name: "input" type: "Input" top: <each input>
input_param { shape { dim... } } }` at the front of the net: one shape per
input, from `input_shape` if there is any, else four `input_dim` values per
input (N, C, H, W).  Then it clears all three fields.  An `input` without any
dimensions is simply removed.
"""

from __future__ import annotations

from dataclasses import dataclass

from caffelint import edits as ed
from caffelint.findings import Edit
from caffelint.schema.bound import Bound, Entry
from caffelint.source import SourceFile
from caffelint.syntax.cst import Field

INPUT_FIELDS = ("input", "input_dim", "input_shape")


@dataclass
class InputUpgrade:
    edits: list[Edit]
    unsafe: str = ""  # why the fix changes what the file means, if it does
    manual: str = ""  # why there is no automatic fix


def upgrade_inputs(source: SourceFile, net: Bound, quote: str) -> InputUpgrade:
    inputs, dims, shapes = (net.entries_of(name) for name in INPUT_FIELDS)
    fields = sorted({e.node for name in INPUT_FIELDS for e in net.entries_of(name)}, key=lambda f: f.start)
    if not shapes and not dims:
        return InputUpgrade(ed.merge_edits([ed.remove_field(source, f) for f in fields]),
                            unsafe="removes `input` fields that give no dimensions, as Caffe does")
    if shapes and len(shapes) < len(inputs):
        return InputUpgrade([], manual=f"{len(inputs)} inputs but {len(shapes)} input_shape blocks")
    if not shapes and len(dims) < 4 * len(inputs):
        return InputUpgrade([], manual=f"{len(inputs)} inputs need {4 * len(inputs)} input_dim values, "
                                       f"found {len(dims)}")
    lines: list[tuple[str, Field | None]] = [
        ("layer {", None), (f"  name: {ed.quote('input', quote)}", None),
        (f"  type: {ed.quote('Input', quote)}", None),
    ]
    lines += [(f"  top: {_text(source, e)}", e.node) for e in inputs]
    lines.append(("  input_param {", None))
    for i in range(len(inputs)):
        if shapes:
            shape_dims = [_text(source, d) for d in shapes[i].value.entries_of("dim")]
            origin = shapes[i].node
        else:
            shape_dims = [_text(source, d) for d in dims[4 * i:4 * i + 4]]
            origin = dims[4 * i].node
        lines.append(("    shape { " + "".join(f"dim: {d} " for d in shape_dims) + "}", origin))
    lines += [("  }", None), ("}", None)]
    first_layer = _first_layer(net)
    if first_layer is None or fields[0].start < first_layer.start:
        return InputUpgrade(ed.replace_fields(source, fields, lines))
    snippet = "\n".join(line for line, _ in lines)
    block = net.node
    out = [ed.insert_field(source, block, snippet, before=first_layer)]
    return InputUpgrade(ed.merge_edits(out + [ed.remove_field(source, f) for f in fields]))


def _text(source: SourceFile, entry: Entry) -> str:
    return source.text[entry.item.start:entry.item.end]


def _first_layer(net: Bound) -> Field | None:
    nodes = [e.node for name in ("layer", "layers") for e in net.entries_of(name)]
    return min(nodes, key=lambda f: f.start) if nodes else None

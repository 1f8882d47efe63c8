"""V1 `layers` blocks -> `layer` blocks, as small edits inside each block.

UpgradeV1LayerParameter copies every V1 field unchanged except three kinds:
the enum `type` becomes a string, the per-blob `param`/`blob_share_mode`/
`blobs_lr`/`weight_decay` lists become `param { }` blocks, and (before that,
UpgradeNetDataTransformation) `scale`, `mean_file`, `crop_size` and `mirror`
move from a data layer's own `*_param` into `transform_param`.  So the
upgrade of one block is: rename `layers`, rewrite the type token, replace the
per-blob fields, move the transformation fields; every other line stays.
"""

from __future__ import annotations

from caffelint import edits as ed
from caffelint.findings import Edit
from caffelint.model.layer_types import v1_type_name
from caffelint.schema.bound import Bound, Entry
from caffelint.source import SourceFile
from caffelint.syntax.cst import Field
from caffelint.upgrade.tables import TRANSFORM_FIELDS, V1_DATA_PARAMS, V1_PARAM_FIELDS


def value_text(source: SourceFile, entry: Entry) -> str:
    """A value exactly as written (all pieces of an adjacent-string value included)."""
    return source.text[entry.item.start:entry.item.end]


def needs_data_upgrade(layers: list[Entry]) -> bool:
    """NetNeedsDataUpgrade: a V1 data layer with transformation fields in its own *_param."""
    return any(_transform_entries(entry.value) for entry in layers)


def upgrade_v1_layer(source: SourceFile, entry: Entry, quote: str, data_upgrade: bool) -> list[Edit]:
    """The edits that turn one V1 `layers` block into the `layer` block Caffe would make of it."""
    bound = entry.value
    out: list[Edit] = []
    if bound.has("type"):
        item = bound.entry("type").item
        out.append(ed.set_value(source, item, ed.quote(v1_type_name(bound.get("type")), quote)))
    out += param_blocks(source, bound)
    if data_upgrade:
        out += move_transform_fields(source, bound)
    return out


def param_blocks(source: SourceFile, bound: Bound) -> list[Edit]:
    """`blobs_lr: 1 blobs_lr: 2 weight_decay: 1 ...` -> one `param { }` block per blob."""
    per_blob: dict[int, list[tuple[str, str, Field]]] = {}
    fields: list[Field] = []
    for v1_name, spec_name in V1_PARAM_FIELDS.items():
        for i, entry in enumerate(bound.entries_of(v1_name)):
            per_blob.setdefault(i, []).append((spec_name, value_text(source, entry), entry.node))
            fields.append(entry.node)
    if not fields:
        return []
    lines: list[tuple[str, Field | None]] = []
    for i in sorted(per_blob):
        lines.append(("param {", None))
        lines += [(f"  {name}: {value}", origin) for name, value, origin in per_blob[i]]
        lines.append(("}", None))
    return ed.replace_fields(source, fields, lines)


def _transform_entries(bound: Bound) -> list[Entry]:
    param_name = V1_DATA_PARAMS.get(bound.get("type")) if bound.has("type") else None
    params = bound.msg(param_name) if param_name else None
    if params is None:
        return []
    return [e for name in TRANSFORM_FIELDS for e in params.entries_of(name)]


def move_transform_fields(source: SourceFile, bound: Bound) -> list[Edit]:
    """CONVERT_LAYER_TRANSFORM_PARAM: data_param { scale mean_file crop_size mirror } -> transform_param."""
    moved = _transform_entries(bound)
    if not moved:
        return []
    params_field = bound.entry(V1_DATA_PARAMS[bound.get("type")]).node
    target = bound.msg("transform_param")
    layer_block = bound.node
    multi_line = not ed.is_one_line(source, target.node if target is not None else layer_block)
    out, comments = _take(source, [e.node for e in moved], carry=multi_line)
    new_lines = []
    for entry in moved:
        name, value = entry.field.name, value_text(source, entry)
        if target is not None and target.has(name):  # Caffe overwrites what transform_param held
            out.append(ed.set_value(source, target.entry(name).item, value))
            out += _comment_lines(source, comments.pop(entry.node, ""), target.entry(name).node)
        else:
            new_lines.append(f"{name}: {value}{comments.pop(entry.node, '')}")
    if new_lines:
        snippet = "\n".join(new_lines)
        if target is not None:
            out.append(ed.insert_field(source, target, snippet))
        else:
            block = "transform_param {\n" + "\n".join("  " + line for line in new_lines) + "\n}"
            out.append(ed.insert_field(source, layer_block, block, before=params_field))
    return ed.merge_edits(out)


def _take(source: SourceFile, fields: list[Field], carry: bool) -> tuple[list[Edit], dict[Field, str]]:
    """Delete `fields`; with `carry`, a field alone on its line takes its trailing comment along."""
    text = source.text
    out, comments = [], {}
    for f in fields:
        if carry and ed.alone_on_line(source, f):
            comments[f] = ed.trailing_comment(source, f.full_end)
            out.append(Edit(ed.line_start(text, f.start), ed.after_line_end(text, f.full_end), ""))
        else:
            out.append(ed.remove_field(source, f))
    return out, comments


def _comment_lines(source: SourceFile, comment: str, after: Field) -> list[Edit]:
    """Keep a moved field's comment: as a line of its own after `after`."""
    if not comment:
        return []
    at = ed.line_end(source.text, after.full_end)
    return [Edit(at, at, source.newline + source.indent_of_line(after.start) + comment.strip())]

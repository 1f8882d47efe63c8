"""V0 layers -> current `layer` blocks.

A V0 layer (`layers { layer { name type ...all settings... } bottom top }`)
keeps every setting flat in the inner block; the current format spreads them
over `convolution_param`, `pooling_param`, `transform_param` and so on.  The
structure changes too much for small edits, so each V0 block is written out
anew: every field keeps its value text, its comments and (for messages such
as `weight_filler`) its own layout; only names and places change, following
UpgradeV0PaddingLayers, UpgradeV0LayerParameter and then the V1 -> V2 step.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from caffelint import edits as ed
from caffelint.model.layer_types import facts, v0_type_name
from caffelint.schema.bound import Bound, Entry
from caffelint.source import SourceFile
from caffelint.syntax.cst import Field, Scalar
from caffelint.syntax.lexer import Token, tokenize
from caffelint.upgrade.tables import V0_COPIED, V0_FIELDS, V0_IGNORED

PADDING = "padding"
_PADDED_PARAM = {"conv": "convolution_param", "pool": "pooling_param"}


def inner(entry: Entry) -> Bound | None:
    """The V0LayerParameter inside a `layers` block, if it is a V0 layer."""
    return entry.value.msg("layer")


def v0_type(entry: Entry) -> str | None:
    layer = inner(entry)
    return layer.get("type") if layer is not None and layer.has("type") else None


def known_v0_type(type_name: str | None) -> bool:
    return type_name is None or type_name == PADDING or type_name in facts()["v0_type"]


@dataclass
class Padding:
    """What UpgradeV0PaddingLayers does to one consumer: bottom index -> padding layer."""

    sources: dict[int, Entry] = field(default_factory=dict)


def padding_plan(layers: list[Entry], inputs: list[str]) -> tuple[dict[int, Padding], str | None]:
    """Which layers read a padding layer's output; or why Caffe's upgrade would stop."""
    last_top: dict[str, int] = {name: -1 for name in inputs}
    plan: dict[int, Padding] = {}
    for i, entry in enumerate(layers):
        outer = entry.value
        bottoms, kind = outer.all("bottom"), v0_type(entry)
        for j, blob in enumerate(bottoms):
            if blob not in last_top:
                return {}, f"layer {i} reads blob {blob!r} that nothing before it produces " \
                           "(Caffe stops: Unknown blob input)"
            source_index = last_top[blob]
            if source_index < 0 or v0_type(layers[source_index]) != PADDING:
                continue
            pad_layer = layers[source_index].value
            if kind not in _PADDED_PARAM:
                return {}, f"padding layer feeds a {kind!r} layer; Caffe merges padding only into conv and pool"
            if len(bottoms) != 1 or len(pad_layer.all("bottom")) != 1 or len(pad_layer.all("top")) != 1:
                return {}, "a padding layer and its consumer must each have exactly one bottom"
            plan.setdefault(i, Padding()).sources[j] = layers[source_index]
        for blob in outer.all("top"):
            last_top[blob] = i
    return plan, None


class _Printer:
    """Writes one block line by line in the file's indentation, carrying comments along."""

    def __init__(self, source: SourceFile, base: str) -> None:
        self.source = source
        self.unit = ed.indent_unit(source)
        self.base = base
        self.lines: list[str] = []

    def field(self, f: Field, depth: int, name: str | None = None, value: str | None = None) -> None:
        """`f` as written (or renamed / with a new value), with its comments, at `depth` levels in."""
        text = self.source.text
        indent = self.base + self.unit * depth
        self.lines += [indent + c for c in leading_comments(f.name)]
        head = (name or f.name.text) + text[f.name.end:f.value.start]
        body = value if value is not None else text[f.value.start:f.end]
        old_indent = self.source.indent_of_line(f.start)
        body_lines = body.split("\n")
        for k in range(1, len(body_lines)):  # a multi-line message keeps its own layout, moved
            line = body_lines[k].rstrip("\r")
            body_lines[k] = indent + line[len(old_indent):] if line.startswith(old_indent) else line
        body_lines[0] = body_lines[0].rstrip("\r")
        body_lines[-1] += ed.trailing_comment(self.source, f.full_end)
        self.lines.append(indent + head + body_lines[0])
        self.lines += body_lines[1:]

    def line(self, text: str, depth: int) -> None:
        self.lines.append(self.base + self.unit * depth + text)


def leading_comments(token: Token) -> list[str]:
    """Comment lines between the previous token's line and `token`."""
    return [s.strip() for s in token.prefix.split("\n")[1:] if s.strip().startswith("#")]


def rewrite_v0_layer(source: SourceFile, entry: Entry, quote: str,
                     padding: Padding | None) -> tuple[str, list[str]]:
    """The `layer { }` text Caffe's upgrade makes of one V0 block, and the fields it drops."""
    outer, layer = entry.value, inner(entry)
    kind = layer.get("type") if layer.has("type") else None
    out = _Printer(source, source.indent_of_line(entry.node.start))
    out.lines.append("layer {" + ed.trailing_comment(source, entry.item.open.end))
    dropped: list[str] = []
    if layer.has("name"):
        out.field(layer.entry("name").node, 1)
    if kind is not None:
        out.field(layer.entry("type").node, 1, value=ed.quote(v0_type_name(kind), quote))
    bottom_index = 0
    for e in outer:
        if e.field.name == "bottom":
            pad = padding.sources.get(bottom_index) if padding else None
            bottom_index += 1
            out.field(e.node, 1, value=_text(source, pad.value.entry("bottom")) if pad else None)
        elif e.field.name == "top":
            out.field(e.node, 1)
        elif e.field.name != "layer":
            dropped.append(e.field.name)
    _param_blocks(out, layer)
    for node in dict.fromkeys(e.node for name in V0_COPIED for e in layer.entries_of(name)):
        out.field(node, 1)  # `blobs: [..., ...]` is one field for several entries
    groups = _destinations(layer, kind, dropped)
    if padding and padding.sources:
        _merge_pad(groups, kind, source, padding)
    for group, members in groups.items():
        if not members[0][0]:  # a whole message moved as it is (hdf5_output_param)
            out.field(members[0][1], 1)
            continue
        out.line(group + " {", 1)
        for sub, node, value in members:
            if node is None:
                out.line(f"{sub}: {value}", 2)
            else:
                out.field(node, 2, name=sub, value=value)
        out.line("}", 1)
    _keep_all_comments(out, source, entry)
    out.lines.append(out.base + "}")
    return source.newline.join(out.lines), dropped


Member = tuple[str, Field | None, str | None]  # (name in the new message, field as written, new value)


def _destinations(layer: Bound, kind: str | None, dropped: list[str]) -> dict[str, list[Member]]:
    """The settings of a V0 layer by the message they move into, in file order (UpgradeV0LayerParameter)."""
    groups: dict[str, list[Member]] = {}
    for e in layer:
        name = e.field.name
        if name in ("name", "type", "blobs_lr", "weight_decay") or name in V0_COPIED:
            continue
        target = V0_FIELDS.get(name, {}).get(kind) or V0_FIELDS.get(name, {}).get("*")
        if target is None or name in V0_IGNORED:
            dropped.append(name)  # "Unknown parameter <name> for layer type <kind>"
            continue
        group, _, sub = target.partition(".")
        groups.setdefault(group, []).append((sub, e.node, None))
    return groups


def _text(source: SourceFile, entry: Entry) -> str:
    return source.text[entry.item.start:entry.item.end]


def _param_blocks(out: _Printer, layer: Bound) -> None:
    """V0 blobs_lr / weight_decay -> V1 fields -> one `param { }` per blob."""
    per_blob: dict[int, list[tuple[str, Field]]] = {}
    for v0_name, spec_name in (("blobs_lr", "lr_mult"), ("weight_decay", "decay_mult")):
        for i, e in enumerate(layer.entries_of(v0_name)):
            per_blob.setdefault(i, []).append((spec_name, e))
    for i in sorted(per_blob):
        out.line("param {", 1)
        for spec_name, e in per_blob[i]:
            if isinstance(e.node.value, Scalar):
                out.field(e.node, 2, name=spec_name)
            else:  # one item of a [list]: its own text, the list's comments stay with the list
                out.line(f"{spec_name}: {out.source.text[e.item.start:e.item.end]}", 2)
        out.line("}", 1)


def _merge_pad(groups, kind: str, source: SourceFile, padding: Padding) -> None:
    """The consumer of a padding layer takes its pad (set_pad overrides its own)."""
    pad_layer = inner(next(iter(padding.sources.values())))
    value = _text(source, pad_layer.entry("pad")) if pad_layer.has("pad") else "0"
    members = groups.setdefault(_PADDED_PARAM[kind], [])
    for k, (sub, node, _) in enumerate(members):
        if sub == "pad":
            members[k] = (sub, node, value)
            return
    members.append(("pad", None, value))


def _keep_all_comments(out: _Printer, source: SourceFile, entry: Entry) -> None:
    """Comments not tied to a field (before a closing brace, say) go at the end of the block."""
    before = Counter(ed.comments_in(source, entry.node.start, entry.node.full_end))
    after = Counter(c for line in out.lines for c in _comments_of_line(line))
    for comment in (before - after).elements():
        out.line(comment, 1)


def _comments_of_line(line: str) -> list[str]:
    return [p.strip() for t in tokenize(line) for p in t.prefix.split("\n") if p.strip().startswith("#")]

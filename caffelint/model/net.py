"""The net model: layers as written, and the net Caffe builds for each phase.

`NetView` wraps a bound NetParameter (V0, V1 or V2 syntax).  `graph(state)`
applies Caffe's NetState filtering (FilterNet / StateMeetsRule in
BVLC/caffe:src/caffe/net.cpp) and wires blobs the way AppendTop/AppendBottom
do, recording what Caffe would refuse instead of stopping at the first error.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field

from caffelint.model import layer_types
from caffelint.schema.bound import Bound

TRAIN, TEST = "TRAIN", "TEST"


@dataclass(frozen=True)
class NetState:
    """Caffe's NetState: phase, level and stages (NetParameter.state merged with the solver's)."""

    phase: str = TRAIN
    level: int = 0
    stages: tuple[str, ...] = ()

    def describe(self) -> str:
        text = self.phase
        if self.level:
            text += f" level {self.level}"
        if self.stages:
            text += " stage " + ",".join(self.stages)
        return text


class Layer:
    """One layer as written, whatever the syntax version.

    `bound` is the LayerParameter (V2) or V1LayerParameter; for V0 nets the
    inner V0LayerParameter holds name and type, the outer one bottoms and tops.
    """

    __slots__ = ("bound", "index", "version", "name", "type", "bottoms", "tops", "_inner")

    def __init__(self, bound: Bound, index: int, version: int) -> None:
        self.bound = bound
        self.index = index
        self.version = version
        inner = bound.msg("layer") if version <= 1 else None
        self._inner = inner
        if inner is not None:  # V0: layers { layer { name type ... } bottom top }
            self.version = 0
            self.name = inner.get("name")
            self.type = layer_types.v0_type_name(inner.get("type"))
        elif version == 1:
            self.name = bound.get("name")
            self.type = layer_types.v1_type_name(bound.get("type"))
        else:
            self.name = bound.get("name")
            self.type = bound.get("type")
        self.bottoms: list[str] = bound.all("bottom")
        self.tops: list[str] = bound.all("top")

    @property
    def node(self):
        return self.bound.node

    def param(self, name: str) -> Bound | None:
        """A `*_param` block as written (V1 and V2 share these names), or None."""
        if self._inner is not None:
            return None
        return self.bound.msg(name) if name in self.bound.schema.fields else None

    def get(self, dotted: str, default=None):
        """A value by dotted path with Caffe's default; None when the field does not exist here."""
        head = dotted.split(".", 1)[0]
        if head not in self.bound.schema.fields:
            return default
        return self.bound.path(dotted)

    @property
    def include(self) -> list[Bound]:
        return self.bound.all("include") if self.version >= 1 else []

    @property
    def exclude(self) -> list[Bound]:
        return self.bound.all("exclude") if self.version >= 1 else []

    @property
    def loss_weights(self) -> list[float]:
        return self.bound.all("loss_weight") if "loss_weight" in self.bound.schema.fields else []

    @property
    def is_loss(self) -> bool:
        """A layer whose output counts towards the objective (type *Loss, or a loss_weight)."""
        return self.type.endswith("Loss") or any(w != 0 for w in self.loss_weights)

    @property
    def top_loss_weights(self) -> list[float]:
        """The weight of each top in the objective: loss_weight as written, else Caffe's
        default of 1 for top 0 of a loss layer and 0 elsewhere (Layer::SetLossWeights,
        LossLayer::LayerSetUp in BVLC/caffe:include/caffe/layer.hpp, src/caffe/layers/loss_layer.cpp)."""
        written = self.loss_weights
        # A loss layer written without a top gets one anyway (Layer::AutoTopBlobs in net.cpp).
        count = max(len(self.tops), 1 if self.type.endswith("Loss") else 0)
        if written:
            return [written[i] if i < len(written) else 0.0 for i in range(count)]
        default = 1.0 if self.type.endswith("Loss") else 0.0
        return [default if i == 0 else 0.0 for i in range(count)]

    @property
    def in_place(self) -> bool:
        return any(i < len(self.bottoms) and self.bottoms[i] == t for i, t in enumerate(self.tops))

    def is_in_place(self, top_index: int) -> bool:
        """Caffe's test (AppendTop in net.cpp): top i is in place when it names bottom i."""
        return top_index < len(self.bottoms) and self.bottoms[top_index] == self.tops[top_index]

    def bottom_item(self, index: int):
        """The value node of bottom `index`, for spans and edits."""
        return self.bound.entries_of("bottom")[index].item

    def top_item(self, index: int):
        return self.bound.entries_of("top")[index].item

    @property
    def name_node(self):
        """The layer's name value (V0: inside the inner `layer { }`), else the layer block."""
        holder = self._inner if self._inner is not None else self.bound
        entry = holder.entry("name")
        return entry.item if entry is not None else self.bound.node

    @property
    def type_node(self):
        holder = self._inner if self._inner is not None else self.bound
        entry = holder.entry("type")
        return entry.item if entry is not None else self.bound.node

    @property
    def lr_mults(self) -> list[float]:
        """lr_mult of each `param { }` block (V1: each `blobs_lr`), as written, default 1."""
        if self.version >= 2:
            return [spec.get("lr_mult") for spec in self.bound.all("param")]
        if self.version == 1:
            return self.bound.all("blobs_lr")
        return self._inner.all("blobs_lr") if self._inner is not None else []

    @property
    def is_frozen(self) -> bool:
        """Every parameter blob written with lr_mult 0 (none written means learning)."""
        mults = self.lr_mults
        return bool(mults) and all(m == 0 for m in mults)

    def __repr__(self) -> str:
        return f"<Layer {self.name!r} {self.type}>"


def state_meets_rule(state: NetState, rule: Bound) -> bool:
    """StateMeetsRule: does `state` satisfy one include/exclude NetStateRule?"""
    if rule.has("phase") and rule.get("phase") != state.phase:
        return False
    if rule.has("min_level") and state.level < rule.get("min_level"):
        return False
    if rule.has("max_level") and state.level > rule.get("max_level"):
        return False
    if any(stage not in state.stages for stage in rule.all("stage")):
        return False
    return not any(stage in state.stages for stage in rule.all("not_stage"))


def layer_included(layer: Layer, state: NetState) -> bool:
    """FilterNet's decision: exclude rules first, then include rules."""
    include, exclude = layer.include, layer.exclude
    included = not include
    for rule in exclude:
        if state_meets_rule(state, rule):
            included = False
    for rule in include:
        if state_meets_rule(state, rule):
            included = True
    return included


@dataclass
class WiringProblem:
    kind: str  # "undefined-bottom" or "duplicate-top"
    layer: Layer
    index: int
    blob: str
    other: Layer | None = None


@dataclass
class PhaseGraph:
    """The layers Caffe instantiates for one NetState, and how their blobs connect."""

    state: NetState
    layers: list[Layer]
    inputs: list[str]
    producers: dict[str, list[Layer]] = field(default_factory=dict)
    consumers: dict[str, list[Layer]] = field(default_factory=dict)
    problems: list[WiringProblem] = field(default_factory=list)
    _readers: dict | None = field(default=None, repr=False)

    def layers_of_type(self, *types: str) -> Iterator[Layer]:
        return (layer for layer in self.layers if layer.type in types)

    def producer(self, blob: str, before: Layer | None = None) -> Layer | None:
        """The layer whose output `blob` is, as seen by `before` (last writer wins, in-place included)."""
        found = None
        for layer in self.producers.get(blob, ()):
            if before is not None and layer.index >= before.index:
                break
            found = layer
        return found

    def next_consumers(self, layer: Layer, blob: str) -> list[Layer]:
        return [c for c in self.consumers.get(blob, ()) if c.index > layer.index]

    def readers(self, writer: Layer | None, blob: str) -> list[Layer]:
        """The layers that read `blob` as `writer` left it (None: the net input), in order.

        A later in-place layer on `blob` is the last reader of this version:
        it writes the next one.
        """
        return self._reader_table().get((writer.index if writer else -1, blob), [])

    def downstream(self, writer: Layer, blob: str, through) -> Iterator[Layer]:
        """Layers that read `blob` as `writer` left it and, past each reader for which
        `through(reader)` holds, the layers reading its tops: each once, depth first."""
        frontier, seen = [(writer, blob)], set()
        while frontier:
            source, name = frontier.pop()
            for reader in self.readers(source, name):
                if reader in seen:
                    continue
                seen.add(reader)
                yield reader
                if through(reader):
                    frontier.extend((reader, top) for top in reader.tops)

    def in_place_successor(self, writer: Layer, blob: str) -> Layer | None:
        """The layer that next overwrites `blob` in place after `writer`, if any."""
        for reader in self.readers(writer, blob):
            if any(b == blob and reader.is_in_place(i) for i, b in enumerate(reader.bottoms)):
                return reader
        return None

    def uses(self, writer: Layer | None, blob: str) -> int:
        """How many times InsertSplits counts this version of `blob` as used (readers plus a
        non-zero loss_weight on it): more than one and Caffe inserts a Split layer."""
        count = len(self.readers(writer, blob))
        if writer is not None and blob in writer.tops:
            weights = writer.loss_weights
            j = writer.tops.index(blob)
            count += 1 if j < len(weights) and weights[j] != 0 else 0
        return count

    def split_in_place(self) -> Iterator[tuple[Layer, int, Layer | None, list[Layer]]]:
        """In-place tops that Caffe's InsertSplits turns into a second producer.

        When one version of a blob has several uses, every reader's bottom is
        renamed to a split output (BVLC/caffe:src/caffe/util/insert_splits.cpp),
        so an "in-place" reader no longer names its bottom as its top and
        AppendTop fails with "Top blob '<t>' produced by multiple sources."
        Yields (layer, top index, the writer it read, the other readers).
        """
        for layer in self.layers:
            for i, top in enumerate(layer.tops):
                if not layer.is_in_place(i):
                    continue
                writer = self.producer(top, before=layer)
                if writer is None and top not in self.inputs:
                    continue
                if self.uses(writer, top) > 1:
                    others = [r for r in self.readers(writer, top) if r is not layer]
                    yield layer, i, writer, others

    def _reader_table(self) -> dict[tuple[int, str], list[Layer]]:
        if self._readers is None:
            table: dict[tuple[int, str], list[Layer]] = {}
            last_writer: dict[str, int] = {blob: -1 for blob in self.inputs}
            for layer in self.layers:
                for blob in layer.bottoms:
                    if blob in last_writer:  # one entry per bottom, as InsertSplits counts them
                        table.setdefault((last_writer[blob], blob), []).append(layer)
                for blob in layer.tops:
                    last_writer[blob] = layer.index
            self._readers = table
        return self._readers

    def depths(self, counts=lambda layer: True) -> dict[Layer, int]:
        """Each layer's depth: the most layers passing `counts` on a path from the data to it
        (the layer included), following which layer wrote each bottom before it."""
        depth: dict[Layer, int] = {}
        for layer in self.layers:
            before = [depth[w] for b in layer.bottoms if (w := self.producer(b, before=layer)) in depth]
            depth[layer] = max(before, default=0) + (1 if counts(layer) else 0)
        return depth

    @property
    def losses(self) -> list[Layer]:
        return [layer for layer in self.layers if layer.is_loss]


def scope(found: list[NetState], checked: list[NetState]) -> str:
    """' in TEST' (or ' in TRAIN, TEST stage x'...) when `found` is not every checked state."""
    found = list(dict.fromkeys(found))
    if not found or len(found) == len(set(checked)):
        return ""
    return " in " + ", ".join(state.describe() for state in found)


def wire(state: NetState, layers: list[Layer], inputs: list[str]) -> PhaseGraph:
    graph = PhaseGraph(state, layers, inputs)
    producers = graph.producers
    consumers = graph.consumers
    for blob in inputs:
        producers.setdefault(blob, [])
    for layer in layers:
        for i, blob in enumerate(layer.bottoms):
            if blob not in producers:
                graph.problems.append(WiringProblem("undefined-bottom", layer, i, blob))
            consumers.setdefault(blob, []).append(layer)
        for i, blob in enumerate(layer.tops):
            in_place = i < len(layer.bottoms) and layer.bottoms[i] == blob
            previous = producers.get(blob)
            if previous is not None and not in_place:
                other = previous[-1] if previous else None
                graph.problems.append(WiringProblem("duplicate-top", layer, i, blob, other))
            producers.setdefault(blob, []).append(layer)
    return graph


class NetView:
    """A net file (or inline net_param) bound to NetParameter."""

    def __init__(self, bound: Bound, label: str = "") -> None:
        self.bound = bound
        self.label = label
        self.file = None  # the ParsedFile holding this net (a solver's file for inline nets)
        self.solvers: list = []  # SolverViews that use this net, set by Project.follow_solvers
        if bound.has("layers"):
            entries = bound.entries_of("layers")
            version = 1
        else:
            entries = bound.entries_of("layer")
            version = 2
        self.version = version if entries else 2
        self.layers = [Layer(e.value, i, version) for i, e in enumerate(entries)]
        if self.layers and all(layer.version == 0 for layer in self.layers):
            self.version = 0
        self.state = bound.msg("state")

    @property
    def name(self) -> str:
        return self.bound.get("name")

    @property
    def inputs(self) -> list[str]:
        """Net-level `input:` blobs (legacy) and tops of Input layers are data entry points."""
        return self.bound.all("input")

    @property
    def is_training_net(self) -> bool:
        """A net that gets trained: a solver trains it, it has a loss, or its rules single out TRAIN.

        A net fed by Data layers with none of these (feature extraction, e.g. BVLC's
        examples/feature_extraction/imagenet_val.prototxt) is an inference net.
        """
        if any(s.train_net is not None and s.train_net.view is self for s in self.solvers):
            return True  # even a deploy file, when a solver trains it
        if self.is_deploy:
            return False
        if any(layer.type.endswith("Loss") or layer.loss_weights for layer in self.layers):
            return True
        return any(rule.get("phase") == TRAIN for layer in self.layers
                   for rule in layer.include + layer.exclude if rule.has("phase"))

    @functools.cached_property
    def is_deploy(self) -> bool:
        """A deploy net: fed by Input layers or `input:` fields, with no loss layer."""
        fed = bool(self.inputs) or any(layer.type == "Input" for layer in self.layers)
        return fed and not any(layer.is_loss for layer in self.layers)

    def base_state(self, phase: str) -> NetState:
        """The NetState for `phase` merged with the net's own `state` field."""
        level, stages = 0, ()
        if self.state is not None:
            level = self.state.get("level")
            stages = tuple(self.state.all("stage"))
        return NetState(phase, level, stages)

    def states(self) -> list[NetState]:
        """The states worth checking: the ones the solvers using this net build it in
        (train_state, test_state); else TRAIN and TEST (a deploy net: TEST only), leaving
        out a phase in which no data layer exists and adding the stage a stage-scoped
        data layer needs.  Computed once per solver set."""
        cached = self.__dict__.get("_states")
        if cached is not None and cached[0] == len(self.solvers):
            return list(cached[1])
        from caffelint.model.net_states import checked_states

        found = checked_states(self)
        self.__dict__["_states"] = (len(self.solvers), tuple(found))
        return found

    @functools.cache  # noqa: B019 - views live as long as one check run
    def graph(self, state: NetState) -> PhaseGraph:
        active = [layer for layer in self.layers if layer_included(layer, state)]
        return wire(state, active, self.inputs)

    def graphs(self) -> list[PhaseGraph]:
        return [self.graph(state) for state in self.states()]

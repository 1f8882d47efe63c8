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
    def in_place(self) -> bool:
        return any(i < len(self.bottoms) and self.bottoms[i] == t for i, t in enumerate(self.tops))

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

    @property
    def losses(self) -> list[Layer]:
        return [layer for layer in self.layers if layer.is_loss]


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
        """The states worth checking: TRAIN and TEST (a deploy net: TEST only)."""
        if self.is_deploy:
            return [self.base_state(TEST)]
        return [self.base_state(TRAIN), self.base_state(TEST)]

    @functools.cache  # noqa: B019 - views live as long as one check run
    def graph(self, state: NetState) -> PhaseGraph:
        active = [layer for layer in self.layers if layer_included(layer, state)]
        return wire(state, active, self.inputs)

    def graphs(self) -> list[PhaseGraph]:
        return [self.graph(state) for state in self.states()]

"""What Caffe accepts for each BVLC layer type: blob counts, parameter blobs, fillers, required values.

The facts live in caffelint/data/layer_specs.yaml, each with its BVLC source;
this module reads them once and answers questions about one written layer.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from caffelint.model.net import Layer


@dataclass(frozen=True)
class Bounds:
    """An accepted blob count: lo <= n <= hi (hi None: no upper limit)."""

    lo: int
    hi: int | None
    exact: bool = False  # declared as ExactNum*Blobs (Caffe's message then names one number)

    def accepts(self, n: int) -> bool:
        return n >= self.lo and (self.hi is None or n <= self.hi)

    def describe(self) -> str:
        if self.hi == self.lo:
            return f"exactly {self.lo}"
        if self.hi is None:
            return f"at least {self.lo}"
        if self.lo == 0:
            return f"at most {self.hi}"
        return f"{self.lo} to {self.hi}"


@dataclass(frozen=True)
class Requirement:
    field: str
    rule: str  # set | positive | odd | open_unit
    message: str
    source: str
    unless: str | None = None
    unless_bottoms: int | None = None


class LayerSpec:
    """The facts about one layer type, read from its YAML entry."""

    def __init__(self, type_name: str, entry: dict[str, Any]) -> None:
        self.type = type_name
        self.source: str = entry.get("source", "")
        self.requirements = tuple(Requirement(**r) for r in entry.get("required") or ())
        self.auto_tops = bool(entry.get("auto_tops"))
        self.one_top_per_bottom = bool(entry.get("one_top_per_bottom"))
        self.tops_per_bottoms: int | None = entry.get("tops_per_bottoms")
        params = entry.get("params")
        # BatchNorm's blobs are statistics Caffe never updates: not learnable parameters
        self.learns_parameters = not (isinstance(params, dict) and params.get("statistics"))
        self._params = params
        self._bottoms = _bounds(entry.get("bottoms"))
        self._tops = _bounds(entry.get("tops"))
        self._hidden: int = entry.get("hidden_states", 0)
        self._extra_top = entry.get("extra_top_when")
        self._fillers = tuple(entry.get("fillers") or ())

    def bottoms(self, layer: Layer) -> Bounds | None:
        """The bottom counts CheckBlobCounts accepts for `layer`, or None for no limit."""
        bounds = self._bottoms
        if bounds is not None and self._hidden and self._exposes_hidden(layer):
            bounds = _shifted(bounds, self._hidden)
        return bounds

    def tops(self, layer: Layer) -> Bounds | None:
        """The top counts accepted once Net::Init has added any anonymous tops."""
        bounds = self._tops
        if bounds is None:
            return None
        if self._hidden and self._exposes_hidden(layer):
            bounds = _shifted(bounds, self._hidden)
        extra = self._extra_top
        if extra and bounds.hi is not None and layer.get(extra["field"]) == extra["equals"]:
            bounds = Bounds(bounds.lo, bounds.hi + 1, bounds.exact)
        return bounds

    def effective_tops(self, layer: Layer) -> int:
        """How many tops the layer gets: written ones plus LossLayer's anonymous ones."""
        written = len(layer.tops)
        if self.auto_tops and self._tops is not None:
            return max(written, self._tops.lo)
        return written

    def param_blobs(self, layer: Layer) -> int | None:
        """How many parameter blobs LayerSetUp creates (None: decided at run time)."""
        params = self._params
        if params == "unknown":
            return None
        if not params:
            return 0
        count = params.get("blobs", 0)
        from_bottom = params.get("base_from_bottom")
        if from_bottom is not None and len(layer.bottoms) >= from_bottom:
            count -= 1  # Scale/Bias: the second bottom is the scale (bias) itself
        if params.get("bias") and layer.get(params["bias"]):
            count += 1
        if params.get("static_input") and self._has_static_input(layer):
            count += params["static_input"]
        return count

    def fillers(self, layer: Layer) -> list[str]:
        """The FillerParameter fields GetFiller builds for this layer, as dotted paths."""
        out = []
        for item in self._fillers:
            condition = item.get("if")
            if condition and not layer.get(condition):
                continue
            unless = item.get("unless_bottoms")
            if unless is not None and len(layer.bottoms) >= unless:
                continue
            out.append(item["field"])
        return out

    def _exposes_hidden(self, layer: Layer) -> bool:
        return bool(layer.get("recurrent_param.expose_hidden"))

    def _has_static_input(self, layer: Layer) -> bool:
        # RecurrentLayer::LayerSetUp: static_input_ = bottom.size() > 2 + exposed hidden states
        exposed = self._hidden if self._exposes_hidden(layer) else 0
        return len(layer.bottoms) > 2 + exposed


@functools.cache
def _specs() -> dict[str, LayerSpec]:
    return {name: LayerSpec(name, entry) for name, entry in _data()["types"].items()}


@functools.cache
def _data() -> dict[str, Any]:
    from caffelint import facts as data

    return data.load("layer_specs.yaml")


def facts(section: str) -> dict[str, Any]:
    """A top-level section of layer_specs.yaml other than `types` (filler_types, no_in_place...)."""
    return _data()[section]


def spec_for(type_name: str) -> LayerSpec | None:
    """The spec of a BVLC layer type, or None for types caffelint has no facts about."""
    return _specs().get(type_name)


def checkable(layer: Layer) -> LayerSpec | None:
    """The spec for a layer whose parameters caffelint can read (V1 or V2 syntax, a BVLC type)."""
    if layer.version == 0:
        return None  # V0 layers keep their parameters in other fields; Caffe upgrades them first
    return spec_for(layer.type)


def _bounds(entry: dict[str, int] | None) -> Bounds | None:
    if not entry:
        return None
    if "exact" in entry:
        return Bounds(entry["exact"], entry["exact"], exact=True)
    return Bounds(entry.get("min", 0), entry.get("max"))


def _shifted(bounds: Bounds, by: int) -> Bounds:
    return Bounds(bounds.lo + by, None if bounds.hi is None else bounds.hi + by, bounds.exact)

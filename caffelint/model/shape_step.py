"""One layer's turn in shape inference: its input shapes, and a place to report what Caffe refuses.

A shape is a tuple of dimensions, a dimension None when it is not known from
the files (an LMDB's image size, say); a whole shape is None when even the
number of axes is unknown.  Unknown never becomes an error: a check runs only
on the dimensions it needs, and only when they are known.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from caffelint.model.net import Layer

Shape = tuple  # tuple[int | None, ...]

SHAPE = "shape-mismatch"  # blobs that disagree, or a layer that would produce an invalid blob
PARAM = "missing-layer-param"  # a layer parameter that cannot work with the input it gets


@dataclass
class ShapeProblem:
    layer: Layer
    where: Any  # a node (start/end) in the layer's file
    message: str
    rule: str = SHAPE


@dataclass
class Step:
    """Shape inference for one layer: read `bottoms`, call `problem`, fill `params`."""

    layer: Layer
    bottoms: list[Shape | None]
    datum: tuple | None = None  # (channels, height, width) of a data layer's records, when known
    problems: list[ShapeProblem] = field(default_factory=list)
    params: list[Shape | None] = field(default_factory=list)

    def problem(self, message: str, where: Any = None, rule: str = SHAPE) -> None:
        self.problems.append(ShapeProblem(self.layer, where if where is not None else self.layer.name_node,
                                          message, rule))

    def bottom_at(self, i: int):
        """The node of bottom `i`, for problems about one input."""
        return self.layer.bottom_item(i) if i < len(self.layer.bottoms) else self.layer.name_node

    @property
    def failed(self) -> bool:
        return bool(self.problems)

    def bottom(self, i: int = 0) -> Shape | None:
        return self.bottoms[i] if i < len(self.bottoms) else None

    def bottom_name(self, i: int = 0) -> str:
        return self.layer.bottoms[i] if i < len(self.layer.bottoms) else "?"

    def param(self, name: str):
        return self.layer.param(name)

    def values(self, dotted: str) -> list:
        """Every value of a repeated field of the layer, as written."""
        from caffelint.model.layer_setup import values

        return values(self.layer, dotted)

    def at(self, dotted: str):
        """The node written for `dotted` (value, else block, else the layer), for precise findings."""
        from caffelint.model.layer_setup import type_node, written

        node = written(self.layer, dotted)
        return node if node is not None else type_node(self.layer)

    def axis(self, value: int, shape: Shape, dotted: str, blob: str | None = None) -> int | None:
        """Blob::CanonicalAxisIndex: -n <= axis < n, negative counting from the end; None when out of range."""
        n = len(shape)
        if -n <= value < n:
            return value + n if value < 0 else value
        name = blob if blob is not None else self.bottom_name()
        self.problem(f"{dotted} {value} is out of range for the {n}-D input {name!r} "
                     f"({describe(shape)}): axis {value} out of range for {n}-D Blob",
                     self.at(dotted))
        return None


def describe(shape: Shape | None) -> str:
    """'64 x 3 x 224 x 224' ('?' for an unknown dimension; 'a scalar' for no axes)."""
    if shape is None:
        return "unknown"
    if not shape:
        return "a scalar"
    return " x ".join("?" if d is None else str(d) for d in shape)


def product(dims) -> int | None:
    """Blob::count over `dims`: None when any of them is unknown."""
    total = 1
    for d in dims:
        if d is None:
            return None
        total *= d
    return total


def same(a: int | None, b: int | None) -> bool:
    """Equal, or not known to differ."""
    return a is None or b is None or a == b

"""The nets as a training log describes them while Caffe builds them.

net.cpp prints each layer as it is set up (`Creating Layer l`, `l <- bottom`,
`l -> top`, `Top shape: n c h w (count)`, `with loss weight w`) and, before
that, the whole NetParameter (`Initializing net from parameters:`), which
gives layer types, `top_k` and `num_output`.  From these a log diagnosis knows
which outputs are losses and accuracies and how many classes C each one
scores, hence the chance levels ln(C) and k/C.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Losses whose value for uniform predictions is ln(C): softmax cross-entropy
# (BVLC/caffe:src/caffe/layers/softmax_loss_layer.cpp) and the multinomial
# logistic loss on softmax probabilities; V1 enum spellings included.
SOFTMAX_LOSSES = {"SOFTMAXWITHLOSS", "SOFTMAXLOSS", "MULTINOMIALLOGISTICLOSS"}


_SPLIT_TOP = re.compile(r"(.+_split)_\d+$")  # insert_splits.cpp: SplitBlobName
_TOP_K_NAME = re.compile(r"top[-_]?(\d+)", re.IGNORECASE)


def _count(shape: tuple[int, ...]) -> int:
    total = 1
    for d in shape:
        total *= d
    return total


def _type_key(layer_type: str) -> str:
    return layer_type.replace("_", "").upper()


@dataclass
class LoggedLayer:
    """One layer as set up: type (from the echoed NetParameter), blobs and top shapes."""

    name: str
    type: str = ""
    bottoms: list[str] = field(default_factory=list)
    tops: list[str] = field(default_factory=list)
    shapes: list[tuple[int, ...]] = field(default_factory=list)
    loss_weights: dict[str, float] = field(default_factory=dict)
    top_k: int = 1
    num_output: int | None = None

    @property
    def is_accuracy(self) -> bool:
        return _type_key(self.type) == "ACCURACY"

    @property
    def is_softmax_loss(self) -> bool:
        return _type_key(self.type) in SOFTMAX_LOSSES


@dataclass
class EchoedLayer:
    """What the echoed NetParameter says about a layer: type, top_k, num_output."""

    type: str = ""
    top_k: int = 1
    num_output: int | None = None


@dataclass
class NetSetup:
    """One net (the train net or test net #i) as built at the start of a run."""

    role: str  # "train" or "test"
    index: int = 0
    name: str = ""
    line: int = 0
    layers: dict[str, LoggedLayer] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    producers: dict[str, str] = field(default_factory=dict)

    def producer(self, blob: str) -> LoggedLayer | None:
        name = self.producers.get(blob)
        return self.layers.get(name) if name is not None else None

    def classes(self, output: str) -> int | None:
        """C for a loss or accuracy output: axis 1 of the scores blob feeding its layer."""
        layer = self.producer(output)
        if layer is None or not layer.bottoms:
            return None
        shape = self.shape(layer.bottoms[0])
        if shape is not None and len(shape) >= 2 and shape[1] > 1:
            return shape[1]
        scores = self.producer(layer.bottoms[0])
        return scores.num_output if scores is not None else None

    def shape(self, blob: str) -> tuple[int, ...] | None:
        """A blob's shape; through Caffe's split layers (`b_l_0_split_1` copies `b`) when not printed."""
        shape = self.shapes.get(blob)
        if shape is None:
            found = _SPLIT_TOP.match(blob)
            split = self.layers.get(found.group(1)) if found else None
            if split is not None and split.bottoms and split.bottoms[0] != blob:
                return self.shape(split.bottoms[0])
        return shape

    def is_accuracy(self, output: str) -> bool | None:
        layer = self.producer(output)
        if layer is None:
            return None
        if layer.type:
            return layer.is_accuracy
        return not layer.loss_weights and self._scores_labels(layer)

    def is_softmax_loss(self, output: str) -> bool | None:
        layer = self.producer(output)
        if layer is None:
            return None
        if layer.type:
            return layer.is_softmax_loss
        return bool(layer.loss_weights) and self._scores_labels(layer)

    def _scores_labels(self, layer: LoggedLayer) -> bool:
        """Bottoms shaped like (N, C) scores and N labels: a classifier's loss or accuracy.

        glog cuts a message at 30000 characters (LogMessage::kMaxLogMessageLen), so the
        echoed NetParameter of a large net loses its last layers and their types.
        """
        if len(layer.bottoms) != 2:
            return False
        scores, labels = self.shape(layer.bottoms[0]), self.shape(layer.bottoms[1])
        if not scores or not labels or len(scores) < 2 or scores[1] < 2:
            return False
        return all(d == 1 for d in scores[2:]) and _count(labels) == scores[0]

    def top_k(self, output: str) -> int:
        layer = self.producer(output)
        if layer is not None and layer.type:
            return layer.top_k
        found = _TOP_K_NAME.search(output)
        return int(found.group(1)) if found else 1

    @property
    def batch_size(self) -> int | None:
        """The first dimension of the first data layer's first top."""
        for layer in self.layers.values():
            if not layer.bottoms and layer.shapes and layer.shapes[0]:
                return layer.shapes[0][0]
        return None


class NetEcho:
    """Reads an echoed NetParameter line by line: net name, phase, per-layer facts."""

    def __init__(self) -> None:
        self.depth = 0
        self.name = ""
        self.phase = ""
        self.layers: dict[str, EchoedLayer] = {}
        self._block: list[str] = []
        self._layer_name = ""
        self._layer = EchoedLayer()

    def feed(self, key: str | None, value: str | None, opens: bool, closes: bool) -> None:
        if opens:
            self._block.append(key or "")
            if len(self._block) == 1 and key in ("layer", "layers"):
                self._layer_name, self._layer = "", EchoedLayer()
            return
        if closes:
            if len(self._block) == 1 and self._block[0] in ("layer", "layers") and self._layer_name:
                self.layers[self._layer_name] = self._layer
            if self._block:
                self._block.pop()
            return
        if key is None or value is None:
            return
        if not self._block:
            if key == "name":
                self.name = value
        elif self._block[0] == "state" and key == "phase":
            self.phase = value
        elif self._block[0] in ("layer", "layers"):
            self._layer_field(key, value)

    def _layer_field(self, key: str, value: str) -> None:
        if len(self._block) == 1 and key == "name":
            self._layer_name = value
        elif len(self._block) == 1 and key == "type":
            self._layer.type = value
        elif key == "top_k" and value.isdigit():
            self._layer.top_k = int(value)
        elif key == "num_output" and value.isdigit():
            self._layer.num_output = int(value)

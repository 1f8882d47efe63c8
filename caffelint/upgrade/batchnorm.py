"""BatchNorm layers with three `param` blocks (UpgradeNetBatchNorm).

The first BatchNorm asked for three `param { lr_mult: 0 }` blocks to keep the
solver off its statistics.  Since 2017 Caffe's upgrade sets `lr_mult: 0` and
`decay_mult: 0` on all three whenever a BatchNorm layer declares exactly
three, keeping any other setting (such as `name`); the layer itself refuses
a non-zero rate (batch_norm_layer.cpp).  A layer whose blocks already say 0
loses nothing, so only a layer that asks for learning is reported.
"""

from __future__ import annotations

from caffelint import edits as ed
from caffelint.findings import Edit
from caffelint.schema.bound import Bound
from caffelint.source import SourceFile

RATES = ("lr_mult", "decay_mult")


def learning_rates(layer: Bound) -> list[float] | None:
    """The lr_mult of each of the three param blocks, when there are three and one is not 0."""
    params = layer.all("param")
    if layer.get("type") != "BatchNorm" or len(params) != 3:
        return None
    rates = [p.get("lr_mult") for p in params]
    return rates if any(rate != 0 for rate in rates) else None


def zero_rates(source: SourceFile, layer: Bound) -> list[Edit]:
    """Set lr_mult and decay_mult to 0 in each param block, in place or added."""
    out = []
    for param in layer.all("param"):
        missing = []
        for name in RATES:
            if not param.has(name):
                missing.append(f"{name}: 0")
            elif param.get(name) != 0:
                out.append(ed.set_value(source, param.entry(name).item, "0"))
        if missing:
            out.append(ed.insert_field(source, param, "\n".join(missing)))
    return out

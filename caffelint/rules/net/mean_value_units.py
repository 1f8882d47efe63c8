"""INP002 mean-value-units (catalogue: rules/INP002.yaml).

"the mean subtraction is always carried out before scaling" (TransformationParameter
in BVLC/caffe:src/caffe/proto/caffe.proto): mean values are in raw pixel units.
"""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.edits import set_value
from caffelint.engine import RuleContext
from caffelint.findings import UNSAFE, Finding, Fix
from caffelint.model.net import NetView
from caffelint.model.net_facts import type_set
from caffelint.model.transform import transform_of


def check_net(net: NetView, ctx: RuleContext) -> Iterator[Finding]:
    for layer in net.layers:
        if layer.type not in type_set("image_data"):
            continue
        t = transform_of(layer)
        means = t.mean_values
        if not (0 < t.scale < 1) or not means or any(m > 1 for m in means) or not any(m > 0 for m in means):
            continue
        raw = [m / t.scale for m in means]
        items = [e.item for e in t.param.entries_of("mean_value")]
        fix = Fix(f"Give mean_value in raw pixel units ({', '.join(_number(v) for v in raw)})", UNSAFE,
                  tuple(set_value(ctx.source, item, _number(v)) for item, v in zip(items, raw)))
        yield ctx.finding(
            t.mean_at,
            f"mean_value {', '.join(_number(m) for m in means)} looks like scaled units, but Caffe "
            f"subtracts the mean before multiplying by scale {_number(t.scale)}: pixels end in "
            f"about [{-max(means) * t.scale:.3g}, {(255 - min(means)) * t.scale:.3g}] instead of "
            f"around 0; write {', '.join(_number(v) for v in raw)}",
            notes=[(t.scale_at, "scale set here")] if t.scale_at is not None else [], fix=fix)


def _number(value: float) -> str:
    return f"{value:.6g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.3g}"

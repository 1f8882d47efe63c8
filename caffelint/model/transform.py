"""What a data layer does to its pixels: scale and mean, wherever the file says them.

Caffe's DataTransformer subtracts the mean first, then multiplies by `scale`
(TransformationParameter in caffe.proto: "the mean subtraction is always
carried out before scaling").  V2 layers say this in `transform_param` only; V1
layers may still use the deprecated `scale` and `mean_file` of their own
`*_param`, which the upgrade moves into transform_param (UpgradeNetDataTransformation
in BVLC/caffe:src/caffe/util/upgrade_proto.cpp); V0 layers write `scale` and
`meanfile` on the layer itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from caffelint.model.net import Layer
from caffelint.schema.bound import Bound

LEGACY_PARAMS = {"Data": "data_param", "ImageData": "image_data_param", "WindowData": "window_data_param"}


@dataclass
class Transform:
    scale: float = 1.0
    mean_file: str = ""
    mean_values: list[float] = field(default_factory=list)
    param: Bound | None = None  # transform_param as written, if any
    scale_at: object = None  # the node that sets the scale, if written
    mean_at: object = None  # the first node that sets a mean, if written

    @property
    def has_mean(self) -> bool:
        return bool(self.mean_file) or bool(self.mean_values)


def transform_of(layer: Layer) -> Transform:
    """The scale and mean Caffe applies to this layer's data."""
    if layer.version == 0:
        inner = layer.bound.msg("layer")
        return _from(inner, "scale", "meanfile", None) if inner is not None else Transform()
    param = layer.param("transform_param")
    out = _from(param, "scale", "mean_file", "mean_value") if param is not None else Transform()
    out.param = param
    legacy_name = LEGACY_PARAMS.get(layer.type)
    legacy = layer.param(legacy_name) if layer.version == 1 and legacy_name else None
    if legacy is not None:
        old = _from(legacy, "scale", "mean_file", None)
        if out.scale_at is None and old.scale_at is not None:
            out.scale, out.scale_at = old.scale, old.scale_at
        if not out.has_mean and old.mean_file:
            out.mean_file, out.mean_at = old.mean_file, old.mean_at
    return out


def _from(bound: Bound, scale: str, mean_file: str, mean_value: str | None) -> Transform:
    out = Transform()
    entry = bound.entry(scale)
    if entry is not None:
        out.scale, out.scale_at = entry.value, entry.item
    entry = bound.entry(mean_file)
    if entry is not None and entry.value:
        out.mean_file, out.mean_at = entry.value, entry.item
    if mean_value is not None and bound.has(mean_value):
        out.mean_values = bound.all(mean_value)
        if out.mean_at is None:
            out.mean_at = bound.entries_of(mean_value)[0].item
    return out

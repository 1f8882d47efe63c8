"""The CHECKs Caffe makes on a layer's own parameters when it builds the layer.

These need no input shape: the value checks of layer_specs.yaml (`required`),
the fillers each layer builds (GetFiller in BVLC/caffe:include/caffe/filler.hpp),
the data transformer's checks (src/caffe/data_transformer.cpp) and the
per-type LayerSetUp CHECKs below, each with its source.  Checks that need the
shapes of the layer's inputs live in the shape inference (model/shapes.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

from caffelint.model.geometry import Issue, conv_issues, pool_issues
from caffelint.model.layer_specs import LayerSpec, Requirement, checkable, facts
from caffelint.model.net import Layer
from caffelint.schema.bound import Bound
from caffelint.schema.suggest import close_matches


def setup_issues(layer: Layer) -> list[Issue]:
    """What Caffe refuses in this layer's parameters, as (where, message) pairs."""
    spec = checkable(layer)
    if spec is None:
        return []
    issues = list(_requirements(layer, spec))
    for path in spec.fillers(layer):
        issues.extend(filler_issues(layer, path))
    specific = _SPECIFIC.get(layer.type)
    if specific is not None:
        issues.extend(specific(layer))
    if layer.type in _types("transformed"):
        issues.extend(_transformer(layer))
    if layer.type in _types("no_in_place"):
        for i, top in enumerate(layer.tops):
            if top in layer.bottoms:
                issues.append((layer.top_item(i), f"{layer.type} Layer does not allow in-place computation "
                                                    f"(top {top!r} is also its bottom)"))
    return issues


@functools.cache
def _types(section: str) -> frozenset[str]:
    return frozenset(facts(section)["types"])


def type_node(layer: Layer):
    """The value of the layer's `type` field (or the layer block), for findings about the whole layer."""
    return layer.type_node


def written(layer: Layer, dotted: str):
    """The deepest thing written along `dotted`: the value node, else the enclosing block's field
    (from its name to its closing brace), else None."""
    holder, found = layer.bound, None
    for name in dotted.split("."):
        entry = holder.entry(name) if holder is not None and name in holder.schema.fields else None
        if entry is None:
            return found
        if not isinstance(entry.value, Bound):
            return entry.item
        holder, found = entry.value, entry.node
    return found


def values(layer: Layer, dotted: str) -> list:
    """Every value of a repeated field as written (Layer.get gives only the last one)."""
    head, _, name = dotted.rpartition(".")
    block = _block(layer, head)
    return block.all(name) if block is not None else []


def _requirements(layer: Layer, spec: LayerSpec) -> Iterator[Issue]:
    for req in spec.requirements:
        if req.unless and layer.get(req.unless):
            continue
        if req.unless_bottoms is not None and len(layer.bottoms) >= req.unless_bottoms:
            continue
        problem = _violation(layer, req)
        if problem is not None:
            where = written(layer, req.field)
            yield (where if where is not None else type_node(layer)), f"{problem} ({req.message})"


def _violation(layer: Layer, req: Requirement) -> str | None:
    head, _, name = req.field.rpartition(".")
    block = _block(layer, head)
    is_set = block is not None and block.has(name)
    if not is_set and block is not None and any(f.name.text == name for f in block.node.fields):
        return None  # written with a value the binder refused and reported (PRS)
    value = layer.get(req.field)
    if req.rule == "set":
        if not is_set or value == "":
            return f"{req.field} is not set"
        return None
    if value is None:
        return None
    if req.rule == "positive" and value <= 0:
        return f"{req.field} is not set" if not is_set else f"{req.field} is {value}, must be positive"
    if req.rule == "odd" and value % 2 != 1:
        return f"{req.field} is {value}, must be odd"
    if req.rule == "open_unit" and not 0 < value < 1:
        return f"{req.field} is {value}, must be above 0 and below 1"
    return None


def _block(layer: Layer, dotted: str) -> Bound | None:
    head, *rest = dotted.split(".")
    node = layer.param(head)
    for name in rest:
        node = node.msg(name) if node is not None else None
    return node


# -- fillers ---------------------------------------------------------------------------------

def filler_issues(layer: Layer, path: str, filler: Bound | None = None) -> Iterator[Issue]:
    """GetFiller and Fill CHECKs for the FillerParameter at `path` (default: constant 0)."""
    if filler is None:
        filler = _block(layer, path)
    if filler is None:
        return  # the default FillerParameter: constant 0
    known = facts("filler_types")
    kind = filler.get("type")
    where = filler.entry("type").item if filler.has("type") else filler
    if kind not in known["names"]:
        close = close_matches(kind, known["names"])
        hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(known['names'])})"
        yield where, f"{path}: Unknown filler name: {kind}{hint}"
        return
    if filler.get("sparse") != -1 and kind not in known["sparse"]:
        yield filler.entry("sparse").item, f"{path}: Sparsity not supported by this Filler ({kind})."
    if kind == "gaussian":
        if filler.get("std") <= 0:
            yield _at(filler, "std"), (f"{path}: gaussian std is {filler.get('std')}; "
                                       f"caffe_rng_gaussian requires sigma > 0")
        if filler.get("sparse") < -1:
            yield _at(filler, "sparse"), f"{path}: sparse is {filler.get('sparse')}, must be >= -1"
    if kind == "uniform" and filler.get("min") > filler.get("max"):
        yield _at(filler, "min"), (f"{path}: uniform min {filler.get('min')} > max {filler.get('max')}; "
                                   f"caffe_rng_uniform requires a <= b")
    if kind == "bilinear":
        yield from _bilinear(layer, path, where)


def _bilinear(layer: Layer, path: str, where) -> Iterator[Issue]:
    """BilinearFiller: CHECK_EQ(num_axes, 4) "Blob must be 4 dim." and "Filter must be square"."""
    if not path.endswith("weight_filler") or not path.startswith("convolution_param"):
        yield where, f"{path}: bilinear fills 4-D convolution weights only (Blob must be 4 dim.)"
        return
    conv = layer.param("convolution_param")
    sizes = conv.all("kernel_size") if conv is not None else []
    if conv is not None and (conv.has("kernel_h") or conv.has("kernel_w")):
        sizes = [conv.get("kernel_h"), conv.get("kernel_w")]
    if len(set(sizes)) > 1:
        yield where, f"{path}: bilinear needs a square kernel, not {' x '.join(map(str, sizes))} (Filter must be square)"


def _at(bound: Bound, name: str):
    entry = bound.entry(name)
    return entry.item if entry is not None else bound


# -- per-type LayerSetUp checks ----------------------------------------------------------------

def _block_or_type(layer: Layer, name: str):
    return written(layer, name) or type_node(layer)


def _convolution(layer: Layer) -> Iterator[Issue]:
    yield from conv_issues(layer.param("convolution_param"), _block_or_type(layer, "convolution_param"))


def _im2col(layer: Layer) -> Iterator[Issue]:
    yield from conv_issues(layer.param("convolution_param"), _block_or_type(layer, "convolution_param"),
                           with_outputs=False)


def _pooling(layer: Layer) -> Iterator[Issue]:
    yield from pool_issues(layer.param("pooling_param"), _block_or_type(layer, "pooling_param"))


def _eltwise(layer: Layer) -> Iterator[Issue]:
    """eltwise_layer.cpp LayerSetUp."""
    param = layer.param("eltwise_param")
    if param is None or not param.has("coeff"):
        return
    coeffs = param.entries_of("coeff")
    if len(coeffs) != len(layer.bottoms):
        yield coeffs[0].item, (f"{len(coeffs)} coeff for {len(layer.bottoms)} bottoms "
                               f"(Eltwise Layer takes one coefficient per bottom blob.)")
    if param.get("operation") == "PROD":
        yield coeffs[0].item, "Eltwise layer only takes coefficients for summation (operation is PROD)."


def _dummy_data(layer: Layer) -> Iterator[Issue]:
    """dummy_data_layer.cpp LayerSetUp: one value for all tops or one per top."""
    param = layer.param("dummy_data_param")
    tops = len(layer.tops)
    where = param if param is not None else type_node(layer)
    fillers = param.all("data_filler") if param is not None else []
    if len(fillers) not in (0, 1, tops):
        yield where, (f"Number of data fillers must be 0, 1 or equal to the number of tops: "
                      f"{tops}; you specified {len(fillers)} data fillers.")
    for filler in fillers:
        yield from filler_issues(layer, "dummy_data_param.data_filler", filler)
    legacy = [n for n in ("num", "channels", "height", "width") if param is not None and param.has(n)]
    shapes = len(param.all("shape")) if param is not None else 0
    if legacy:
        if shapes:
            yield where, "Both shape and legacy fields were specified"
        for name in ("num", "channels", "height", "width"):
            count = len(param.all(name))
            if count not in (1, tops):
                yield where, (f"Must specify '{name}' once, or once per top blob ({tops}); "
                              f"specified {count}.")
    elif shapes not in (1, tops):
        yield where, f"Must specify 'shape' once, or once per top blob ({tops}); specified {shapes}."


def _input(layer: Layer) -> Iterator[Issue]:
    """input_layer.cpp LayerSetUp."""
    param = layer.param("input_param")
    shapes = len(param.all("shape")) if param is not None else 0
    if shapes not in (0, 1, len(layer.tops)):
        yield param, (f"Must specify 'shape' once, once per top blob, or not at all: "
                      f"{len(layer.tops)} tops vs. {shapes} shapes.")


def _reshape(layer: Layer) -> Iterator[Issue]:
    """reshape_layer.cpp LayerSetUp / Reshape."""
    param = layer.param("reshape_param")
    if param is None:
        return
    shape = param.msg("shape")
    if shape is not None and sum(1 for d in shape.all("dim") if d == -1) > 1:
        yield shape, ("new shape contains multiple -1 dims; at most a single (1) value of -1 "
                      "may be specified")
    if param.get("num_axes") < -1:
        yield _at(param, "num_axes"), "num_axes must be >= 0, or -1 for all"


def _axis_or_legacy(param_name: str, legacy: str, layer_label: str) -> Callable[[Layer], Iterator[Issue]]:
    def check(layer: Layer) -> Iterator[Issue]:
        param = layer.param(param_name)
        if param is not None and param.has("axis") and param.has(legacy):
            yield _at(param, legacy), f"Either axis or {legacy} should be specified; not both."
    check.__doc__ = f"{layer_label}: axis and the legacy {legacy} are exclusive."
    return check


def _slice(layer: Layer) -> Iterator[Issue]:
    """slice_layer.cpp LayerSetUp / Reshape."""
    yield from _axis_or_legacy("slice_param", "slice_dim", "Slice")(layer)
    param = layer.param("slice_param")
    points = param.entries_of("slice_point") if param is not None else []
    if points and len(points) != len(layer.tops) - 1:
        yield points[0].item, (f"{len(points)} slice_point for {len(layer.tops)} tops: "
                               f"give one fewer slice_point than tops")
    previous = 0
    for entry in points:
        if entry.value <= previous:
            yield entry.item, f"slice_point {entry.value} is not greater than {previous}; points must increase"
            break
        previous = entry.value


def _exp_log(layer: Layer) -> Iterator[Issue]:
    """exp_layer.cpp / log_layer.cpp LayerSetUp: base -1 means e, else base > 0 (Log: and != 1)."""
    param = layer.param("exp_param" if layer.type == "Exp" else "log_param")
    if param is None:
        return
    base = param.get("base")
    if base != -1 and base <= 0:
        yield _at(param, "base"), f"base is {base}: base must be strictly positive."
    elif layer.type == "Log" and base == 1:
        yield _at(param, "base"), "base 1: Inf result: 1/log(base) = 1/log(1) = inf"


def _image_data(layer: Layer) -> Iterator[Issue]:
    """image_data_layer.cpp DataLayerSetUp."""
    param = layer.param("image_data_param")
    if param is not None and (param.get("new_height") > 0) != (param.get("new_width") > 0):
        yield _at(param, "new_height" if param.has("new_height") else "new_width"), (
            "Current implementation requires new_height and new_width to be set at the same time.")


def _window_data(layer: Layer) -> Iterator[Issue]:
    """window_data_layer.cpp DataLayerSetUp: CHECK_GT(crop_size, 0)."""
    if transform_value(layer, "crop_size") <= 0:
        yield type_node(layer), "WindowData needs transform_param { crop_size } > 0 (Check failed: crop_size > 0)"


def _hdf5_data(layer: Layer) -> Iterator[Issue]:
    """hdf5_data_layer.cpp LayerSetUp: CHECK(!has_transform_param())."""
    entry = layer.bound.entry("transform_param") if "transform_param" in layer.bound.schema.fields else None
    if entry is not None:
        yield entry.node.name, "HDF5Data does not transform data (remove transform_param)."


def _transformer(layer: Layer) -> Iterator[Issue]:
    """DataTransformer constructor and Transform (src/caffe/data_transformer.cpp)."""
    param = layer.param("transform_param")
    if param is None:
        return
    # mean_file with mean_value, and the mean_value count, are INP003's (mean-file-and-value)
    if param.get("force_color") and param.get("force_gray"):
        yield _at(param, "force_gray"), "cannot set both force_color and force_gray"


def transform_value(layer: Layer, name: str):
    """A TransformationParameter value, with V1's legacy copy in the data layer's own parameters
    (UpgradeNetDataTransformation moves it; BVLC/caffe:src/caffe/util/upgrade_proto.cpp)."""
    param = layer.param("transform_param")
    if param is not None and param.has(name):
        return param.get(name)
    if layer.version == 1:
        own = {"Data": "data_param", "ImageData": "image_data_param",
               "WindowData": "window_data_param"}.get(layer.type)
        legacy = layer.param(own) if own else None
        if legacy is not None and name in legacy.schema.fields and legacy.has(name):
            return legacy.get(name)
    return layer.get(f"transform_param.{name}")


_SPECIFIC: dict[str, Callable[[Layer], Iterator[Issue]]] = {
    "Convolution": _convolution,
    "Deconvolution": _convolution,
    "Im2col": _im2col,
    "Pooling": _pooling,
    "Eltwise": _eltwise,
    "DummyData": _dummy_data,
    "Input": _input,
    "Reshape": _reshape,
    "Concat": _axis_or_legacy("concat_param", "concat_dim", "Concat"),
    "Slice": _slice,
    "Exp": _exp_log,
    "Log": _exp_log,
    "ImageData": _image_data,
    "WindowData": _window_data,
    "HDF5Data": _hdf5_data,
}

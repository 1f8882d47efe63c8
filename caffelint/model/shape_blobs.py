"""Shapes through the layers that move, join, cut or reduce blobs without parameters.

Sources (BVLC/caffe:src/caffe/layers/): concat_layer.cpp, slice_layer.cpp,
eltwise_layer.cpp, crop_layer.cpp, reshape_layer.cpp, flatten_layer.cpp,
tile_layer.cpp, reduction_layer.cpp, argmax_layer.cpp, batch_reindex_layer.cpp,
filter_layer.cpp, split_layer.cpp, softmax_layer.cpp, mvn_layer.cpp, neuron_layer.cpp.
"""

from __future__ import annotations

from caffelint.model.shape_step import PARAM, Shape, Step, describe, product, same


def unchanged(step: Step) -> list[Shape | None] | None:
    """NeuronLayer, Dropout, Softmax...: every top is shaped like bottom 0."""
    return [step.bottom(0)] * len(step.layer.tops)


def softmax(step: Step) -> list[Shape | None] | None:
    shape = step.bottom(0)
    if shape is None or step.axis(step.layer.get("softmax_param.axis"), shape, "softmax_param.axis") is None:
        return None
    return [shape]


def mvn(step: Step) -> list[Shape | None] | None:
    """MVNLayer::Reshape uses the legacy num/channels/height/width: the top has 4 axes."""
    shape = step.bottom(0)
    if shape is None:
        return None
    if len(shape) > 4:
        step.problem(f"{step.bottom_name()!r} is {describe(shape)}: Cannot use legacy accessors on Blobs with > 4 axes.")
        return None
    return [tuple(shape) + (1,) * (4 - len(shape))]


def concat(step: Step) -> list[Shape | None] | None:
    """ConcatLayer::Reshape: same axes everywhere, same sizes except along the concat axis."""
    first = step.bottom(0)
    param = step.param("concat_param")
    if first is None:
        return None
    if param is not None and param.has("concat_dim") and not param.has("axis"):
        axis = _legacy_axis(step, param.get("concat_dim"), first, "concat_param.concat_dim")
    else:
        axis = step.axis(step.layer.get("concat_param.axis"), first, "concat_param.axis")
    if axis is None:
        return None
    top = list(first)
    for i in range(1, len(step.bottoms)):
        other = step.bottom(i)
        if other is None:
            top[axis] = None
            continue
        if len(other) != len(first) or not all(same(a, b) for j, (a, b) in enumerate(zip(first, other))
                                                if j != axis):
            step.problem(f"Concat inputs disagree outside axis {axis}: {step.bottom_name()!r} is "
                         f"{describe(first)}, {step.bottom_name(i)!r} is {describe(other)} "
                         f"(All inputs must have the same shape, except at concat_axis.)", step.bottom_at(i))
            return None
        joined = None if top[axis] is None or other[axis] is None else top[axis] + other[axis]
        top = [a if a is not None else b for a, b in zip(top, other)]  # what one input leaves unknown
        top[axis] = joined
    return [tuple(top)]


def _legacy_axis(step: Step, value: int, shape: Shape, dotted: str) -> int | None:
    """concat_dim / slice_dim: CHECK_LT(axis, num_axes) << "..._dim out of range."."""
    if value < len(shape):
        return value
    step.problem(f"{dotted} {value} is out of range for the {len(shape)}-D input {step.bottom_name()!r} "
                 f"({describe(shape)})", step.at(dotted))
    return None


def slice_layer(step: Step) -> list[Shape | None] | None:
    """SliceLayer::Reshape: cut at slice_point, or into equal parts."""
    shape = step.bottom(0)
    param = step.param("slice_param")
    if shape is None:
        return None
    if param is not None and param.has("slice_dim") and not param.has("axis"):
        axis = _legacy_axis(step, param.get("slice_dim"), shape, "slice_param.slice_dim")
    else:
        axis = step.axis(step.layer.get("slice_param.axis"), shape, "slice_param.axis")
    if axis is None:
        return None
    size, tops = shape[axis], len(step.layer.tops)
    points = step.values("slice_param.slice_point")
    if points:
        if len(points) != tops - 1 or any(b <= a for a, b in zip([0] + points, points)):
            return None  # layer_setup reports these
        if size is None:
            return [None] * tops
        if points[-1] >= size:
            step.problem(f"slice_point {points[-1]} is not inside axis {axis} of {step.bottom_name()!r} "
                         f"({describe(shape)})", step.at("slice_param.slice_point"), PARAM)
            return None
        parts = [b - a for a, b in zip([0] + points, points + [size])]
    else:
        if size is None:
            return [shape[:axis] + (None,) + shape[axis + 1:]] * tops
        if size % tops:
            step.problem(f"Number of top blobs ({tops}) should evenly divide input slice axis ({size})",
                         step.at("slice_param.axis"), PARAM)
            return None
        parts = [size // tops] * tops
    return [shape[:axis] + (part,) + shape[axis + 1:] for part in parts]


def eltwise(step: Step) -> list[Shape | None] | None:
    """EltwiseLayer::Reshape: CHECK(bottom[i]->shape() == bottom[0]->shape())."""
    known = [(i, s) for i, s in enumerate(step.bottoms) if s is not None]
    if not known:
        return None
    first_index, top = known[0]
    for i, other in known[1:]:
        if len(other) != len(top) or not all(map(same, top, other)):
            step.problem(f"Eltwise inputs differ: {step.bottom_name(first_index)!r} is {describe(top)}, "
                         f"{step.bottom_name(i)!r} is {describe(other)}", step.bottom_at(i))
            return None
        top = tuple(a if a is not None else b for a, b in zip(top, other))
    if len(known) < len(step.bottoms):
        return [top] if all(d is not None for d in top) else [None]
    return [top]


def crop(step: Step) -> list[Shape | None] | None:
    """CropLayer: axes from `axis` on take bottom 1's sizes, at `offset` inside bottom 0."""
    data, like = step.bottom(0), step.bottom(1)
    if data is None:
        return None
    axis = step.axis(step.layer.get("crop_param.axis"), data, "crop_param.axis")
    if axis is None:
        return None
    offsets = step.values("crop_param.offset")
    if len(offsets) > 1 and axis + len(offsets) != len(data):
        step.problem(f"{len(offsets)} offset for the {len(data) - axis} axes from axis {axis} of "
                     f"{step.bottom_name()!r} ({describe(data)}): number of offset values specified must "
                     f"be equal to the number of dimensions following axis.", step.at("crop_param.offset"), PARAM)
        return None
    if like is None:
        return [tuple(data[:axis]) + (None,) * (len(data) - axis)]
    if len(like) < len(data):
        step.problem(f"the crop reference {step.bottom_name(1)!r} ({describe(like)}) has fewer axes "
                     f"than {step.bottom_name()!r} ({describe(data)})")
        return None
    top = list(data)
    for i in range(axis, len(data)):
        offset = offsets[0] if len(offsets) == 1 else offsets[i - axis] if offsets else 0
        if data[i] is not None and like[i] is not None and data[i] - offset < like[i]:
            step.problem(f"the crop for dimension {i} is out-of-bounds with size {like[i]} and offset "
                         f"{offset}: {step.bottom_name()!r} is {describe(data)}, {step.bottom_name(1)!r} is "
                         f"{describe(like)}", step.bottom_at(1))
            return None
        top[i] = like[i]
    return [tuple(top)]


def reshape(step: Step) -> list[Shape | None] | None:
    """ReshapeLayer::Reshape: replace axes [axis, axis + num_axes) by `shape` (0 copies, -1 infers)."""
    shape = step.bottom(0)
    param = step.param("reshape_param")
    new = param.msg("shape") if param is not None else None
    if shape is None or new is None:
        return None
    dims = new.all("dim")
    if sum(1 for d in dims if d == -1) > 1 or param.get("num_axes") < -1:
        return None  # layer_setup reports these
    n = len(shape)
    written = param.get("axis")
    start = written if written >= 0 else n + written + 1
    if not 0 <= start <= n:
        step.problem(f"reshape_param.axis {written} is out of range for the {n}-D input "
                     f"{step.bottom_name()!r} ({describe(shape)})", step.at("reshape_param.axis"))
        return None
    num_axes = param.get("num_axes")
    end = n if num_axes == -1 else start + num_axes
    if end > n:
        step.problem(f"end_axis = axis + num_axes = {end} is out of range for the {n}-D input "
                     f"{step.bottom_name()!r} ({describe(shape)})", step.at("reshape_param.num_axes"))
        return None
    top = list(shape[:start]) + list(dims) + list(shape[end:])
    for i, d in enumerate(dims):
        if d == 0:
            if start + i >= n:
                step.problem(f"new shape contains a 0, but there was no corresponding bottom axis to copy "
                             f"({step.bottom_name()!r} is {describe(shape)})", step.at("reshape_param.shape"))
                return None
            top[start + i] = shape[start + i]
    total = product(shape)
    if -1 in dims:
        known = product(d for j, d in enumerate(top) if j != start + dims.index(-1))
        if known is None or total is None:
            top[start + dims.index(-1)] = None
        elif known == 0 or total % known:
            step.problem(f"bottom count ({total}, {describe(shape)}) must be divisible by the product of "
                         f"the specified dimensions ({known})", step.at("reshape_param.shape"))
            return None
        else:
            top[start + dims.index(-1)] = total // known
    count = product(top)
    if count is not None and total is not None and count != total:
        step.problem(f"output count must match input count: {describe(tuple(top))} ({count}) from "
                     f"{step.bottom_name()!r} {describe(shape)} ({total})", step.at("reshape_param.shape"))
        return None
    return [tuple(top)]


def flatten(step: Step) -> list[Shape | None] | None:
    """FlattenLayer::Reshape: axes [axis, end_axis] become one."""
    shape = step.bottom(0)
    if shape is None:
        return None
    start = step.axis(step.layer.get("flatten_param.axis"), shape, "flatten_param.axis")
    end = step.axis(step.layer.get("flatten_param.end_axis"), shape, "flatten_param.end_axis")
    if start is None or end is None:
        return None
    if end < start:
        step.problem(f"flatten_param.end_axis {end} comes before axis {start} (Check failed: start_axis <= "
                     f"end_axis)", step.at("flatten_param.end_axis"))
        return None
    return [tuple(shape[:start]) + (product(shape[start:end + 1]),) + tuple(shape[end + 1:])]


def tile(step: Step) -> list[Shape | None] | None:
    shape = step.bottom(0)
    tiles = step.layer.get("tile_param.tiles")
    if shape is None or not tiles or tiles <= 0:
        return None
    axis = step.axis(step.layer.get("tile_param.axis"), shape, "tile_param.axis")
    if axis is None:
        return None
    top = list(shape)
    top[axis] = None if top[axis] is None else top[axis] * tiles
    return [tuple(top)]


def reduction(step: Step) -> list[Shape | None] | None:
    """ReductionLayer: the axes before `axis` remain."""
    shape = step.bottom(0)
    if shape is None:
        return None
    axis = step.axis(step.layer.get("reduction_param.axis"), shape, "reduction_param.axis")
    return None if axis is None else [tuple(shape[:axis])]


def argmax(step: Step) -> list[Shape | None] | None:
    """ArgMaxLayer: top_k indices (and values) per item, or along `axis`."""
    shape = step.bottom(0)
    param = step.param("argmax_param")
    top_k = step.layer.get("argmax_param.top_k")
    if shape is None or top_k < 1:
        return None
    if param is not None and param.has("axis"):
        axis = step.axis(param.get("axis"), shape, "argmax_param.axis")
        if axis is None:
            return None
        if shape[axis] is not None and top_k > shape[axis]:
            step.problem(f"top_k {top_k} is larger than axis {axis} of {step.bottom_name()!r} ({describe(shape)}) "
                         f"(top_k must be less than or equal to the dimension of the axis.)",
                         step.at("argmax_param.top_k"), PARAM)
            return None
        return [tuple(shape[:axis]) + (top_k,) + tuple(shape[axis + 1:])]
    inner = product(shape[1:])
    if inner is not None and top_k > inner:
        step.problem(f"top_k {top_k} is larger than the {inner} values per item of {step.bottom_name()!r} "
                     f"(top_k must be less than or equal to the dimension of the flattened bottom blob per "
                     f"instance.)", step.at("argmax_param.top_k"), PARAM)
        return None
    out = [1] * max(len(shape), 3)
    out[0], out[2] = shape[0], top_k
    if step.layer.get("argmax_param.out_max_val"):
        out[1] = 2
    return [tuple(out)]


def batch_reindex(step: Step) -> list[Shape | None] | None:
    data, index = step.bottom(0), step.bottom(1)
    if index is not None and len(index) != 1:
        step.problem(f"the index blob {step.bottom_name(1)!r} is {describe(index)}; it must have 1 axis "
                     f"(Check failed: 1 == bottom[1]->num_axes())", step.bottom_at(1))
        return None
    if data is None or index is None:
        return None
    return [(index[0],) + tuple(data[1:])]


def filter_layer(step: Step) -> list[Shape | None] | None:
    """FilterLayer: the last bottom selects items; how many pass is known only at run time."""
    selector = step.bottoms[-1]
    if selector is not None:
        if any(d is not None and d != 1 for d in selector[1:]):
            step.problem(f"the selector {step.layer.bottoms[-1]!r} is {describe(selector)} (Selector blob "
                         f"dimensions must be singletons (1), except the first)")
            return None
        for i, shape in enumerate(step.bottoms[:-1]):
            if shape is not None and shape and not same(shape[0], selector[0]):
                step.problem(f"{step.bottom_name(i)!r} is {describe(shape)}, the selector is "
                             f"{describe(selector)} (Each bottom should have the same 0th dimension as the "
                             f"selector blob)")
                return None
    return [None if s is None else (None,) + tuple(s[1:]) for s in step.bottoms[:-1]]


def split(step: Step) -> list[Shape | None] | None:
    return [step.bottom(0)] * len(step.layer.tops)


def no_tops(step: Step) -> list[Shape | None] | None:
    return []

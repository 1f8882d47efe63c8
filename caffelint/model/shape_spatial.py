"""Shapes through the sliding-window layers: Convolution, Deconvolution, Im2col, Pooling, SPP, LRN.

Sources: BVLC/caffe:src/caffe/layers/base_conv_layer.cpp (LayerSetUp, Reshape),
conv_layer.cpp, deconv_layer.cpp, im2col_layer.cpp, pooling_layer.cpp,
spp_layer.cpp and lrn_layer.cpp.
"""

from __future__ import annotations

from caffelint.model.geometry import conv_geometry, conv_out, deconv_out, pool_geometry, pool_out
from caffelint.model.shape_step import PARAM, Shape, Step, describe, same

FOUR_AXES = "Input must have 4 axes, corresponding to (num, channels, height, width)"


def convolution(step: Step) -> list[Shape | None] | None:
    """BaseConvolutionLayer: top = leading axes x num_output x one output size per spatial axis."""
    found = _convolution_input(step)
    if found is None:
        return None
    param, shape, axis, geometry = found
    channels, outputs, group = shape[axis], param.get("num_output"), param.get("group")
    if geometry is None or outputs <= 0 or group <= 0 or outputs % group:
        return None  # layer_setup reports these
    if channels is not None and channels % group:
        step.problem(f"the {channels} channels of {step.bottom_name()!r} are not divisible by group {group} "
                     f"(Check failed: channels_ % group_ == 0)", step.at("convolution_param.group"), PARAM)
        return None
    for i in range(1, len(step.bottoms)):
        other = step.bottom(i)
        if other is not None and (len(other) != len(shape) or not all(map(same, shape, other))):
            step.problem(f"All inputs must have the same shape: {step.bottom_name()!r} is {describe(shape)}, "
                         f"{step.bottom_name(i)!r} is {describe(other)}", step.bottom_at(i))
            return None
    deconv = step.layer.type == "Deconvolution"
    sizes = []
    for i, size in enumerate(shape[axis + 1:]):
        k, s, p, d = geometry.kernel[i], geometry.stride[i], geometry.pad[i], geometry.dilation[i]
        if size is None:
            sizes.append(None)
            continue
        out = deconv_out(size, k, s, p, d) if deconv else conv_out(size, k, s, p, d)
        if out <= 0:
            what = f"pad {p} removes more than the output" if deconv else f"kernel {_extent(k, d)} does not fit"
            step.problem(f"{what}: axis {axis + 1 + i} of {step.bottom_name()!r} is {size}"
                         f"{f' + 2 x pad {p}' if p and not deconv else ''}, so the output size would be {out} "
                         f"(input {describe(shape)})", step.at("convolution_param.kernel_size"))
            return None
        sizes.append(out)
    weights = ((channels, outputs // group) if deconv else (outputs, _div(channels, group))) + geometry.kernel
    step.params = [weights] + ([(outputs,)] if param.get("bias_term") else [])
    top = tuple(shape[:axis]) + (outputs,) + tuple(sizes)
    return [top] * len(step.layer.tops)


def im2col(step: Step) -> list[Shape | None] | None:
    """Im2colLayer::Reshape: channels x kernel area, one output size per spatial axis."""
    found = _convolution_input(step)
    if found is None or found[3] is None:
        return None
    param, shape, axis, geometry = found
    top = list(shape)
    for i, size in enumerate(shape[axis + 1:]):
        k, s, p, d = geometry.kernel[i], geometry.stride[i], geometry.pad[i], geometry.dilation[i]
        top[axis] = None if top[axis] is None else top[axis] * k
        top[axis + 1 + i] = None if size is None else conv_out(size, k, s, p, d)
    return [tuple(top)]


def _convolution_input(step: Step):
    """(convolution_param, input shape, channel axis, geometry or None), or None when unknown."""
    param = step.param("convolution_param")
    shape = step.bottom(0)
    if param is None or shape is None:
        return None
    axis = step.axis(param.get("axis"), shape, "convolution_param.axis")
    if axis is None:
        return None
    return param, shape, axis, _geometry(step, param, len(shape) - axis - 1)


def _geometry(step: Step, param, spatial: int):
    geometry, issues = conv_geometry(param, spatial)
    for where, message in issues:
        step.problem(message, where, PARAM)
    if geometry is None or any(k <= 0 for k in geometry.kernel) or any(s <= 0 for s in geometry.stride):
        return None
    return geometry


def _extent(kernel: int, dilation: int) -> str:
    return f"{kernel}" if dilation == 1 else f"{kernel} dilated by {dilation} (extent {dilation * (kernel - 1) + 1})"


def _div(a: int | None, b: int) -> int | None:
    return None if a is None else a // b


def pooling(step: Step) -> list[Shape | None] | None:
    """PoolingLayer::Reshape: 4 axes; ceil (or round_mode FLOOR) output sizes."""
    param = step.param("pooling_param")
    shape = step.bottom(0)
    if param is None or shape is None:
        return None
    if len(shape) != 4:
        step.problem(f"{step.bottom_name()!r} is {describe(shape)} ({FOUR_AXES})", step.bottom_at(0))
        return None
    num, channels, height, width = shape
    kernel, stride, pad = pool_geometry(param, (height, width))
    if any(k is not None and k <= 0 for k in kernel) or any(s <= 0 for s in stride):
        return None  # layer_setup reports these
    if not param.get("global_pooling") and any(p >= k for p, k in zip(pad, kernel)):
        return None
    floor = param.get("round_mode") == "FLOOR"
    sizes = []
    for size, k, s, p, label in zip((height, width), kernel, stride, pad, ("height", "width")):
        if size is None or k is None:
            sizes.append(None)
            continue
        out = pool_out(size, k, s, p, floor)
        if out <= 0:
            step.problem(f"kernel {k} does not fit: the {label} of {step.bottom_name()!r} is "
                         f"{size}{f' + 2 x pad {p}' if p else ''}, so the pooled {label} would be {out} "
                         f"(input {describe(shape)})", step.at("pooling_param.kernel_size"))
            return None
        sizes.append(out)
    top = (num, channels, *sizes)
    return [top] * len(step.layer.tops)


def spp(step: Step) -> list[Shape | None] | None:
    """SPPLayer: pyramid levels of 2^i x 2^i bins, each flattened, concatenated on axis 1."""
    shape = step.bottom(0)
    levels = step.layer.get("spp_param.pyramid_height")
    if shape is None or levels <= 0:
        return None
    if len(shape) != 4:
        step.problem(f"{step.bottom_name()!r} is {describe(shape)} ({FOUR_AXES})", step.bottom_at(0))
        return None
    num, channels, height, width = shape
    if levels == 1:
        return [(num, channels, 1, 1)]  # one pooling over the whole image
    if height is None or width is None:
        return [(num, None)]
    total = 0
    for level in range(levels):
        bins = 2 ** level
        area = 1
        for size in (height, width):
            kernel = -(-size // bins)  # SPPLayer::GetPoolingParam
            pad = (kernel * bins - size + 1) // 2
            area *= pool_out(size, kernel, kernel, pad, floor=False)
        total += area
    return [(num, None if channels is None else channels * total)]


def lrn(step: Step) -> list[Shape | None] | None:
    """LRNLayer::Reshape: 4 axes, shape unchanged."""
    shape = step.bottom(0)
    if shape is None:
        return None
    if len(shape) != 4:
        step.problem(f"{step.bottom_name()!r} is {describe(shape)} ({FOUR_AXES})", step.bottom_at(0))
        return None
    return [shape]

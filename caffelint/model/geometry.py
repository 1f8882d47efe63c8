"""Kernel geometry of convolution and pooling layers, read the way Caffe reads it.

`conv_issues` / `pool_issues` are the LayerSetUp CHECKs that need no input
shape; `conv_geometry` / `pool_geometry` resolve kernel, stride, pad and
dilation per spatial axis once the number of spatial axes is known, and
`conv_out`, `deconv_out`, `pool_out` are Caffe's output-size formulas.
Sources: BVLC/caffe:src/caffe/layers/base_conv_layer.cpp LayerSetUp,
conv_layer.cpp / deconv_layer.cpp compute_output_shape, pooling_layer.cpp.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from caffelint.schema.bound import Bound


@dataclass(frozen=True)
class Geometry:
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    pad: tuple[int, ...]
    dilation: tuple[int, ...]


Issue = tuple[object, str]  # (where: a node or Bound, message)


def _at(param: Bound, name: str, where=None):
    """The value node of `name`, else `where` (the block's field), else the block."""
    entry = param.entry(name)
    if entry is not None:
        return entry.item
    return where if where is not None else param


def conv_issues(param: Bound | None, where, with_outputs: bool = True) -> Iterator[Issue]:
    """ConvolutionParameter CHECKs that hold whatever the input shape (base_conv_layer.cpp LayerSetUp;
    Im2col reads only the kernel, stride, pad and dilation: with_outputs=False)."""
    if param is None:
        yield where, ("convolution_param.kernel_size is not set (kernel_size must be specified once, "
                      "or once per spatial dimension)")
        return
    if param.has("kernel_h") or param.has("kernel_w"):
        if param.has("kernel_size"):
            yield _at(param, "kernel_size"), "Either kernel_size or kernel_h/w should be specified; not both."
        for name in ("kernel_h", "kernel_w"):
            if param.get(name) <= 0:
                yield _at(param, name), f"{name} is {param.get(name)}: Filter dimensions must be nonzero."
    elif not param.has("kernel_size"):
        yield where, ("convolution_param.kernel_size is not set (kernel_size must be specified once, "
                      "or once per spatial dimension)")
    for entry in param.entries_of("kernel_size"):
        if entry.value <= 0:
            yield entry.item, "kernel_size 0: Filter dimensions must be nonzero."
    yield from _hw_or_list(param, "stride")
    yield from _hw_or_list(param, "pad")
    for entry in param.entries_of("stride"):
        if entry.value <= 0:
            yield entry.item, "stride 0: Stride dimensions must be nonzero."
    for name in ("stride_h", "stride_w"):
        if (param.has("stride_h") or param.has("stride_w")) and not param.get(name):
            # the stride_h/w branch has no CHECK: compute_output_shape divides by zero
            yield _at(param, name), f"{name} is {param.get(name)}: the output size divides by it"
    group = param.get("group")
    if not with_outputs:
        return
    if group <= 0:
        yield _at(param, "group"), f"group is {group}: channels % group divides by zero"
    elif param.get("num_output") % group:
        yield _at(param, "group"), (f"num_output {param.get('num_output')} is not a multiple of group "
                                    f"{group} (Number of output should be multiples of group.)")


def _hw_or_list(param: Bound, name: str) -> Iterator[Issue]:
    if (param.has(f"{name}_h") or param.has(f"{name}_w")) and param.has(name):
        yield _at(param, name), f"Either {name} or {name}_h/w should be specified; not both."


def conv_geometry(param: Bound, spatial: int) -> tuple[Geometry | None, list[Issue]]:
    """Kernel, stride, pad and dilation per spatial axis, or the CHECKs that fail for this rank."""
    issues: list[Issue] = []
    kernel = _pair_or_list(param, "kernel", "kernel_size", None, spatial, issues)
    stride = _pair_or_list(param, "stride", "stride", 1, spatial, issues)
    pad = _pair_or_list(param, "pad", "pad", 0, spatial, issues)
    dilation = _list(param, "dilation", 1, spatial, issues)
    if issues or kernel is None or stride is None or pad is None or dilation is None:
        return None, issues
    return Geometry(kernel, stride, pad, dilation), issues


def _pair_or_list(param: Bound, prefix: str, name: str, default, spatial: int, issues: list[Issue]):
    if param.has(f"{prefix}_h") or param.has(f"{prefix}_w"):
        if spatial != 2:
            issues.append((_at(param, f"{prefix}_h" if param.has(f"{prefix}_h") else f"{prefix}_w"),
                           f"{prefix}_h & {prefix}_w can only be used for 2D convolution "
                           f"(the input has {spatial} spatial axes)"))
            return None
        return (param.get(f"{prefix}_h") or 0, param.get(f"{prefix}_w") or 0)
    return _list(param, name, default, spatial, issues)


def _list(param: Bound, name: str, default, spatial: int, issues: list[Issue]):
    values = param.all(name)
    if not values:
        return None if default is None else (default,) * spatial
    if len(values) == 1:
        return (values[0],) * spatial
    if len(values) != spatial:
        issues.append((param.entries_of(name)[-1].item,
                       f"{name} must be specified once, or once per spatial dimension "
                       f"({name} specified {len(values)} times; {spatial} spatial dims)"))
        return None
    return tuple(values)


def conv_out(size: int, kernel: int, stride: int, pad: int, dilation: int) -> int:
    """ConvolutionLayer::compute_output_shape, with C++ integer division (truncation)."""
    extent = dilation * (kernel - 1) + 1
    return _cdiv(size + 2 * pad - extent, stride) + 1


def deconv_out(size: int, kernel: int, stride: int, pad: int, dilation: int) -> int:
    """DeconvolutionLayer::compute_output_shape."""
    extent = dilation * (kernel - 1) + 1
    return stride * (size - 1) + extent - 2 * pad


def _cdiv(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


# -- pooling --------------------------------------------------------------------------------

def pool_issues(param: Bound | None, where) -> Iterator[Issue]:
    """PoolingParameter CHECKs of PoolingLayer::LayerSetUp that need no input shape."""
    if param is None:
        yield where, "no pooling_param: kernel_size (or global_pooling) is required"
        return
    has = param.has
    if param.get("global_pooling"):
        if has("kernel_size") or has("kernel_h") or has("kernel_w"):
            first = next(n for n in ("kernel_size", "kernel_h", "kernel_w") if has(n))
            yield _at(param, first), "With Global_pooling: true Filter size cannot specified"
            return
    else:
        both = has("kernel_h") and has("kernel_w")
        if has("kernel_size") and both:
            yield _at(param, "kernel_size"), "Filter size is kernel_size OR kernel_h and kernel_w; not both"
            return
        if not has("kernel_size") and not both:
            at = _at(param, "kernel_h" if has("kernel_h") else "kernel_w", where)
            yield at, ("pooling_param.kernel_size is not set (For non-square filters both kernel_h and "
                       "kernel_w are required.)")
            return
    for name, text in (("pad", "pad is pad OR pad_h and pad_w are required."),
                       ("stride", "Stride is stride OR stride_h and stride_w are required.")):
        h, w = has(f"{name}_h"), has(f"{name}_w")
        if (h or w) and not (h and w and not has(name)):
            yield _at(param, f"{name}_h" if h else f"{name}_w"), text
            return
    kernel, stride, pad = pool_geometry(param, None)
    if any(k is not None and k <= 0 for k in kernel):
        yield _at(param, "kernel_size" if has("kernel_size") else "kernel_h", where), \
            "Filter dimensions cannot be zero."
        return
    if any(s <= 0 for s in stride):
        # no CHECK in Caffe: ceil(x / 0) is inf and the pooled size is garbage
        yield _at(param, "stride_h" if has("stride_h") else "stride", where), \
            f"stride is {min(stride)}: the pooled size divides by it"
        return
    if param.get("global_pooling"):
        if any(pad) or any(s != 1 for s in stride):
            yield _at(param, "pad" if any(pad) else "stride", where), \
                "With Global_pooling: true; only pad = 0 and stride = 1"
        return
    if any(pad):
        if param.get("pool") == "STOCHASTIC":
            yield _at(param, "pad_h" if has("pad_h") else "pad"), \
                "Padding implemented only for average and max pooling."
        pairs = (("pad_h", "h", 0), ("pad_w", "w", 1)) if has("pad_h") else (("pad", "h", 0),)
        for name, axis_label, axis in pairs:
            if pad[axis] >= kernel[axis]:
                yield _at(param, name), (f"{name} {pad[axis]} is not smaller than the kernel {kernel[axis]} "
                                         f"(Check failed: pad_{axis_label}_ < kernel_{axis_label}_)")


def pool_geometry(param: Bound | None, input_hw: tuple[int, int] | None):
    """(kernel, stride, pad) as (h, w) pairs; a global kernel is None until the input is known."""
    if param is None:
        return None
    if param.get("global_pooling"):
        kernel = input_hw if input_hw is not None else (None, None)
    elif param.has("kernel_size"):
        kernel = (param.get("kernel_size"),) * 2
    else:
        kernel = (param.get("kernel_h") or 0, param.get("kernel_w") or 0)
    pad = (param.get("pad_h"), param.get("pad_w")) if param.has("pad_h") else (param.get("pad"),) * 2
    if param.has("stride_h"):
        stride = (param.get("stride_h") or 0, param.get("stride_w") or 0)
    else:
        stride = (param.get("stride"),) * 2
    return kernel, stride, pad


def pool_out(size: int, kernel: int, stride: int, pad: int, floor: bool) -> int:
    """PoolingLayer::Reshape: ceil (or FLOOR round_mode) of the float division, then the padding clip."""
    span = size + 2 * pad - kernel
    pooled = (span // stride if floor else -((-span) // stride)) + 1
    if pad and (pooled - 1) * stride >= size + pad:
        pooled -= 1  # the last window must start inside the image, not in the padding
    return pooled

"""Shapes of the layers that start a net: Input, DummyData, Parameter and the data layers.

Sources: BVLC/caffe:src/caffe/layers/input_layer.cpp, dummy_data_layer.cpp,
parameter_layer.cpp, data_layer.cpp, image_data_layer.cpp, window_data_layer.cpp,
memory_data_layer.cpp, hdf5_data_layer.cpp and src/caffe/data_transformer.cpp.
"""

from __future__ import annotations

from caffelint.model.layer_setup import transform_value
from caffelint.model.shape_step import PARAM, Shape, Step
from caffelint.schema.bound import Bound


def blob_shape(shape: Bound) -> Shape:
    return tuple(shape.all("dim"))


def input_layer(step: Step) -> list[Shape | None] | None:
    """InputLayer::LayerSetUp: one shape for every top, or one per top; none: set at run time."""
    param = step.param("input_param")
    shapes = param.all("shape") if param is not None else []
    tops = len(step.layer.tops)
    if not shapes or len(shapes) not in (1, tops):
        return None
    return [blob_shape(shapes[0] if len(shapes) == 1 else shapes[i]) for i in range(tops)]


def dummy_data(step: Step) -> list[Shape | None] | None:
    """DummyDataLayer::LayerSetUp: `shape`, or the legacy num/channels/height/width."""
    param = step.param("dummy_data_param")
    if param is None:
        return None
    tops = len(step.layer.tops)
    shapes = param.all("shape")
    legacy = [param.all(n) for n in ("num", "channels", "height", "width")]
    if any(legacy):
        if shapes or any(len(values) not in (1, tops) for values in legacy):
            return None
        return [tuple(values[0] if len(values) == 1 else values[i] for values in legacy)
                for i in range(tops)]
    if len(shapes) not in (1, tops):
        return None
    return [blob_shape(shapes[0] if len(shapes) == 1 else shapes[i]) for i in range(tops)]


def parameter(step: Step) -> list[Shape | None] | None:
    """ParameterLayer: one blob of parameter_param.shape, which is also its top."""
    param = step.param("parameter_param")
    shape = param.msg("shape") if param is not None else None
    top = blob_shape(shape) if shape is not None else ()
    step.params = [top]
    return [top]


def data(step: Step) -> list[Shape | None] | None:
    """DataLayer::DataLayerSetUp: batch_size x the transformed record shape; labels (batch_size)."""
    batch = step.layer.get("data_param.batch_size")
    return _images(step, batch, step.datum, sizes_from_net=False)


def image_data(step: Step) -> list[Shape | None] | None:
    """ImageDataLayer: images read with is_color (3 or 1 channels), resized to new_height x new_width."""
    get = step.layer.get
    channels = 3 if get("image_data_param.is_color") else 1
    height, width = get("image_data_param.new_height"), get("image_data_param.new_width")
    resized = height > 0 and width > 0
    datum = (channels, height, width) if resized else (channels, None, None)
    if step.datum is not None and not resized:
        datum = (channels,) + tuple(step.datum[1:])
    return _images(step, get("image_data_param.batch_size"), datum, sizes_from_net=resized)


def window_data(step: Step) -> list[Shape | None] | None:
    """WindowDataLayer: batch_size x channels (from the window file) x crop_size x crop_size."""
    batch = step.layer.get("window_data_param.batch_size")
    crop = transform_value(step.layer, "crop_size")
    if crop <= 0 or batch <= 0:
        return None  # layer_setup reports these
    return [(batch, None, crop, crop), (batch,)]


def memory_data(step: Step) -> list[Shape | None] | None:
    """MemoryDataLayer::DataLayerSetUp: batch_size x channels x height x width; labels (batch_size)."""
    get = step.layer.get
    batch = get("memory_data_param.batch_size")
    if batch <= 0:
        return None  # layer_setup reports it
    return [(batch, get("memory_data_param.channels"), get("memory_data_param.height"),
             get("memory_data_param.width")), (batch,)]


def _images(step: Step, batch: int, datum: tuple | None, sizes_from_net: bool) -> list[Shape | None] | None:
    """The data and label tops of a transformed data layer (DataTransformer::InferBlobShape).

    A crop larger than the images is reported here only when the net itself sets their size
    (ImageData's resize); against the records of a data source it is DAT009's finding."""
    if batch <= 0:
        return None  # layer_setup reports the batch_size
    channels, height, width = datum if datum is not None else (None, None, None)
    crop = transform_value(step.layer, "crop_size")
    if crop:
        small = [f"{axis} {size}" for size, axis in ((height, "height"), (width, "width"))
                 if sizes_from_net and size is not None and size < crop]
        if small:
            step.problem(f"crop_size {crop} is larger than the {' and '.join(small)} of the images "
                         f"(Check failed: datum_height >= crop_size)", step.at("transform_param.crop_size"),
                         PARAM)
        height = width = crop
    return [(batch, channels, height, width), (batch,)]

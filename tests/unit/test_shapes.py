"""Shape inference (model/shapes.py): Caffe's output-size arithmetic, layer by layer, on real nets.

Each net is parsed and bound by the real pipeline; expected shapes are Caffe's
(the formulas of each layer's Reshape, and "Top shape:" lines of Caffe logs).
"""

from __future__ import annotations

import pytest

from caffelint.model.files import NET, load
from caffelint.model.geometry import conv_out, deconv_out, pool_out
from caffelint.model.net import NetView
from caffelint.model.shape_step import PARAM, SHAPE
from caffelint.model.shapes import count_parameters, infer_shapes, parameters_complete, shapes_of
from caffelint.schema.descriptors import default_schema
from caffelint.source import SourceFile


def net(text: str) -> NetView:
    parsed = load(SourceFile("net.prototxt", text), default_schema(), NET)
    assert parsed.problems == [], [p.message for p in parsed.problems]
    return NetView(parsed.bound, "net.prototxt")


def shapes(text: str, phase: int = 0):
    view = net(text)
    return shapes_of(view, view.graphs()[phase])


def inp(*dims: int, top: str = "data") -> str:
    return (f'layer {{ name: "in_{top}" type: "Input" top: "{top}" '
            f'input_param {{ shape {{ {" ".join(f"dim: {d}" for d in dims)} }} }} }}\n')


# -- the arithmetic -------------------------------------------------------------------------------

@pytest.mark.parametrize(("size", "kernel", "stride", "pad", "dilation", "expected"), [
    (227, 11, 4, 0, 1, 55),    # AlexNet conv1
    (224, 7, 2, 3, 1, 112),    # ResNet conv1
    (5, 7, 1, 0, 1, -1),       # a kernel wider than the input
    (4, 5, 2, 0, 1, 1),        # C++ truncates -1/2 to 0: Caffe gives 1, not 0
    (64, 3, 1, 2, 2, 64),      # dilated 3x3 with pad 2 keeps the size
])
def test_conv_out_is_caffes_integer_formula(size, kernel, stride, pad, dilation, expected):
    assert conv_out(size, kernel, stride, pad, dilation) == expected


def test_deconv_out_inverts_the_stride():
    assert deconv_out(16, 4, 2, 1, 1) == 32  # FCN's 2x upsampling
    assert deconv_out(1, 64, 32, 0, 1) == 64


@pytest.mark.parametrize(("size", "kernel", "stride", "pad", "floor", "expected"), [
    (112, 3, 2, 0, False, 56),  # GoogLeNet pool1: ceil((112-3)/2)+1
    (112, 3, 2, 0, True, 55),   # round_mode FLOOR
    (55, 3, 2, 0, False, 27),   # AlexNet pool1
    (7, 3, 2, 1, False, 4),     # ceil gives 5, the last window would start in the padding: clipped to 4
    (1, 2, 2, 0, False, 1),     # a kernel wider than the input still pools once (ceil)
])
def test_pool_out_rounds_up_and_clips_the_padding(size, kernel, stride, pad, floor, expected):
    assert pool_out(size, kernel, stride, pad, floor) == expected


# -- layers ------------------------------------------------------------------------------------------

def test_convolution_group_dilation_and_parameters():
    result = shapes(inp(2, 32, 17, 17) + '''
layer { name: "dw" type: "Convolution" bottom: "data" top: "dw"
        convolution_param { num_output: 64 group: 32 kernel_size: 3 dilation: 2 pad: 2 stride: 2 } }''')
    assert result.blobs["dw"] == (2, 64, 9, 9)
    layer = result._layers[1]
    assert result.params[layer.index] == [(64, 1, 3, 3), (64,)]
    assert result.parameter_count(layer) == 64 * 9 + 64


def test_rectangular_kernel_and_3d_convolution():
    result = shapes(inp(1, 3, 10, 20) + inp(1, 2, 8, 8, 8, top="vol") + '''
layer { name: "c" type: "Convolution" bottom: "data" top: "c"
        convolution_param { num_output: 4 kernel_h: 3 kernel_w: 5 pad_w: 2 bias_term: false } }
layer { name: "c3" type: "Convolution" bottom: "vol" top: "c3"
        convolution_param { num_output: 4 kernel_size: 3 kernel_size: 1 kernel_size: 3 } }''')
    assert result.blobs["c"] == (1, 4, 8, 20)
    assert result.blobs["c3"] == (1, 4, 6, 8, 6)


def test_deconvolution_weights_are_input_major():
    result = shapes(inp(1, 21, 16, 16) + '''
layer { name: "up" type: "Deconvolution" bottom: "data" top: "up"
        convolution_param { num_output: 21 group: 21 kernel_size: 4 stride: 2 pad: 1 bias_term: false } }''')
    assert result.blobs["up"] == (1, 21, 32, 32)
    assert result.params[1] == [(21, 1, 4, 4)]


def test_pooling_global_and_mask_top():
    result = shapes(inp(8, 512, 7, 7) + '''
layer { name: "g" type: "Pooling" bottom: "data" top: "g" pooling_param { pool: AVE global_pooling: true } }
layer { name: "m" type: "Pooling" bottom: "data" top: "m" top: "mask" pooling_param { kernel_size: 2 stride: 2 } }''')
    assert result.blobs["g"] == (8, 512, 1, 1)
    assert result.blobs["m"] == result.blobs["mask"] == (8, 512, 4, 4)


def test_inner_product_flattens_from_its_axis():
    result = shapes(inp(4, 5, 6, 7) + '''
layer { name: "fc" type: "InnerProduct" bottom: "data" top: "fc" inner_product_param { num_output: 10 } }
layer { name: "fc2" type: "InnerProduct" bottom: "data" top: "fc2"
        inner_product_param { num_output: 3 axis: 2 transpose: true bias_term: false } }''')
    assert result.blobs["fc"] == (4, 10)
    assert result.params[1] == [(10, 210), (10,)]
    assert result.blobs["fc2"] == (4, 5, 3)
    assert result.params[2] == [(42, 3)]


def test_concat_slice_flatten_reshape_crop():
    result = shapes(inp(2, 6, 4, 4) + inp(2, 3, 4, 4, top="b") + '''
layer { name: "cat" type: "Concat" bottom: "data" bottom: "b" top: "cat" }
layer { name: "sl" type: "Slice" bottom: "cat" top: "s1" top: "s2" top: "s3"
        slice_param { slice_point: 2 slice_point: 7 } }
layer { name: "fl" type: "Flatten" bottom: "s2" top: "fl" }
layer { name: "rs" type: "Reshape" bottom: "cat" top: "rs" reshape_param { shape { dim: 0 dim: -1 dim: 4 } } }
layer { name: "cr" type: "Crop" bottom: "data" bottom: "b" top: "cr" crop_param { axis: 1 offset: 1 offset: 0 offset: 0 } }''')
    assert result.blobs["cat"] == (2, 9, 4, 4)
    assert (result.blobs["s1"], result.blobs["s2"], result.blobs["s3"]) == ((2, 2, 4, 4), (2, 5, 4, 4), (2, 2, 4, 4))
    assert result.blobs["fl"] == (2, 80)
    assert result.blobs["rs"] == (2, 36, 4)
    assert result.blobs["cr"] == (2, 3, 4, 4)
    assert result.problems == []


def test_crop_out_of_bounds_is_a_shape_problem():
    result = shapes(inp(2, 6, 4, 4) + inp(2, 3, 4, 4, top="b") + '''
layer { name: "cr" type: "Crop" bottom: "data" bottom: "b" top: "cr" crop_param { axis: 1 offset: 1 } }''')
    assert [p.rule for p in result.problems] == [SHAPE]
    assert "the crop for dimension 2 is out-of-bounds with size 4 and offset 1" in result.problems[0].message


def test_scale_bias_batchnorm_prelu_parameters():
    result = shapes(inp(2, 16, 8, 8) + '''
layer { name: "bn" type: "BatchNorm" bottom: "data" top: "data" }
layer { name: "sc" type: "Scale" bottom: "data" top: "data" scale_param { bias_term: true } }
layer { name: "pr" type: "PReLU" bottom: "data" top: "data" }''')
    assert result.params[1] == [(16,), (16,), (1,)]
    assert result.params[2] == [(16,), (16,)]
    assert result.params[3] == [(16,)]
    assert result.blobs["data"] == (2, 16, 8, 8)


def test_softmax_loss_and_accuracy_tops():
    result = shapes(inp(8, 10) + inp(8, top="label") + '''
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "data" bottom: "label" top: "loss" top: "prob" }
layer { name: "acc" type: "Accuracy" bottom: "data" bottom: "label" top: "acc" top: "per_class" }''')
    assert result.blobs["loss"] == ()
    assert result.blobs["prob"] == (8, 10)
    assert result.blobs["per_class"] == (10,)
    assert result.problems == []


def test_lstm_shapes_and_parameters():
    result = shapes(inp(20, 4, 32) + inp(20, 4, top="cont") + '''
layer { name: "lstm" type: "LSTM" bottom: "data" bottom: "cont" top: "h" recurrent_param { num_output: 16 } }''')
    assert result.blobs["h"] == (20, 4, 16)
    assert result.params[2] == [(64, 32), (64,), (64, 16)]


def test_dummy_data_legacy_dims_and_data_layers():
    result = shapes('''
layer { name: "d" type: "DummyData" top: "a" top: "b" dummy_data_param { num: 5 channels: 3 height: 2 width: 2 } }
layer { name: "img" type: "ImageData" top: "img" top: "lbl"
        image_data_param { source: "list.txt" batch_size: 16 new_height: 256 new_width: 256 is_color: false }
        transform_param { crop_size: 224 } }
layer { name: "mem" type: "MemoryData" top: "m" top: "ml"
        memory_data_param { batch_size: 4 channels: 3 height: 9 width: 9 } }''')
    assert result.blobs["a"] == result.blobs["b"] == (5, 3, 2, 2)
    assert result.blobs["img"] == (16, 1, 224, 224)
    assert result.blobs["lbl"] == (16,)
    assert result.blobs["m"] == (4, 3, 9, 9)


def test_legacy_net_inputs_with_input_dim():
    result = shapes('''input: "data"
input_dim: 10 input_dim: 3 input_dim: 227 input_dim: 227
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
        convolution_param { num_output: 96 kernel_size: 11 stride: 4 } }''')
    assert result.blobs["conv1"] == (10, 96, 55, 55)


def test_unknown_dimensions_propagate_without_problems():
    result = shapes('''
layer { name: "d" type: "Data" top: "data" top: "label" data_param { source: "db" batch_size: 32 } }
layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 8 kernel_size: 5 } }
layer { name: "fc" type: "InnerProduct" bottom: "conv" top: "fc" inner_product_param { num_output: 10 } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "fc" bottom: "label" }''')
    assert result.blobs["conv"] == (32, 8, None, None)
    assert result.blobs["fc"] == (32, 10)
    assert result.problems == []


def test_datum_shapes_fill_in_the_data_layer():
    view = net('''
layer { name: "d" type: "Data" top: "data" top: "label" data_param { source: "db" batch_size: 32 }
        transform_param { crop_size: 24 } }
layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 8 kernel_size: 5 } }''')
    graph = view.graphs()[0]
    assert infer_shapes(graph, datum_shapes={"d": (3, 32, 32)}).blobs["conv"] == (32, 8, 20, 20)
    too_small = infer_shapes(graph, datum_shapes={"d": (3, 16, 16)})
    assert too_small.problems == []  # the records against the crop are DAT009's (datum-shape-mismatch)
    assert too_small.blobs["conv"] == (32, 8, 20, 20)


def test_crop_larger_than_the_resized_images():
    result = shapes('''
layer { name: "img" type: "ImageData" top: "img" top: "lbl" transform_param { crop_size: 227 }
        image_data_param { source: "list.txt" batch_size: 16 new_height: 128 new_width: 128 } }''')
    assert [p.rule for p in result.problems] == [PARAM]
    assert "crop_size 227 is larger than the height 128 and width 128 of the images" in result.problems[0].message


def test_input_shapes_override_the_net_inputs():
    view = net('layer { name: "in" type: "Input" top: "data" }\n'
               'layer { name: "fc" type: "InnerProduct" bottom: "data" top: "fc" inner_product_param { num_output: 2 } }')
    graph = view.graphs()[0]
    assert infer_shapes(graph).blobs["fc"] is None
    assert infer_shapes(graph, {"data": (5, 7)}).blobs["fc"] == (5, 2)


def test_fork_layers_make_their_outputs_unknown():
    result = shapes(inp(1, 3, 8, 8) + '''
layer { name: "up" type: "Upsample" bottom: "data" top: "up" }
layer { name: "sum" type: "Eltwise" bottom: "data" bottom: "up" top: "sum" }''')
    assert result.blobs["up"] is None
    assert result.blobs["sum"] == (1, 3, 8, 8)
    assert result.problems == []


def test_a_problem_stops_the_cascade():
    """One wrong layer is reported once; what depends on it becomes unknown."""
    result = shapes(inp(1, 3, 4, 4) + '''
layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 8 kernel_size: 7 } }
layer { name: "pool" type: "Pooling" bottom: "conv" top: "pool" pooling_param { kernel_size: 9 } }''')
    assert [p.layer.name for p in result.problems] == ["conv"]
    assert result.blobs["pool"] is None


def test_blob_size_limits():
    result = shapes(inp(65536, 65536))
    assert "blob size exceeds INT_MAX" in result.problems[0].message


def test_count_parameters_counts_shared_blobs_once_and_skips_batchnorm_statistics():
    view = net(inp(4, 10, top="a") + inp(4, 10, top="b") + '''
layer { name: "fa" type: "InnerProduct" bottom: "a" top: "fa" param { name: "w" } param { name: "bias" }
        inner_product_param { num_output: 5 } }
layer { name: "fb" type: "InnerProduct" bottom: "b" top: "fb" param { name: "w" } param { name: "bias" }
        inner_product_param { num_output: 5 } }
layer { name: "bn" type: "BatchNorm" bottom: "fa" top: "fa" }''')
    assert count_parameters(view) == 55
    assert parameters_complete(view)


def test_phases_are_inferred_apart():
    view = net('''
layer { name: "d" type: "DummyData" top: "data" include { phase: TRAIN } dummy_data_param { shape { dim: 8 dim: 4 } } }
layer { name: "d" type: "DummyData" top: "data" include { phase: TEST } dummy_data_param { shape { dim: 2 dim: 4 } } }
layer { name: "fc" type: "InnerProduct" bottom: "data" top: "fc" inner_product_param { num_output: 3 } }
layer { name: "loss" type: "EuclideanLoss" bottom: "fc" bottom: "fc" }''')
    train, test = view.graphs()
    assert shapes_of(view, train).blobs["fc"] == (8, 3)
    assert shapes_of(view, test).blobs["fc"] == (2, 3)
    assert shapes_of(view, train) is shapes_of(view, train)  # computed once per graph

"""Layer facts (layer_specs.yaml), the LayerSetUp checks (model/layer_setup.py) and NET020-NET023.

Nets are real text run through the real parser and binder; the rules run through
check_paths on files written to a temporary folder, as a user runs them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from caffelint.api import check_paths
from caffelint.config import Options
from caffelint.model import layer_specs
from caffelint.model.files import NET, load
from caffelint.model.layer_setup import setup_issues
from caffelint.model.layer_types import bvlc_types
from caffelint.model.net import NetView
from caffelint.schema.descriptors import default_schema
from caffelint.source import SourceFile

INPUT = 'layer { name: "in" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 dim: 8 dim: 8 } } }\n'


def layers(text: str):
    parsed = load(SourceFile("net.prototxt", text), default_schema(), NET)
    return NetView(parsed.bound, "net.prototxt").layers


def issues(text: str) -> list[str]:
    """The setup messages of the last layer of `text`."""
    return [message for _, message in setup_issues(layers(text)[-1])]


def lint(tmp_path: Path, text: str, code: str) -> list:
    path = tmp_path / "net.prototxt"
    path.write_text(text, encoding="utf-8")
    report = check_paths([str(path)], Options.from_kwargs(select=(code,), isolated=True, kind="net"))
    return [f for f in report.findings if f.code == code]


# -- the facts file --------------------------------------------------------------------------------

def test_every_bvlc_layer_type_has_its_facts_with_a_source():
    missing = sorted(t for t in bvlc_types() if layer_specs.spec_for(t) is None)
    assert missing == []
    for name in bvlc_types():
        assert layer_specs.spec_for(name).source, f"{name} says nothing of where its counts come from"


@pytest.mark.parametrize(("text", "blobs"), [
    ('layer { name: "c" type: "Convolution" convolution_param { num_output: 2 } }', 2),
    ('layer { name: "c" type: "Convolution" convolution_param { bias_term: false } }', 1),
    ('layer { name: "d" type: "Deconvolution" }', 2),
    ('layer { name: "f" type: "InnerProduct" inner_product_param { bias_term: false } }', 1),
    ('layer { name: "e" type: "Embed" }', 2),
    ('layer { name: "b" type: "BatchNorm" }', 3),
    ('layer { name: "s" type: "Scale" bottom: "x" }', 1),
    ('layer { name: "s" type: "Scale" bottom: "x" scale_param { bias_term: true } }', 2),
    ('layer { name: "s" type: "Scale" bottom: "x" bottom: "y" scale_param { bias_term: true } }', 1),
    ('layer { name: "b" type: "Bias" bottom: "x" bottom: "y" }', 0),
    ('layer { name: "p" type: "PReLU" }', 1),
    ('layer { name: "l" type: "LSTM" bottom: "x" bottom: "c" }', 3),
    ('layer { name: "l" type: "LSTM" bottom: "x" bottom: "c" bottom: "s" }', 4),
    ('layer { name: "r" type: "RNN" bottom: "x" bottom: "c" }', 5),
    ('layer { name: "r" type: "ReLU" }', 0),
    ('layers { name: "c" type: CONVOLUTION }', 2),
])
def test_parameter_blob_counts(text, blobs):
    layer = layers(text)[0]
    assert layer_specs.spec_for(layer.type).param_blobs(layer) == blobs


def test_python_layers_decide_their_blobs_at_run_time():
    layer = layers('layer { name: "p" type: "Python" python_param { module: "m" layer: "L" } }')[0]
    assert layer_specs.spec_for("Python").param_blobs(layer) is None


def test_blob_count_bounds_follow_the_parameters():
    pool_max, pool_ave, lstm = layers('''
layer { name: "a" type: "Pooling" pooling_param { pool: MAX } }
layer { name: "b" type: "Pooling" pooling_param { pool: AVE } }
layer { name: "c" type: "LSTM" recurrent_param { expose_hidden: true } }''')
    pooling = layer_specs.spec_for("Pooling")
    assert pooling.tops(pool_max).accepts(2) and not pooling.tops(pool_ave).accepts(2)
    recurrent = layer_specs.spec_for("LSTM")
    assert recurrent.bottoms(lstm).describe() == "4 to 5"
    assert recurrent.tops(lstm).describe() == "exactly 3"


# -- LayerSetUp checks --------------------------------------------------------------------------

@pytest.mark.parametrize(("layer", "expected"), [
    ('layer { name: "c" type: "Convolution" convolution_param { num_output: 4 kernel_size: 3 kernel_h: 3 kernel_w: 3 } }',
     "Either kernel_size or kernel_h/w should be specified; not both."),
    ('layer { name: "c" type: "Convolution" convolution_param { num_output: 4 kernel_h: 3 } }',
     "kernel_w is 0: Filter dimensions must be nonzero."),
    ('layer { name: "c" type: "Convolution" convolution_param { num_output: 4 kernel_size: 3 stride: 0 } }',
     "stride 0: Stride dimensions must be nonzero."),
    ('layer { name: "c" type: "Convolution" convolution_param { num_output: 4 kernel_size: 3 stride_h: 2 } }',
     "stride_w is 0: the output size divides by it"),
    ('layer { name: "c" type: "Convolution" convolution_param { num_output: 6 kernel_size: 3 group: 4 } }',
     "num_output 6 is not a multiple of group 4"),
    ('layer { name: "p" type: "Pooling" pooling_param { global_pooling: true kernel_size: 3 } }',
     "With Global_pooling: true Filter size cannot specified"),
    ('layer { name: "p" type: "Pooling" pooling_param { kernel_size: 3 stride: 0 } }',
     "stride is 0: the pooled size divides by it"),
    ('layer { name: "p" type: "Pooling" pooling_param { pool: STOCHASTIC kernel_size: 3 pad: 1 } }',
     "Padding implemented only for average and max pooling."),
    ('layer { name: "e" type: "Exp" exp_param { base: -2 } }', "base is -2.0: base must be strictly positive."),
    ('layer { name: "l" type: "Log" log_param { base: 1 } }', "base 1: Inf result: 1/log(base) = 1/log(1) = inf"),
    ('layer { name: "a" type: "AbsVal" bottom: "x" top: "x" }', "AbsVal Layer does not allow in-place computation"),
    ('layer { name: "r" type: "Reshape" bottom: "x" top: "y" reshape_param { shape { dim: -1 dim: -1 } } }',
     "new shape contains multiple -1 dims"),
    ('layer { name: "c" type: "Concat" concat_param { axis: 1 concat_dim: 1 } }',
     "Either axis or concat_dim should be specified; not both."),
    ('layer { name: "s" type: "Slice" top: "a" top: "b" top: "c" slice_param { slice_point: 4 slice_point: 2 } }',
     "slice_point 2 is not greater than 4"),
    ('layer { name: "d" type: "DummyData" top: "a" top: "b" top: "c" dummy_data_param { shape { dim: 1 } shape { dim: 2 } } }',
     "Must specify 'shape' once, or once per top blob (3); specified 2."),
    ('layer { name: "d" type: "DummyData" top: "a" dummy_data_param { num: 1 channels: 1 height: 1 } }',
     "Must specify 'width' once, or once per top blob (1); specified 0."),
    ('layer { name: "i" type: "Input" top: "a" top: "b" top: "c" input_param { shape { dim: 1 } shape { dim: 2 } } }',
     "Must specify 'shape' once, once per top blob, or not at all: 3 tops vs. 2 shapes."),
    ('layer { name: "i" type: "ImageData" top: "a" top: "b" image_data_param { source: "l" new_height: 32 } }',
     "requires new_height and new_width to be set at the same time"),
    ('layer { name: "w" type: "WindowData" top: "a" top: "b" window_data_param { source: "w" batch_size: 4 } }',
     "WindowData needs transform_param { crop_size } > 0"),
    ('layer { name: "h" type: "HDF5Data" top: "a" hdf5_data_param { source: "h" batch_size: 4 } transform_param { scale: 2 } }',
     "HDF5Data does not transform data"),
    ('layer { name: "d" type: "Data" top: "a" data_param { source: "db" batch_size: 4 } transform_param { force_color: true force_gray: true } }',
     "cannot set both force_color and force_gray"),
    ('layer { name: "t" type: "Tile" }', "tile_param.tiles is not set (Number of tiles must be specified)"),
    ('layer { name: "e" type: "Embed" embed_param { num_output: 8 } }', "embed_param.input_dim is not set"),
    ('layer { name: "l" type: "LSTM" }', "recurrent_param.num_output is not set"),
    ('layer { name: "i" type: "InfogainLoss" bottom: "p" bottom: "l" }', "Infogain matrix source must be specified."),
    ('layer { name: "c" type: "Clip" clip_param { min: 0 } }', "clip_param.max is not set"),
])
def test_setup_checks(layer, expected):
    found = issues(layer)
    assert any(expected in message for message in found), found


@pytest.mark.parametrize(("filler", "expected"), [
    ('type: "xavir"', "Unknown filler name: xavir; did you mean 'xavier'?"),
    ('type: "constant" sparse: 3', "Sparsity not supported by this Filler (constant)."),
    ('type: "gaussian" std: 0', "gaussian std is 0.0; caffe_rng_gaussian requires sigma > 0"),
    ('type: "uniform" min: 1 max: -1', "uniform min 1.0 > max -1.0"),
])
def test_filler_checks(filler, expected):
    found = issues(f'layer {{ name: "f" type: "InnerProduct" inner_product_param {{ num_output: 2 weight_filler {{ {filler} }} }} }}')
    assert any(expected in message for message in found), found


def test_fillers_of_blobs_that_do_not_exist_are_not_checked():
    """Caffe builds the bias filler only with bias_term (base_conv_layer.cpp LayerSetUp)."""
    assert issues('layer { name: "c" type: "Convolution" convolution_param { num_output: 2 kernel_size: 3 '
                  'bias_term: false bias_filler { type: "nonsense" } } }') == []


def test_bilinear_filler_needs_square_convolution_weights():
    found = issues('layer { name: "up" type: "Deconvolution" convolution_param { num_output: 2 kernel_h: 4 kernel_w: 2 '
                   'weight_filler { type: "bilinear" } bias_filler { type: "bilinear" } } }')
    assert any("Filter must be square" in m for m in found)
    assert any("convolution_param.bias_filler: bilinear fills 4-D convolution weights only" in m for m in found)


def test_v1_layers_are_checked_with_their_legacy_fields():
    assert issues('layers { name: "w" type: WINDOW_DATA top: "a" top: "b" window_data_param { source: "w" crop_size: 227 batch_size: 128 } }') == []
    found = issues('layers { name: "c" type: CONVOLUTION convolution_param { kernel_size: 3 } }')
    assert any("convolution_param.num_output is not set" in m for m in found)


def test_v0_layers_and_fork_types_are_not_checked():
    assert issues('layers { layer { name: "c" type: "conv" } }') == []
    assert issues('layer { name: "u" type: "Upsample" }') == []


def test_a_valid_convolution_has_no_issue():
    assert issues('layer { name: "c" type: "Convolution" convolution_param { num_output: 64 kernel_size: 3 pad: 1 '
                  'stride: 2 dilation: 1 group: 2 weight_filler { type: "msra" } bias_filler { type: "constant" } } }') == []


# -- the rules, end to end --------------------------------------------------------------------------

def test_wrong_blob_count_points_at_the_first_surplus_bottom(tmp_path):
    findings = lint(tmp_path, INPUT + 'layer { name: "r" type: "ReLU" bottom: "data" bottom: "data" top: "r" }\n',
                    "NET020")
    assert [(f.span.start.line, f.span.start.column) for f in findings] == [(2, 55)]
    assert findings[0].message == ("ReLU 'r': 2 bottom blobs, but ReLU takes exactly 1 "
                                   "(ReLU Layer takes 1 bottom blob(s) as input.)")


def test_recurrent_expose_hidden_needs_the_hidden_states(tmp_path):
    text = (INPUT + 'layer { name: "lstm" type: "LSTM" bottom: "data" bottom: "cont" top: "h" '
            'recurrent_param { num_output: 8 expose_hidden: true } }\n')
    messages = sorted(f.message for f in lint(tmp_path, text, "NET020"))
    assert messages == sorted(["LSTM 'lstm': 2 bottom blobs, but LSTM takes 4 to 5 "
                        "(LSTM Layer takes at least 4 bottom blob(s) as input.)",
                        "LSTM 'lstm': 1 top blob, but LSTM produces exactly 3 "
                        "(LSTM Layer produces 3 top blob(s) as output.)"])


def test_missing_layer_param_reports_every_check_at_once(tmp_path):
    text = INPUT + ('layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" '
                    'convolution_param { group: 2 weight_filler { type: "gausian" } } }\n')
    messages = sorted(f.message for f in lint(tmp_path, text, "NET021"))
    assert len(messages) == 3, messages
    assert any("num_output is not set" in m for m in messages)
    assert any("kernel_size is not set" in m for m in messages)
    assert any("Unknown filler name: gausian" in m for m in messages)


def test_missing_layer_param_skips_values_the_binder_refused(tmp_path):
    text = INPUT + 'layer { name: "fc" type: "InnerProduct" bottom: "data" top: "fc" inner_product_param { num_output: "ten" } }\n'
    assert lint(tmp_path, text, "NET021") == []


def test_shape_mismatch_names_the_phase_it_occurs_in(tmp_path):
    text = '''
layer { name: "d" type: "DummyData" top: "data" include { phase: TRAIN } dummy_data_param { shape { dim: 2 dim: 4 } } }
layer { name: "d" type: "DummyData" top: "data" include { phase: TEST } dummy_data_param { shape { dim: 2 dim: 5 } } }
layer { name: "l" type: "DummyData" top: "target" dummy_data_param { shape { dim: 2 dim: 4 } } }
layer { name: "loss" type: "EuclideanLoss" bottom: "data" bottom: "target" }
'''
    [finding] = lint(tmp_path, text, "NET023")
    assert finding.message.startswith("EuclideanLoss 'loss' in TEST: 'data' is 2 x 5 and 'target' is 2 x 4")


def test_shared_params_compare_with_the_owner_in_each_phase(tmp_path):
    text = INPUT + '''
layer { name: "a" type: "Convolution" bottom: "data" top: "a" param { name: "w" decay_mult: 1 }
        convolution_param { num_output: 4 kernel_size: 3 bias_term: false } }
layer { name: "b" type: "Convolution" bottom: "data" top: "b" param { name: "w" decay_mult: 0 }
        convolution_param { num_output: 4 kernel_size: 3 bias_term: false } }
'''
    [finding] = lint(tmp_path, text, "NET022")
    assert finding.message == "Shared param 'w' has mismatched decay_mult: 0.0 here, 1.0 in layer 'a'"
    assert finding.notes[0].message == "'w' is owned by layer 'a' here"

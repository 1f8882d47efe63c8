"""The static net rules (NET0xx, INP, BN, INI) on real net and solver files, beyond the catalogue's
examples: the phases each rule looks at, what stays quiet, and what each fix writes."""

from __future__ import annotations

import pytest
from google.protobuf import text_format

from caffelint.api import check_paths
from caffelint.config import Options
from caffelint.findings import SAFE, UNSAFE
from caffelint.schema import caffe_pb2
from tests.conftest import shared_dir

INPUT = 'layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 2 dim: 3 dim: 8 dim: 8 } } }\n'
DATA = ('layer {{ name: "data" type: "Data" top: "data" top: "label" {extra}\n'
        '  transform_param {{ scale: 0.00390625 }}\n'
        '  data_param {{ source: "train_lmdb" batch_size: 4 backend: LMDB }} }}\n')
IP = ('layer {{ name: "{name}" type: "InnerProduct" bottom: "{bottom}" top: "{name}"\n'
      '  inner_product_param {{ num_output: {n} weight_filler {{ type: "xavier" }} }} }}\n')
LOSS = 'layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }\n'
TRAIN_NET = DATA.format(extra="") + IP.format(name="ip", bottom="data", n=10) + LOSS


@pytest.fixture
def lint(tmp_path, monkeypatch):
    """Write the files in a fresh folder and check the first one with the named rules."""
    monkeypatch.chdir(tmp_path)

    def run(files: dict[str, str], *rules: str, **options):
        for name, text in files.items():
            (tmp_path / name).write_text(text, encoding="utf-8")
        report = check_paths([next(iter(files))], Options.from_kwargs(select=rules, isolated=True, **options))
        return [f for f in report.findings if f.code in rules or f.name in rules]

    return run


def apply(text: str, findings) -> str:
    edits = sorted((e for f in findings if f.fix for e in f.fix.edits), key=lambda e: e.start)
    for edit in reversed(edits):
        text = text[:edit.start] + edit.text + text[edit.end:]
    return text


def parses(text: str) -> bool:
    text_format.Parse(text, caffe_pb2.NetParameter())
    return True


# -- graph -----------------------------------------------------------------------------------------


def test_undefined_bottom_names_the_phase_and_the_layer_left_out(lint):
    net = (DATA.format(extra="include { phase: TRAIN }")
           + DATA.format(extra="include { phase: TEST }").replace('top: "label" ', "")
           + IP.format(name="ip", bottom="data", n=10) + LOSS)
    (found,) = lint({"net.prototxt": net}, "NET001")
    assert found.message.startswith("Unknown bottom blob 'label' (layer 'loss', bottom index 1) in TEST")
    assert "include/exclude rules leave it out of TEST" in found.message
    assert found.notes[0].span.start.line == 1


def test_undefined_bottom_offers_no_fix_between_two_near_names(lint):
    net = ('layer { name: "in" type: "Input" top: "conv_a" top: "conv_b" input_param { shape { dim: 1 } } }\n'
           'layer { name: "r" type: "ReLU" bottom: "conv_c" top: "r" }\n')
    (found,) = lint({"net.prototxt": net}, "NET001")
    assert "did you mean 'conv_a' or 'conv_b'?" in found.message and found.fix is None


def test_a_duplicate_top_from_a_net_input_is_reported(lint):
    net = 'input: "data"\ninput_dim: 1\ninput_dim: 3\ninput_dim: 8\ninput_dim: 8\n' + \
          'layer { name: "in" type: "Input" top: "data" input_param { shape { dim: 1 } } }\n'
    (found,) = lint({"deploy.prototxt": net}, "NET002")
    assert "the net input already produces it" in found.message


def test_duplicate_names_of_learnable_layers_in_one_phase_only(lint):
    scale = 'layer {{ name: "s" type: "Scale" bottom: "x" top: "x" {rule} }}\n'
    same_phase = INPUT + scale.format(rule="") + scale.format(rule="")
    assert [f.span.start.line for f in lint({"net.prototxt": same_phase}, "NET003")] == [3]
    split = INPUT + scale.format(rule="include { phase: TRAIN }") + scale.format(rule="include { phase: TEST }")
    assert lint({"net.prototxt": split}, "NET003") == []


# -- in place --------------------------------------------------------------------------------------


def test_in_place_after_a_sigmoid_matters_only_where_caffe_runs_backward(lint):
    body = ('layer { name: "sig" type: "Sigmoid" bottom: "x" top: "x" }\n'
            'layer { name: "sc" type: "Scale" bottom: "x" top: "x" scale_param { bias_term: true } }\n')
    train = DATA.format(extra="").replace('"data" top: "label"', '"x" top: "label"') + body + \
        'layer { name: "loss" type: "EuclideanLoss" bottom: "x" bottom: "x" top: "loss" }\n'
    (found,) = lint({"train.prototxt": train}, "NET004")
    assert "'sc' (Scale) runs in place on 'x' in TRAIN" in found.message
    assert lint({"deploy.prototxt": INPUT + body}, "NET004") == []


@pytest.mark.parametrize(("pool", "successor", "flagged"), [
    ("MAX", "Dropout", True), ("AVE", "Dropout", False), ("MAX", "ReLU", False),
])
def test_in_place_after_max_pooling(lint, pool, successor, flagged):
    net = (DATA.format(extra="")
           + f'layer {{ name: "pool" type: "Pooling" bottom: "data" top: "pool" pooling_param {{ pool: {pool} '
             f'kernel_size: 2 stride: 2 }} }}\n'
           + f'layer {{ name: "after" type: "{successor}" bottom: "pool" top: "pool" }}\n'
           + IP.format(name="ip", bottom="pool", n=10) + LOSS)
    assert bool(lint({"net.prototxt": net}, "NET004")) == flagged


def test_layers_that_cannot_run_in_place(lint):
    net = INPUT + 'layer { name: "abs" type: "AbsVal" bottom: "x" top: "x" }\n'
    (found,) = lint({"deploy.prototxt": net}, "NET004")
    assert "Caffe refuses it" in found.message
    bnll = INPUT + 'layer { name: "b" type: "BNLL" bottom: "x" top: "x" }\n'
    assert lint({"deploy.prototxt": bnll}, "NET004") == []  # only its backward pass is wrong


def test_the_in_place_fix_renames_the_readers_until_the_next_producer(lint):
    net = (INPUT
           + 'layer { name: "sig" type: "Sigmoid" bottom: "x" top: "x" }\n'
           + 'layer { name: "sc" type: "Scale" bottom: "x" top: "x" scale_param { bias_term: true } }\n'
           + 'layer { name: "relu" type: "ReLU" bottom: "x" top: "x" }\n'
           + 'layer { name: "loss" type: "EuclideanLoss" bottom: "x" bottom: "x" top: "loss" }\n'
           + 'layer { name: "again" type: "Input" top: "x" input_param { shape { dim: 1 } } }\n'
           + 'layer { name: "late" type: "ReLU" bottom: "x" top: "late" }\n')
    found = lint({"net.prototxt": net}, "NET004")
    fixed = apply(net, found)
    assert 'bottom: "x" top: "sc"' in fixed and 'bottom: "sc" top: "sc" }' in fixed
    assert 'bottom: "sc" bottom: "sc"' in fixed and 'name: "late" type: "ReLU" bottom: "x"' in fixed
    assert found[0].fix.applicability == UNSAFE


# -- losses ----------------------------------------------------------------------------------------


def test_a_deploy_file_trained_by_a_solver_has_no_loss(lint):
    deploy = INPUT + IP.format(name="ip", bottom="x", n=10)
    solver = 'net: "deploy.prototxt"\nbase_lr: 0.01\nlr_policy: "fixed"\nmax_iter: 10\n'
    found = lint({"solver.prototxt": solver, "deploy.prototxt": deploy}, "NET006")
    assert len(found) == 1 and "no loss layer" in found[0].message


def test_losses_of_equal_weight_at_different_depths_do_not_dominate(lint):
    net = (DATA.format(extra="") + IP.format(name="rpn", bottom="data", n=2)
           + 'layer { name: "rpn_loss" type: "SoftmaxWithLoss" bottom: "rpn" bottom: "label" top: "rpn_loss" }\n'
           + IP.format(name="fc", bottom="data", n=8) + IP.format(name="ip", bottom="fc", n=2) + LOSS)
    (found,) = lint({"net.prototxt": net}, "NET007")
    assert "1 × 'rpn_loss' + 1 × 'loss'" in found.message and "auxiliary" not in found.message


def test_an_in_place_softmax_gets_advice_but_no_fix(lint):
    net = (DATA.format(extra="") + IP.format(name="ip", bottom="data", n=10)
           + 'layer { name: "prob" type: "Softmax" bottom: "ip" top: "ip" }\n' + LOSS)
    (found,) = lint({"net.prototxt": net}, "NET010")
    assert found.fix is None and "give 'prob' a top of its own" in found.message


# -- layer types -----------------------------------------------------------------------------------


def test_unknown_types_with_several_close_names_get_no_fix(lint):
    net = INPUT + 'layer { name: "l" type: "Pooing" bottom: "x" top: "y" }\n'
    (found,) = lint({"net.prototxt": net}, "NET008")
    assert "'Pooling'" in found.message and found.fix.applicability == SAFE
    empty = INPUT + 'layer { name: "l" bottom: "x" top: "y" }\n'
    assert "has no type" in lint({"net.prototxt": empty}, "NET008")[0].message


def test_fork_types_are_grouped_per_type_and_accepted_under_the_forks_schema(lint):
    prior = 'layer {{ name: "p{i}" type: "PriorBox" bottom: "x" bottom: "x" top: "p{i}" }}\n'
    net = INPUT + prior.format(i=1) + prior.format(i=2)
    (found,) = lint({"net.prototxt": net}, "NET009")
    assert "(2 layers, first 'p1')" in found.message and "SSD" in found.message
    ssd = str(shared_dir() / "reference" / "ssd_caffe.proto")
    assert lint({"net.prototxt": net}, "NET009", proto=ssd) == []
    axpy = INPUT + 'layer { name: "a" type: "Axpy" bottom: "x" bottom: "x" bottom: "x" top: "a" }\n'
    assert lint({"net.prototxt": axpy}, "NET009", proto=ssd)  # SSD's Caffe has no Axpy


# -- input -----------------------------------------------------------------------------------------


def test_a_v1_layer_may_still_scale_in_its_data_param(lint):
    v1 = ('layers { name: "mnist" type: DATA top: "data" top: "label"\n'
          '  data_param { source: "mnist_train_lmdb" backend: LMDB batch_size: 64 scale: 0.00390625 } }\n')
    assert lint({"net.prototxt": v1}, "INP001") == []
    assert lint({"net.prototxt": v1.replace(" scale: 0.00390625", "")}, "INP001")


def test_the_scale_fix_creates_transform_param_in_a_one_line_layer(lint):
    net = ('layer { name: "data" type: "Data" top: "data" top: "label" '
           'data_param { source: "train_lmdb" batch_size: 4 backend: LMDB } }\n'
           + IP.format(name="ip", bottom="data", n=10) + LOSS)
    fixed = apply(net, lint({"net.prototxt": net}, "INP001"))
    assert "backend: LMDB } transform_param { scale: 0.00390625 } }" in fixed and parses(fixed)


def test_a_zero_mean_is_not_a_unit_mistake(lint):
    net = TRAIN_NET.replace("scale: 0.00390625", "scale: 0.00390625 mean_value: 0")
    assert lint({"net.prototxt": net}, "INP002") == []


def test_force_gray_takes_one_mean_value(lint):
    net = TRAIN_NET.replace("scale: 0.00390625", "force_gray: true mean_value: 104 mean_value: 117 mean_value: 123")
    (found,) = lint({"net.prototxt": net}, "INP003")
    assert "gives 3, Caffe accepts 1 (the images have 1 channel)" in found.message


def test_a_real_lmdb_folder_needs_backend_lmdb_whatever_its_name(lint, tmp_path):
    from fixtures import build_data

    build_data.tiny_lmdb(tmp_path / "digits_db")
    net = TRAIN_NET.replace('"train_lmdb"', '"digits_db"').replace(" backend: LMDB", "")
    (found,) = lint({"net.prototxt": net}, "INP004")
    assert "digits_db holds data.mdb" in found.message
    assert 'backend: LMDB' in apply(net, [found])


def test_a_test_only_image_list_need_not_be_shuffled(lint):
    image_data = ('layer { name: "d" type: "ImageData" top: "data" top: "label" include { phase: TEST }\n'
                  '  transform_param { scale: 0.00390625 } image_data_param { source: "test.txt" } }\n')
    net = DATA.format(extra="include { phase: TRAIN }") + image_data + IP.format(name="ip", bottom="data", n=10) + LOSS
    assert lint({"net.prototxt": net}, "INP005") == []


# -- BatchNorm -------------------------------------------------------------------------------------


def test_scale_without_bias_followed_by_bias_is_complete(lint):
    net = (INPUT + 'layer { name: "bn" type: "BatchNorm" bottom: "x" top: "x" }\n'
           'layer { name: "bn_scale" type: "Scale" bottom: "x" top: "x" }\n'
           'layer { name: "b" type: "Bias" bottom: "x" top: "x" }\n')
    assert lint({"net.prototxt": net}, "BN001") == []


def test_the_inserted_scale_gets_a_free_name_and_parses(lint):
    net = (INPUT + 'layer { name: "bn" type: "BatchNorm" bottom: "x" top: "x" }\n'
           'layer { name: "bn_scale" type: "ReLU" bottom: "x" top: "x" }\n')
    fixed = apply(net, lint({"net.prototxt": net}, "BN001"))
    assert 'name: "scale_bn"' in fixed and parses(fixed)


def test_global_stats_in_a_test_only_layer_are_right(lint):
    bn = ('layer { name: "bn" type: "BatchNorm" bottom: "data" top: "data" include { phase: TEST }\n'
          '  batch_norm_param { use_global_stats: true } }\n')
    net = DATA.format(extra="") + bn + IP.format(name="ip", bottom="data", n=10) + LOSS
    assert lint({"net.prototxt": net}, "BN002") == []


def test_global_stats_written_for_every_phase_are_wrong_in_one_of_them(lint):
    bn = 'layer { name: "bn" type: "BatchNorm" bottom: "data" top: "data" batch_norm_param { use_global_stats: false } }\n'
    net = DATA.format(extra="") + bn + IP.format(name="ip", bottom="data", n=10) + LOSS
    assert lint({"net.prototxt": net}, "BN002") == []  # false is right in TRAIN ...
    (found,) = lint({"net.prototxt": net}, "BN005")  # ... and wrong in TEST
    assert "statistics in TEST" in found.message


def test_batchnorm_params_that_stop_caffe_and_named_ones(lint):
    two = INPUT + 'layer { name: "bn" type: "BatchNorm" bottom: "x" top: "x" param { lr_mult: 1 } param { lr_mult: 1 } }\n'
    (found,) = lint({"net.prototxt": two}, "BN003")
    assert found.message.startswith("Cannot configure batch normalization statistics as layer parameters.")
    named = INPUT + 'layer { name: "bn" type: "BatchNorm" bottom: "x" top: "x" ' + \
        'param { name: "m" lr_mult: 0 } param { name: "v" lr_mult: 0 } param { name: "f" lr_mult: 0 } }\n'
    (found,) = lint({"net.prototxt": named}, "BN003")
    assert found.fix is None  # removing the names would stop sharing the statistics


@pytest.mark.parametrize(("convs", "flagged"), [(10, False), (11, True)])
def test_depth_threshold_for_batchnorm(lint, convs, flagged):
    layers = [DATA.format(extra="")]
    bottom = "data"
    for i in range(convs):
        layers.append(f'layer {{ name: "c{i}" type: "Convolution" bottom: "{bottom}" top: "c{i}" '
                      f'convolution_param {{ num_output: 4 kernel_size: 3 pad: 1 weight_filler {{ type: "msra" }} }} }}\n'
                      f'layer {{ name: "r{i}" type: "ReLU" bottom: "c{i}" top: "c{i}" }}\n')
        bottom = f"c{i}"
    net = "".join(layers) + IP.format(name="ip", bottom=bottom, n=10) + LOSS
    found = lint({"net.prototxt": net}, "BN004", extend_select=("BN004",))
    assert bool(found) == flagged
    if flagged:
        assert parses(apply(net, found))


# -- initialisation --------------------------------------------------------------------------------


HIDDEN = ('layer { name: "hidden" type: "InnerProduct" bottom: "data" top: "hidden"\n'
          '  inner_product_param { num_output: 16 } }\n')


def test_weights_loaded_by_the_solver_need_no_filler(lint):
    net = DATA.format(extra="") + HIDDEN + IP.format(name="ip", bottom="hidden", n=10) + LOSS
    assert lint({"net.prototxt": net}, "INI001")
    solver = 'net: "net.prototxt"\nweights: "pretrained.caffemodel"\nbase_lr: 0.01\nlr_policy: "fixed"\n'
    assert lint({"solver.prototxt": solver, "net.prototxt": net}, "INI001") == []


def test_a_layer_sharing_weights_by_name_needs_no_filler(lint):
    owner = HIDDEN.replace("num_output: 16", 'num_output: 16 weight_filler { type: "xavier" }').replace(
        'top: "hidden"\n', 'top: "hidden" param { name: "w" }\n')
    twin = HIDDEN.replace('"hidden"', '"twin"').replace('top: "twin"\n', 'top: "twin" param { name: "w" }\n')
    net = DATA.format(extra="") + owner + twin + 'layer { name: "c" type: "Concat" bottom: "hidden" bottom: "twin" ' \
        'top: "c" }\n' + IP.format(name="ip", bottom="c", n=10) + LOSS
    assert lint({"net.prototxt": net}, "INI001") == []


def test_the_filler_fix_picks_msra_before_relu_and_xavier_elsewhere(lint):
    relu = 'layer { name: "relu" type: "ReLU" bottom: "hidden" top: "hidden" }\n'
    tail = IP.format(name="ip", bottom="h2", n=10) + LOSS
    h2 = HIDDEN.replace('"hidden"', '"h2"').replace('bottom: "data"', 'bottom: "hidden"')
    net = DATA.format(extra="") + HIDDEN + relu + h2 + tail
    (found,) = lint({"net.prototxt": net}, "INI001")
    fixed = apply(net, [found])
    assert fixed.count('type: "msra"') == 1 and fixed.count('type: "xavier"') == 2 and parses(fixed)


def test_gaussian_data_fillers_are_inputs_not_weights(lint):
    dummy = ('layer { name: "d" type: "DummyData" top: "data" top: "label"\n'
             '  dummy_data_param { data_filler { type: "gaussian" } shape { dim: 4 dim: 8 } shape { dim: 4 } } }\n')
    net = dummy + IP.format(name="ip", bottom="data", n=10).replace('type: "xavier"', 'type: "gaussian" std: 0.01') \
        .replace("} } }", '} bias_filler { type: "gaussian" } } }') + LOSS
    (found,) = lint({"net.prototxt": net}, "INI002")
    assert found.message.startswith("inner_product_param.bias_filler of InnerProduct 'ip'")

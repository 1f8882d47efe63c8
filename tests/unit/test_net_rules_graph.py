"""The net model's phase and wiring queries the net rules stand on: which states a net is built in
(solver train_state/test_state, stage-scoped data layers, single-phase files), how InsertSplits
breaks in-place layers, readers of each blob version, depths and loss weights."""

from __future__ import annotations

import pytest

from caffelint.api import build_project
from caffelint.config import Options
from caffelint.model.net import TEST, TRAIN, NetState

DATA = ('layer {{ name: "data" type: "Data" top: "data" top: "label" {rule}\n'
        '  data_param {{ source: "lmdb" batch_size: 4 backend: LMDB }} }}\n')
IP = ('layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip"\n'
      '  inner_product_param { num_output: 2 weight_filler { type: "xavier" } } }\n')
LOSS = 'layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }\n'


@pytest.fixture
def project(tmp_path, monkeypatch):
    """Write files into a fresh folder and build the project for the first one."""
    monkeypatch.chdir(tmp_path)

    def build(files: dict[str, str]):
        for name, text in files.items():
            (tmp_path / name).write_text(text, encoding="utf-8")
        return build_project([next(iter(files))], Options.from_kwargs(isolated=True))

    return build


def only_net(project):
    (view,) = project.nets.values()
    return view


def test_a_net_checked_alone_is_built_in_train_and_test(project):
    net = only_net(project({"net.prototxt": DATA.format(rule="") + IP + LOSS}))
    assert [s.phase for s in net.states()] == [TRAIN, TEST]


def test_a_deploy_net_is_built_in_test_only(project):
    deploy = 'layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 4 } } }\n' + IP
    assert [s.phase for s in only_net(project({"deploy.prototxt": deploy})).states()] == [TEST]


def test_a_phase_without_any_data_layer_is_not_checked(project):
    train_only = DATA.format(rule="include { phase: TRAIN }") + IP + LOSS
    assert [s.phase for s in only_net(project({"train.prototxt": train_only})).states()] == [TRAIN]


def test_stage_scoped_data_layers_are_checked_with_their_stage(project):
    digits = (DATA.format(rule='include { stage: "train" }')
              + DATA.format(rule='include { stage: "val" }').replace('"data" type', '"val-data" type')
              + IP + LOSS)
    states = only_net(project({"net.prototxt": digits})).states()
    assert states == [NetState(TRAIN, 0, ("train",)), NetState(TEST, 0, ("val",))]


def test_a_solver_decides_the_states_of_its_nets(project):
    solver = ('net: "net.prototxt"\ntest_iter: 1\ntest_iter: 1\ntest_interval: 10\n'
              'train_state { stage: "big" }\ntest_state { stage: "small" }\ntest_state { level: 2 }\n')
    built = project({"solver.prototxt": solver, "net.prototxt": DATA.format(rule="") + IP + LOSS})
    net = next(v for f, v in built.nets.items() if f.path.endswith("net.prototxt"))
    assert net.states() == [NetState(TRAIN, 0, ("big",)), NetState(TEST, 0, ("small",)), NetState(TEST, 2, ())]


def test_a_test_net_named_by_a_solver_is_built_in_test_only(project):
    solver = 'train_net: "train.prototxt"\ntest_net: "test.prototxt"\ntest_iter: 1\ntest_interval: 10\n'
    net = DATA.format(rule="") + IP + LOSS
    built = project({"solver.prototxt": solver, "train.prototxt": net, "test.prototxt": net})
    phases = {f.path.split("/")[-1]: [s.phase for s in v.states()] for f, v in built.nets.items()}
    assert phases == {"train.prototxt": [TRAIN], "test.prototxt": [TEST]}


def test_readers_follow_each_version_of_an_in_place_blob(project):
    net = only_net(project({"net.prototxt": (
        'layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 1 dim: 4 } } }\n'
        'layer { name: "a" type: "ReLU" bottom: "x" top: "x" }\n'
        'layer { name: "b" type: "TanH" bottom: "x" top: "y" }\n'
        'layer { name: "c" type: "Sigmoid" bottom: "x" top: "z" }\n')}))
    graph = net.graph(net.states()[0])
    source, relu = graph.layers[0], graph.layers[1]
    assert [r.name for r in graph.readers(source, "x")] == ["a"]
    assert [r.name for r in graph.readers(relu, "x")] == ["b", "c"]
    assert graph.in_place_successor(source, "x") is relu
    assert list(graph.split_in_place()) == []


def test_an_in_place_reader_of_a_shared_blob_is_split_away(project):
    net = only_net(project({"net.prototxt": (
        'layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 1 dim: 4 } } }\n'
        'layer { name: "b" type: "TanH" bottom: "x" top: "y" }\n'
        'layer { name: "a" type: "ReLU" bottom: "x" top: "x" }\n')}))
    graph = net.graph(net.states()[0])
    ((layer, index, writer, others),) = graph.split_in_place()
    assert (layer.name, index, writer.name, [o.name for o in others]) == ("a", 0, "in", ["b"])


def test_a_loss_weight_on_a_blob_counts_as_a_use(project):
    net = only_net(project({"net.prototxt": (
        'layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 1 dim: 4 } } }\n'
        'layer { name: "p" type: "Power" bottom: "x" top: "p" loss_weight: 1 }\n'
        'layer { name: "a" type: "ReLU" bottom: "p" top: "p" }\n')}))
    graph = net.graph(net.states()[0])
    assert graph.uses(graph.layers[1], "p") == 2
    assert [layer.name for layer, *_ in graph.split_in_place()] == ["a"]


def test_depths_count_the_chosen_layers_on_the_longest_path(project):
    net = only_net(project({"net.prototxt": (
        'layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 1 dim: 4 } } }\n'
        'layer { name: "c1" type: "Convolution" bottom: "x" top: "c1" convolution_param { num_output: 1 } }\n'
        'layer { name: "r1" type: "ReLU" bottom: "c1" top: "c1" }\n'
        'layer { name: "c2" type: "Convolution" bottom: "c1" top: "c2" convolution_param { num_output: 1 } }\n'
        'layer { name: "cat" type: "Concat" bottom: "x" bottom: "c2" top: "cat" }\n')}))
    graph = net.graph(net.states()[0])
    depth = graph.depths(lambda layer: layer.type == "Convolution")
    assert {layer.name: d for layer, d in depth.items()} == {"in": 0, "c1": 1, "r1": 1, "c2": 2, "cat": 2}


def test_loss_weights_follow_caffes_defaults(project):
    net = only_net(project({"net.prototxt": (
        'layer { name: "in" type: "Input" top: "x" top: "l" input_param { shape { dim: 1 dim: 4 } } }\n'
        'layer { name: "l1" type: "SoftmaxWithLoss" bottom: "x" bottom: "l" }\n'
        'layer { name: "l2" type: "EuclideanLoss" bottom: "x" bottom: "x" top: "e" loss_weight: 0.5 }\n'
        'layer { name: "p" type: "Power" bottom: "x" top: "p" }\n')}))
    weights = {layer.name: layer.top_loss_weights for layer in net.layers}
    assert weights == {"in": [0.0, 0.0], "l1": [1.0], "l2": [0.5], "p": [0.0]}

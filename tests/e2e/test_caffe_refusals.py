"""Caffe's own errors are never missed.

Each case breaks a working digits net or solver in one way and runs real Caffe
on it.  For every configuration Caffe refuses while reading the files or
setting up the nets (or at the first iteration, for the learning-rate policy),
caffelint must report an error naming the same problem.  For configurations
Caffe accepts, the graph and schema rules must report no error.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import pytest

from fixtures.e2e import lenet
from tests.e2e.conftest import caffelint

pytestmark = pytest.mark.e2e

GOOD_NET = (lenet.NET
            .replace('  data_param {\n    source: "train_lmdb"',
                     '  transform_param { scale: 0.00390625 }\n  data_param {\n    source: "train_lmdb"')
            .replace('  data_param {\n    source: "test_lmdb"',
                     '  transform_param { scale: 0.00390625 }\n  data_param {\n    source: "test_lmdb"')
            .replace("  # the classifier: no weight_filler\n  inner_product_param {\n    num_output: 10\n",
                     "  inner_product_param {\n    num_output: 10\n    weight_filler { type: \"xavier\" }\n"))
GOOD_SOLVER = lenet.SOLVER.format(max_iter=2).replace("base_lr: 10 ", "base_lr: 0.01 ")
LAYER_RE = re.compile(r'layer \{\n  name: "(?P<name>[^"]+)".*?\n\}\n', re.S)


def replace_layer(net: str, name: str, new: str) -> str:
    for m in LAYER_RE.finditer(net):
        if m.group("name") == name:
            return net[:m.start()] + new + net[m.end():]
    raise KeyError(name)


def add_after(net: str, name: str, new: str) -> str:
    for m in LAYER_RE.finditer(net):
        if m.group("name") == name:
            return net[:m.end()] + new + net[m.end():]
    raise KeyError(name)


@dataclass
class Case:
    id: str
    net: str = GOOD_NET
    solver: str = GOOD_SOLVER
    expect: tuple[str, ...] = ()  # caffelint rule names, any of which names the problem
    refused: bool | None = True  # what Caffe does (None: it differs between Caffe versions)
    files: dict = field(default_factory=dict)


CONV = GOOD_NET[GOOD_NET.index('layer {\n  name: "conv1"'):GOOD_NET.index('layer {\n  name: "relu1"')]
CASES = [
    Case("unknown-bottom", GOOD_NET.replace('bottom: "pool1"', 'bottom: "pool"'), expect=("undefined-bottom",)),
    Case("duplicate-top", add_after(GOOD_NET, "pool1",
         'layer {\n  name: "copy"\n  type: "ReLU"\n  bottom: "pool1"\n  top: "conv1"\n}\n'),
         expect=("duplicate-top",)),
    Case("include-and-exclude", GOOD_NET.replace("  top: \"accuracy\"\n  include { phase: TEST }",
                                                 "  top: \"accuracy\"\n  include { phase: TEST }\n"
                                                 "  exclude { phase: TRAIN }"),
         expect=("include-and-exclude",)),
    Case("unknown-layer-type", GOOD_NET.replace('type: "Pooling"', 'type: "Poolling"'),
         expect=("unknown-layer-type",)),
    Case("mean-file-and-value", GOOD_NET.replace("transform_param { scale: 0.00390625 }",
                                                 'transform_param { scale: 0.00390625 mean_file: '
                                                 '"mean.binaryproto" mean_value: 128 }', 1),
         expect=("mean-file-and-value",)),
    Case("crop-larger-than-image", GOOD_NET.replace("transform_param { scale: 0.00390625 }",
                                                    "transform_param { scale: 0.00390625 crop_size: 12 }", 1),
         expect=("datum-shape-mismatch", "shape-mismatch")),
    Case("bad-enum", GOOD_NET.replace("pool: MAX", "pool: MAXIMUM"), expect=("invalid-value",)),
    Case("unknown-field", GOOD_NET.replace("num_output: 64", "num_ouput: 64"), expect=("unknown-field",)),
    Case("syntax-error", GOOD_NET.replace('  top: "pool1"\n  pooling_param {', '  top: "pool1"\n  pooling_param '),
         expect=("syntax-error",)),
    Case("missing-stepsize", solver=GOOD_SOLVER.replace("stepsize: 400\n", ""),
         expect=("lr-policy-missing-param",)),
    Case("unknown-lr-policy", solver=GOOD_SOLVER.replace('lr_policy: "step"', 'lr_policy: "stepped"'),
         expect=("lr-policy-missing-param",)),
    Case("solver-type-and-enum", solver=GOOD_SOLVER + "type: \"SGD\"\nsolver_type: NESTEROV\n",
         expect=("solver-type-conflict",)),
    Case("unknown-solver-type", solver=GOOD_SOLVER + "type: \"SGDD\"\n", expect=("unknown-solver-type",)),
    Case("average-loss-zero", solver=GOOD_SOLVER + "average_loss: 0\n", expect=("average-loss-out-of-range",)),
    Case("test-state-count", solver=GOOD_SOLVER + 'test_state { stage: "a" }\ntest_state { stage: "b" }\n',
         expect=("test-state-count-mismatch",)),
    Case("adagrad-with-momentum", solver=GOOD_SOLVER + 'type: "AdaGrad"\n', expect=("momentum-not-supported",)),
    Case("rmsprop-decay-above-one", solver=GOOD_SOLVER.replace("momentum: 0.9\n", "")
         + 'type: "RMSProp"\nrms_decay: 2\n', expect=("rms-decay-out-of-range",)),
    Case("two-train-nets", solver=GOOD_SOLVER + 'train_net: "net.prototxt"\n', expect=("train-net-conflict",)),
    Case("snapshot-folder-missing", solver=GOOD_SOLVER.replace('snapshot_prefix: "snapshots/lenet"',
                                                               'snapshot_prefix: "nowhere/lenet"\nsnapshot: 1'),
         expect=("snapshot-dir-missing",)),
    Case("unknown-regularization", solver=GOOD_SOLVER + 'regularization_type: "L3"\n',
         expect=("unknown-regularization-type",)),
    Case("test-interval-zero", solver=GOOD_SOLVER.replace("test_interval: 100", "test_interval: 0"),
         expect=("test-iter-missing",)),
    Case("net-file-missing", solver=GOOD_SOLVER.replace('net: "net.prototxt"', 'net: "nett.prototxt"'),
         expect=("net-file-missing",)),
    Case("data-source-missing", GOOD_NET.replace('source: "test_lmdb"', 'source: "no_such_lmdb"'),
         expect=("data-source-missing",)),
    Case("lmdb-without-backend", GOOD_NET.replace("    backend: LMDB\n", "", 1),
         expect=("lmdb-backend-unset",)),
    Case("propagate-down-count", GOOD_NET.replace('  bottom: "ip2"\n  bottom: "label"\n  top: "loss"',
                                                  '  bottom: "ip2"\n  bottom: "label"\n  top: "loss"\n'
                                                  '  propagate_down: false'),
         expect=("wrong-blob-count",)),
    Case("loss-with-one-bottom", GOOD_NET.replace('  bottom: "ip2"\n  bottom: "label"\n  top: "loss"',
                                                  '  bottom: "ip2"\n  top: "loss"'),
         expect=("wrong-blob-count",)),
    Case("conv-without-kernel", GOOD_NET.replace("    kernel_size: 3\n", "", 1), expect=("missing-layer-param",)),
    Case("too-many-params", GOOD_NET.replace('  name: "relu1"\n  type: "ReLU"\n',
                                             '  name: "relu1"\n  type: "ReLU"\n  param { lr_mult: 1 }\n'),
         expect=("too-many-param-blocks",)),
    Case("batchnorm-learnable-stats", add_after(GOOD_NET, "conv1",
         'layer {\n  name: "bn1"\n  type: "BatchNorm"\n  bottom: "conv1"\n  top: "conv1"\n'
         '  param { lr_mult: 1 }\n}\n'),
         # BVLC refuses it ("Cannot configure batch normalization statistics as layer parameters");
         # the older BatchNorm of the fork built here lets the solver update the statistics
         expect=("batchnorm-learnable-stats",), refused=None),
    Case("pool-pad-not-below-kernel", GOOD_NET.replace("    kernel_size: 2\n    stride: 2\n",
                                                       "    kernel_size: 2\n    stride: 2\n    pad: 2\n"),
         expect=("missing-layer-param", "shape-mismatch")),
    Case("unknown-filler", GOOD_NET.replace('weight_filler { type: "xavier" }', 'weight_filler { type: "xavierr" }', 1),
         expect=("missing-layer-param",)),
    Case("kernel-larger-than-input", GOOD_NET.replace("    kernel_size: 3\n", "    kernel_size: 10\n", 1),
         expect=("shape-mismatch",)),
    Case("eltwise-shape-mismatch", add_after(GOOD_NET, "pool1",
         'layer {\n  name: "sum"\n  type: "Eltwise"\n  bottom: "conv1"\n  bottom: "pool1"\n  top: "sum"\n}\n'),
         expect=("shape-mismatch",)),
    Case("concat-shape-mismatch", add_after(GOOD_NET, "pool1",
         'layer {\n  name: "cat"\n  type: "Concat"\n  bottom: "conv1"\n  bottom: "pool1"\n  top: "cat"\n}\n'),
         expect=("shape-mismatch",)),
    # configurations Caffe accepts
    Case("good", refused=False),
    Case("in-place-dropout", add_after(GOOD_NET, "relu2",
         'layer {\n  name: "drop"\n  type: "Dropout"\n  bottom: "ip1"\n  top: "ip1"\n'
         '  dropout_param { dropout_ratio: 0.5 }\n}\n'), refused=False),
    Case("batchnorm-and-scale", add_after(GOOD_NET, "conv1",
         'layer {\n  name: "bn1"\n  type: "BatchNorm"\n  bottom: "conv1"\n  top: "conv1"\n}\n'
         'layer {\n  name: "sc1"\n  type: "Scale"\n  bottom: "conv1"\n  top: "conv1"\n'
         '  scale_param { bias_term: true }\n}\n'), refused=False),
    # three param blocks on BatchNorm are the legacy form: Caffe's upgrade zeroes their lr_mult
    Case("batchnorm-legacy-params", add_after(GOOD_NET, "conv1",
         'layer {\n  name: "bn1"\n  type: "BatchNorm"\n  bottom: "conv1"\n  top: "conv1"\n'
         '  param { lr_mult: 1 }\n  param { lr_mult: 1 }\n  param { lr_mult: 1 }\n}\n'), refused=False),
    Case("v1-syntax", GOOD_NET.replace('layer {\n  name: "relu2"\n  type: "ReLU"',
                                       'layers {\n  name: "relu2"\n  type: RELU').replace("layer {", "layers {")
         .replace('type: "Data"', "type: DATA").replace('type: "Convolution"', "type: CONVOLUTION")
         .replace('type: "ReLU"', "type: RELU").replace('type: "Pooling"', "type: POOLING")
         .replace('type: "InnerProduct"', "type: INNER_PRODUCT").replace('type: "Accuracy"', "type: ACCURACY")
         .replace('type: "SoftmaxWithLoss"', "type: SOFTMAX_LOSS"), refused=False),
    Case("no-test-iter", solver=GOOD_SOLVER.replace("test_iter: 3 ", "# test_iter: 3 ")
         .replace("test_interval: 100\n", ""), refused=False),
    Case("ceil-pooling-odd-input", GOOD_NET.replace("    kernel_size: 3\n", "    kernel_size: 2\n", 1)
         .replace("    kernel_size: 2\n    stride: 2\n", "    kernel_size: 3\n    stride: 2\n"), refused=False),
]
GRAPH_AND_SCHEMA = ("PRS", "NET")


@dataclass
class Outcome:
    case: Case
    caffe_refused: bool
    caffe_says: str
    errors: list


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory, caffe, good_lmdbs) -> list[Outcome]:
    train, test = good_lmdbs
    results = []
    for case in CASES:
        work = tmp_path_factory.mktemp(case.id)
        (work / "train_lmdb").symlink_to(train)
        (work / "test_lmdb").symlink_to(test)
        (work / "snapshots").mkdir()
        (work / "net.prototxt").write_text(case.net, encoding="utf-8")
        (work / "solver.prototxt").write_text(case.solver, encoding="utf-8")
        run = caffe.train(work / "solver.prototxt", timeout=300)
        done = "Optimization Done." in run.stderr
        fatal = [line for line in run.stderr.splitlines()
                 if re.match(r"F\d{4}", line) or "Check failed" in line or "Failed to parse" in line
                 or "Error parsing text-format" in line]
        lint = caffelint("check", "--format", "json", "--require-data", "solver.prototxt", cwd=work)
        assert lint.returncode in (0, 1), lint.stderr
        errors = [f for f in json.loads(lint.stdout) if f["severity"] == "error"]
        results.append(Outcome(case, not done, (fatal or run.stderr.splitlines()[-1:] or [""])[0], errors))
    refused = [o for o in results if o.caffe_refused]
    caught = [o for o in refused if {e["name"] for e in o.errors} & set(o.case.expect)]
    accepted = [o for o in results if not o.caffe_refused]
    clean = [o for o in accepted if not [e for e in o.errors if e["code"].startswith(GRAPH_AND_SCHEMA)]]
    print(f"\nCaffe refused {len(refused)} of {len(results)} configurations; caffelint named the problem "
          f"as an error in {len(caught)}. Caffe accepted {len(accepted)}; caffelint gave no graph or "
          f"schema error on {len(clean)}.")
    return results


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_caffe_and_caffelint_agree(outcomes, case):
    outcome = next(o for o in outcomes if o.case is case)
    assert case.refused is None or outcome.caffe_refused == case.refused, (
        f"expected Caffe to {'refuse' if case.refused else 'accept'} this; it said: {outcome.caffe_says}")
    names = {e["name"] for e in outcome.errors}
    if outcome.caffe_refused:
        assert names & set(case.expect), (
            f"Caffe refused it ({outcome.caffe_says}) but caffelint's errors were {sorted(names)}")
    else:
        graph_or_schema = [e for e in outcome.errors if e["code"].startswith(GRAPH_AND_SCHEMA)]
        assert not graph_or_schema, graph_or_schema

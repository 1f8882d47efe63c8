"""deprecated-syntax (UPG001): the text-level upgrade gives the NetParameter Caffe's own upgrade gives.

`caffe_upgrade_net` below is an independent, message-level restatement of
UpgradeNetAsNeeded (BVLC/caffe:src/caffe/util/upgrade_proto.cpp, as
research/ANCHORS.md §1.2 describes it): it works on protobuf messages, as
Caffe does, and shares no code or table with caffelint.upgrade.  Every fixed
file is compared with it field by field.  tests/corpus/test_corpus_fix.py
uses it on the corpus.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from google.protobuf import text_format

from caffelint.config import Options
from caffelint.fixing import fix_paths
from caffelint.schema import caffe_pb2

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures" / "upgrade"


class CaffeWouldStop(Exception):
    """Caffe's upgrade would LOG(FATAL) or fail a CHECK here."""


# -- the reference: Caffe's upgrade on messages ------------------------------------

V0_TYPES = {
    "accuracy": "ACCURACY", "bnll": "BNLL", "concat": "CONCAT", "conv": "CONVOLUTION", "data": "DATA",
    "dropout": "DROPOUT", "euclidean_loss": "EUCLIDEAN_LOSS", "flatten": "FLATTEN", "hdf5_data": "HDF5_DATA",
    "hdf5_output": "HDF5_OUTPUT", "im2col": "IM2COL", "images": "IMAGE_DATA", "infogain_loss": "INFOGAIN_LOSS",
    "innerproduct": "INNER_PRODUCT", "lrn": "LRN", "multinomial_logistic_loss": "MULTINOMIAL_LOGISTIC_LOSS",
    "pool": "POOLING", "relu": "RELU", "sigmoid": "SIGMOID", "softmax": "SOFTMAX",
    "softmax_loss": "SOFTMAX_LOSS", "split": "SPLIT", "tanh": "TANH", "window_data": "WINDOW_DATA",
}
V1_TYPES = {
    "NONE": "", "ABSVAL": "AbsVal", "ACCURACY": "Accuracy", "ARGMAX": "ArgMax", "BNLL": "BNLL",
    "CONCAT": "Concat", "CONTRASTIVE_LOSS": "ContrastiveLoss", "CONVOLUTION": "Convolution",
    "DECONVOLUTION": "Deconvolution", "DATA": "Data", "DROPOUT": "Dropout", "DUMMY_DATA": "DummyData",
    "EUCLIDEAN_LOSS": "EuclideanLoss", "ELTWISE": "Eltwise", "EXP": "Exp", "FLATTEN": "Flatten",
    "HDF5_DATA": "HDF5Data", "HDF5_OUTPUT": "HDF5Output", "HINGE_LOSS": "HingeLoss", "IM2COL": "Im2col",
    "IMAGE_DATA": "ImageData", "INFOGAIN_LOSS": "InfogainLoss", "INNER_PRODUCT": "InnerProduct", "LRN": "LRN",
    "MEMORY_DATA": "MemoryData", "MULTINOMIAL_LOGISTIC_LOSS": "MultinomialLogisticLoss", "MVN": "MVN",
    "POOLING": "Pooling", "POWER": "Power", "RELU": "ReLU", "SIGMOID": "Sigmoid",
    "SIGMOID_CROSS_ENTROPY_LOSS": "SigmoidCrossEntropyLoss", "SILENCE": "Silence", "SOFTMAX": "Softmax",
    "SOFTMAX_LOSS": "SoftmaxWithLoss", "SPLIT": "Split", "SLICE": "Slice", "TANH": "TanH",
    "WINDOW_DATA": "WindowData", "THRESHOLD": "Threshold",
}
# UpgradeV0LayerParameter: V0 field -> {V0 type: (V1 sub-message, field)}; None: the layer itself.
V0_MOVES = {
    "num_output": {"conv": ("convolution_param", "num_output"), "innerproduct": ("inner_product_param", "num_output")},
    "biasterm": {"conv": ("convolution_param", "bias_term"), "innerproduct": ("inner_product_param", "bias_term")},
    "weight_filler": {"conv": ("convolution_param", "weight_filler"),
                      "innerproduct": ("inner_product_param", "weight_filler")},
    "bias_filler": {"conv": ("convolution_param", "bias_filler"),
                    "innerproduct": ("inner_product_param", "bias_filler")},
    "pad": {"conv": ("convolution_param", "pad"), "pool": ("pooling_param", "pad")},
    "kernelsize": {"conv": ("convolution_param", "kernel_size"), "pool": ("pooling_param", "kernel_size")},
    "group": {"conv": ("convolution_param", "group")},
    "stride": {"conv": ("convolution_param", "stride"), "pool": ("pooling_param", "stride")},
    "pool": {"pool": ("pooling_param", "pool")},
    "dropout_ratio": {"dropout": ("dropout_param", "dropout_ratio")},
    "local_size": {"lrn": ("lrn_param", "local_size")},
    "alpha": {"lrn": ("lrn_param", "alpha")},
    "beta": {"lrn": ("lrn_param", "beta")},
    "k": {"lrn": ("lrn_param", "k")},
    "source": {"data": ("data_param", "source"), "hdf5_data": ("hdf5_data_param", "source"),
               "images": ("image_data_param", "source"), "window_data": ("window_data_param", "source"),
               "infogain_loss": ("infogain_loss_param", "source")},
    "batchsize": {"data": ("data_param", "batch_size"), "hdf5_data": ("hdf5_data_param", "batch_size"),
                  "images": ("image_data_param", "batch_size"),
                  "window_data": ("window_data_param", "batch_size")},
    "rand_skip": {"data": ("data_param", "rand_skip"), "images": ("image_data_param", "rand_skip")},
    "shuffle_images": {"images": ("image_data_param", "shuffle")},
    "new_height": {"images": ("image_data_param", "new_height")},
    "new_width": {"images": ("image_data_param", "new_width")},
    "concat_dim": {"concat": ("concat_param", "concat_dim")},
    "det_fg_threshold": {"window_data": ("window_data_param", "fg_threshold")},
    "det_bg_threshold": {"window_data": ("window_data_param", "bg_threshold")},
    "det_fg_fraction": {"window_data": ("window_data_param", "fg_fraction")},
    "det_context_pad": {"window_data": ("window_data_param", "context_pad")},
    "det_crop_mode": {"window_data": ("window_data_param", "crop_mode")},
    "hdf5_output_param": {"hdf5_output": (None, "hdf5_output_param")},
}
V0_ANY_TYPE = {"scale": "scale", "meanfile": "mean_file", "cropsize": "crop_size", "mirror": "mirror"}
V1_PARAMS = ("accuracy_param", "argmax_param", "concat_param", "contrastive_loss_param", "convolution_param",
             "data_param", "dropout_param", "dummy_data_param", "eltwise_param", "exp_param", "hdf5_data_param",
             "hdf5_output_param", "hinge_loss_param", "image_data_param", "infogain_loss_param",
             "inner_product_param", "lrn_param", "memory_data_param", "mvn_param", "pooling_param", "power_param",
             "relu_param", "sigmoid_param", "softmax_param", "slice_param", "tanh_param", "threshold_param",
             "window_data_param", "transform_param", "loss_param")
SOLVER_TYPES = {0: "SGD", 1: "Nesterov", 2: "AdaGrad", 3: "RMSProp", 4: "AdaDelta", 5: "Adam"}


def caffe_upgrade_net(original: caffe_pb2.NetParameter) -> caffe_pb2.NetParameter:
    """UpgradeNetAsNeeded, step by step, on a copy of `original`."""
    net = caffe_pb2.NetParameter()
    net.CopyFrom(original)
    if any(conn.HasField("layer") for conn in net.layers):
        net = _v0_to_v1(net)
    if _needs_data_upgrade(net):
        _upgrade_data_transformation(net)
    if len(net.layers):
        net = _v1_to_v2(net)
    if len(net.input):
        _upgrade_input(net)
    for layer in net.layer:
        if layer.type == "BatchNorm" and len(layer.param) == 3:
            for spec in layer.param:
                spec.lr_mult = 0
                spec.decay_mult = 0
    return net


def caffe_upgrade_solver(original: caffe_pb2.SolverParameter) -> caffe_pb2.SolverParameter:
    solver = caffe_pb2.SolverParameter()
    solver.CopyFrom(original)
    if solver.HasField("solver_type"):
        if solver.HasField("type"):
            raise CaffeWouldStop("solver_type and type both specified")
        solver.type = SOLVER_TYPES[solver.solver_type]
        solver.ClearField("solver_type")
    return solver


def _v0_to_v1(net: caffe_pb2.NetParameter) -> caffe_pb2.NetParameter:
    padded = caffe_pb2.NetParameter()
    padded.CopyFrom(net)
    del padded.layers[:]
    last_top = {name: -1 for name in net.input}
    for i, conn in enumerate(net.layers):
        if conn.layer.type != "padding":
            padded.layers.add().CopyFrom(conn)
        for j, blob in enumerate(conn.bottom):
            if blob not in last_top:
                raise CaffeWouldStop(f"Unknown blob input {blob}")
            source_index = last_top[blob]
            if source_index == -1:
                continue
            source = net.layers[source_index]
            if source.layer.type == "padding":
                if conn.layer.type not in ("conv", "pool") or len(conn.bottom) != 1 \
                        or len(source.bottom) != 1 or len(source.top) != 1:
                    raise CaffeWouldStop("padding layer feeds an unsupported layer")
                padded.layers[-1].layer.pad = source.layer.pad
                padded.layers[-1].bottom[j] = source.bottom[0]
        for blob in conn.top:
            last_top[blob] = i
    out = caffe_pb2.NetParameter()
    if padded.HasField("name"):
        out.name = padded.name
    for conn in padded.layers:
        _v0_layer(conn, out.layers.add())
    out.input.extend(padded.input)
    out.input_dim.extend(padded.input_dim)
    if padded.HasField("force_backward"):
        out.force_backward = padded.force_backward
    return out


def _v0_layer(conn: caffe_pb2.V1LayerParameter, out: caffe_pb2.V1LayerParameter) -> None:
    out.bottom.extend(conn.bottom)
    out.top.extend(conn.top)
    if not conn.HasField("layer"):
        return
    v0 = conn.layer
    if v0.HasField("name"):
        out.name = v0.name
    if v0.HasField("type"):
        if v0.type not in V0_TYPES:
            raise CaffeWouldStop(f"Unknown layer name: {v0.type}")
        out.type = caffe_pb2.V1LayerParameter.LayerType.Value(V0_TYPES[v0.type])
    for blob in v0.blobs:
        out.blobs.add().CopyFrom(blob)
    out.blobs_lr.extend(v0.blobs_lr)
    out.weight_decay.extend(v0.weight_decay)
    for name, places in V0_MOVES.items():
        if not v0.HasField(name) or v0.type not in places:
            continue  # "Unknown parameter <name> for layer type <type>": dropped
        message_name, target = places[v0.type]
        holder = out if message_name is None else getattr(out, message_name)
        _set(holder, target, getattr(v0, name))
    for name, target in V0_ANY_TYPE.items():
        if v0.HasField(name):
            setattr(out.transform_param, target, getattr(v0, name))


def _set(holder, name: str, value) -> None:
    field = holder.DESCRIPTOR.fields_by_name[name]
    if field.is_repeated:
        getattr(holder, name).append(value)
    elif field.message_type is not None:
        getattr(holder, name).CopyFrom(value)
    else:
        setattr(holder, name, value)


DATA_TYPES = {"DATA": "data_param", "IMAGE_DATA": "image_data_param", "WINDOW_DATA": "window_data_param"}
TRANSFORM = ("scale", "mean_file", "crop_size", "mirror")


def _data_param_of(layer) -> str | None:
    return DATA_TYPES.get(caffe_pb2.V1LayerParameter.LayerType.Name(layer.type))


def _needs_data_upgrade(net) -> bool:
    return any(getattr(layer, _data_param_of(layer)).HasField(f)
               for layer in net.layers if _data_param_of(layer) for f in TRANSFORM)


def _upgrade_data_transformation(net) -> None:
    for layer in net.layers:
        name = _data_param_of(layer)
        if name is None:
            continue
        params = getattr(layer, name)
        params.SetInParent()  # mutable_*_param() and mutable_transform_param() mark both present
        layer.transform_param.SetInParent()
        for f in TRANSFORM:
            if params.HasField(f):
                setattr(layer.transform_param, f, getattr(params, f))
                params.ClearField(f)


def _v1_to_v2(net: caffe_pb2.NetParameter) -> caffe_pb2.NetParameter:
    if len(net.layer):
        raise CaffeWouldStop("Refusing to upgrade inconsistent NetParameter input")
    out = caffe_pb2.NetParameter()
    out.CopyFrom(net)
    out.ClearField("layers")
    out.ClearField("layer")
    for old in net.layers:
        new = out.layer.add()
        new.bottom.extend(old.bottom)
        new.top.extend(old.top)
        if old.HasField("name"):
            new.name = old.name
        for rule in old.include:
            new.include.add().CopyFrom(rule)
        for rule in old.exclude:
            new.exclude.add().CopyFrom(rule)
        if old.HasField("type"):
            new.type = V1_TYPES[caffe_pb2.V1LayerParameter.LayerType.Name(old.type)]
        for blob in old.blobs:
            new.blobs.add().CopyFrom(blob)
        for values, target in ((old.param, "name"), (old.blob_share_mode, "share_mode"),
                               (old.blobs_lr, "lr_mult"), (old.weight_decay, "decay_mult")):
            for i, value in enumerate(values):
                while len(new.param) <= i:
                    new.param.add()
                setattr(new.param[i], target, value)
        new.loss_weight.extend(old.loss_weight)
        for name in V1_PARAMS:
            if old.HasField(name):
                getattr(new, name).CopyFrom(getattr(old, name))
    return out


def _upgrade_input(net: caffe_pb2.NetParameter) -> None:
    if len(net.input_shape) or len(net.input_dim):
        layer = caffe_pb2.LayerParameter(name="input", type="Input")
        for i, name in enumerate(net.input):
            layer.top.append(name)
            shape = layer.input_param.shape.add()
            if len(net.input_shape):
                shape.CopyFrom(net.input_shape[i])
            else:
                shape.dim.extend(net.input_dim[4 * i:4 * i + 4])
        layers = [layer] + list(net.layer)
        del net.layer[:]
        for each in layers:
            net.layer.add().CopyFrom(each)
    for name in ("input", "input_shape", "input_dim"):
        net.ClearField(name)


# -- comparing -----------------------------------------------------------------------


def without_empty_messages(message):
    """A copy without sub-messages that hold nothing.

    Caffe's data-transformation step calls mutable_transform_param() and
    mutable_<data>_param() on every data layer, leaving empty messages that
    read exactly like absent ones; the text upgrade does not write them.
    """
    copy = type(message)()
    copy.CopyFrom(message)
    _prune(copy)
    return copy


def _prune(message) -> None:
    for field, value in list(message.ListFields()):
        if field.message_type is None:
            continue
        items = list(value) if field.is_repeated else [value]
        for item in items:
            _prune(item)
        if not field.is_repeated and not value.ListFields():
            message.ClearField(field.name)


def assert_same(ours, caffes, where: str = "") -> None:
    """Field-by-field equality, naming the first field that differs."""
    ours, caffes = without_empty_messages(ours), without_empty_messages(caffes)
    _compare(ours, caffes, where or type(ours).__name__)


def _compare(a, b, path: str) -> None:
    fields = {f.name: f for f, _ in a.ListFields()} | {f.name: f for f, _ in b.ListFields()}
    for name, field in sorted(fields.items()):
        va, vb = getattr(a, name), getattr(b, name)
        here = f"{path}.{name}"
        if field.is_repeated:
            assert len(va) == len(vb), f"{here}: {len(va)} values, Caffe's upgrade gives {len(vb)}"
            for i, (x, y) in enumerate(zip(va, vb)):
                if field.message_type is not None:
                    _compare(x, y, f"{here}[{i}]")
                else:
                    assert x == y, f"{here}[{i}]: {x!r}, Caffe's upgrade gives {y!r}"
        elif field.message_type is not None:
            assert a.HasField(name) == b.HasField(name), f"{here}: present in only one"
            _compare(va, vb, here)
        else:
            assert a.HasField(name) == b.HasField(name) and va == vb, \
                f"{here}: {va!r}, Caffe's upgrade gives {vb!r}"


def parse_net(text: str) -> caffe_pb2.NetParameter:
    return text_format.Parse(text, caffe_pb2.NetParameter())


def parse_solver(text: str) -> caffe_pb2.SolverParameter:
    return text_format.Parse(text, caffe_pb2.SolverParameter())


def assert_upgrade_matches_caffe(before: str, after: str, kind: str) -> None:
    """`after` (the text fix) is what Caffe's upgrade makes of `before`, inline nets included."""
    if kind == "solver":
        old, new = parse_solver(before), parse_solver(after)
        for name in ("net_param", "train_net_param"):
            if old.HasField(name):
                assert_same(getattr(new, name), caffe_upgrade_net(getattr(old, name)), name)
        assert len(new.test_net_param) == len(old.test_net_param)
        for i, net in enumerate(old.test_net_param):
            assert_same(new.test_net_param[i], caffe_upgrade_net(net), f"test_net_param[{i}]")
        expected = caffe_upgrade_solver(old)
        for message in (new, expected):  # the nets inside were compared above
            for name in ("net_param", "train_net_param", "test_net_param"):
                message.ClearField(name)
        assert_same(new, expected, "solver")
        return
    assert_same(parse_net(after), caffe_upgrade_net(parse_net(before)))


# -- the text upgrade, run as `caffelint fix` runs it ---------------------------------


def text_upgrade(path: Path, *, unsafe: bool = False, kind: str | None = None) -> tuple[str, list]:
    """The fixed text and the fixed findings of deprecated-syntax alone on `path` (nothing written)."""
    options = Options.from_kwargs(select=("UPG001",), isolated=True, no_data=True, unsafe_fixes=unsafe,
                                  kind=kind)
    report = fix_paths([str(path)], options)
    assert not report.failed, [f.error for f in report.failed]
    results = [f for f in report.files if Path(f.path).resolve() == path.resolve()]
    return (results[0].after, results[0].fixed) if results else (read(path), [])


FIXTURE_CASES = [
    ("v0_imagenet_padding.prototxt", "net", True),
    ("v0_kitchen_sink.prototxt", "net", True),
    ("v1_mnist_crlf_tabs.prototxt", "net", False),
    ("v1_siamese_shared.prototxt", "net", False),
    ("v1_inline_solver.prototxt", "solver", False),
    ("v2_input_shapes.prototxt", "net", False),
]


@pytest.mark.parametrize(("name", "kind", "unsafe"), FIXTURE_CASES)
def test_fixture_upgrade_matches_caffe(name, kind, unsafe, tmp_path):
    path = tmp_path / name
    shutil.copyfile(FIXTURES / name, path)
    before = read(path)
    after, fixed = text_upgrade(path, unsafe=unsafe, kind=kind)
    assert fixed and after != before
    assert_upgrade_matches_caffe(before, after, kind)
    again, fixed_again = text_upgrade(_write(tmp_path / ("again-" + name), after), unsafe=True, kind=kind)
    assert (again, fixed_again) == (after, [])


def read(path: Path) -> str:
    """The file's text exactly (no newline translation)."""
    return path.read_bytes().decode("utf-8")


def _write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path

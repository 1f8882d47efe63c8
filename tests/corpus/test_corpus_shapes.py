"""Layer setup checks and shape inference on the published nets of the corpus.

A net that BVLC's text_format accepts was trained or deployed upstream, so an
error from NET020-NET023 is either a real defect of the published file (a row
of tests/corpus/known_defects.tsv) or a wrong rule.  The classic deploy nets
must infer completely, without a problem, and give their published parameter
counts.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from google.protobuf import text_format

from caffelint.api import build_project, check_paths
from caffelint.config import Options
from caffelint.findings import Severity
from caffelint.model.shapes import count_parameters, parameters_complete, shapes_of
from caffelint.schema import caffe_pb2
from tests.conftest import shared_dir

HERE = Path(__file__).parent
CODES = ("NET020", "NET021", "NET022", "NET023")

# Published parameter counts (learnable weights and biases, BatchNorm statistics excluded).
# torchvision: the "Params" column of pytorch.org/vision/stable/models.html; papers as cited.
PUBLISHED = [
    ("BVLC__caffe/examples/mnist/lenet.prototxt", 431_080,
     "20*25+20 + 50*20*25+50 + 500*800+500 + 10*500+10, by hand"),
    ("BVLC__caffe/models/bvlc_alexnet/deploy.prototxt", 61_000_000, "AlexNet ~61M (Krizhevsky et al. 2012: 60M)"),
    ("BVLC__caffe/models/bvlc_reference_caffenet/deploy.prototxt", 61_000_000, "CaffeNet, AlexNet's variant"),
    ("BVLC__caffe/models/bvlc_googlenet/deploy.prototxt", 7_000_000, "BVLC GoogLeNet ~7M without aux heads"),
    ("soeaver__caffe-model/cls/inception/deploy_inception-v1-tf.prototxt", 6_624_904, "torchvision googlenet"),
    ("soeaver__caffe-model/cls/vgg/deploy_vgg16-tf.prototxt", 138_357_544, "torchvision vgg16"),
    ("KaimingHe__deep-residual-networks/prototxt/ResNet-50-deploy.prototxt", 25_557_032, "torchvision resnet50"),
    ("soeaver__caffe-model/cls/resnet/deploy_resnet50.prototxt", 25_557_032, "torchvision resnet50"),
    ("KaimingHe__deep-residual-networks/prototxt/ResNet-101-deploy.prototxt", 44_549_160, "torchvision resnet101"),
    ("KaimingHe__deep-residual-networks/prototxt/ResNet-152-deploy.prototxt", 60_192_808, "torchvision resnet152"),
    ("forresti__SqueezeNet/SqueezeNet_v1.0/deploy.prototxt", 1_248_424, "torchvision squeezenet1_0"),
    ("forresti__SqueezeNet/SqueezeNet_v1.1/deploy.prototxt", 1_235_496, "torchvision squeezenet1_1"),
    ("shicai__MobileNet-Caffe/mobilenet_deploy.prototxt", 4_200_000, "MobileNet 4.2M (Howard et al. 2017)"),
    ("shicai__MobileNet-Caffe/mobilenet_v2_deploy.prototxt", 3_504_872, "torchvision mobilenet_v2"),
    ("shicai__DenseNet-Caffe/DenseNet_121.prototxt", 7_978_856, "torchvision densenet121"),
    ("soeaver__caffe-model/cls/resnext/deploy_resnext50-32x4d.prototxt", 25_028_904,
     "torchvision resnext50_32x4d"),
    ("soeaver__caffe-model/cls/inception/deploy_inception-v3.prototxt", 23_851_784,
     "Keras InceptionV3 (no auxiliary head)"),
]


def _table(name: str) -> list[dict[str, str]]:
    with open(HERE / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def _published_nets() -> list[str]:
    """Corpus nets (MANIFEST kinds net-*) that BVLC's text_format parses as a NetParameter."""
    corpus = shared_dir() / "corpus"
    with open(corpus / "MANIFEST.tsv", encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t") if r["kind"].startswith("net")]
    out = []
    for row in rows:
        try:
            text_format.Parse((corpus / row["local_path"]).read_text(encoding="utf-8"), caffe_pb2.NetParameter())
        except text_format.ParseError:
            continue  # a fork's fields: Caffe itself refuses the file
        out.append(row["local_path"])
    return out


@pytest.fixture(scope="module")
def project():
    corpus = shared_dir() / "corpus"
    return build_project([str(corpus)], Options.from_kwargs(isolated=True))


def _view(project, local_path: str):
    path = str(shared_dir() / "corpus" / local_path)
    for parsed in project.files:
        if parsed.path == path:
            return project.views(parsed)[0]
    raise AssertionError(f"{local_path} is not in the corpus")


def test_the_corpus_has_published_nets():
    assert len(_published_nets()) >= 80


def test_layer_rule_errors_on_published_nets_are_known_defects():
    corpus = shared_dir() / "corpus"
    nets = _published_nets()
    report = check_paths([str(corpus / p) for p in nets], Options.from_kwargs(select=CODES, isolated=True))
    found = {(str(Path(f.path).relative_to(corpus)), f.code, f.span.start.line)
             for f in report.findings if f.severity == Severity.ERROR and f.code in CODES}
    known = {(r["path"], r["code"], int(r["line"])) for r in _table("known_defects.tsv") if r["code"] in CODES}
    assert sorted(found - known) == [], "errors on published nets: a rule is wrong, or add a row with the reason"
    assert sorted(known - found) == [], "listed findings no longer fire: remove their rows"


@pytest.mark.parametrize(("local_path", "published", "source"), PUBLISHED, ids=[p[0] for p in PUBLISHED])
def test_deploy_nets_give_their_published_parameter_count(project, local_path, published, source):
    view = _view(project, local_path)
    assert parameters_complete(view)
    count = count_parameters(view)
    assert abs(count - published) <= published / 100, f"{count:,} parameters; published {published:,} ({source})"


@pytest.mark.parametrize("local_path", [p[0] for p in PUBLISHED])
def test_deploy_nets_infer_every_blob_without_a_problem(project, local_path):
    view = _view(project, local_path)
    for graph in view.graphs():
        result = shapes_of(view, graph)
        assert result.problems == []
        unknown = [name for name, shape in result.blobs.items() if shape is None or None in shape]
        assert unknown == []


def test_lenet_shapes_match_caffe_log(project):
    """The `Top shape:` lines Caffe prints for examples/mnist/lenet.prototxt."""
    view = _view(project, "BVLC__caffe/examples/mnist/lenet.prototxt")
    blobs = shapes_of(view, view.graphs()[0]).blobs
    assert blobs["conv1"] == (64, 20, 24, 24)
    assert blobs["pool1"] == (64, 20, 12, 12)
    assert blobs["conv2"] == (64, 50, 8, 8)
    assert blobs["pool2"] == (64, 50, 4, 4)
    assert blobs["ip1"] == (64, 500)
    assert blobs["prob"] == (64, 10)


def test_googlenet_ceil_pooling(project):
    """GoogLeNet's pool1 3x3/2 on 112x112 gives 56x56 only with Caffe's ceil rounding (floor: 55)."""
    view = _view(project, "BVLC__caffe/models/bvlc_googlenet/deploy.prototxt")
    blobs = shapes_of(view, view.graphs()[0]).blobs
    assert blobs["pool1/3x3_s2"] == (10, 64, 56, 56)
    assert blobs["pool5/7x7_s1"] == (10, 1024, 1, 1)
    assert blobs["prob"] == (10, 1000)


def test_train_nets_keep_the_batch_and_crop_they_declare(project):
    view = _view(project, "BVLC__caffe/models/bvlc_alexnet/train_val.prototxt")
    train, test = view.graphs()
    assert shapes_of(view, train).blobs["data"] == (256, None, 227, 227)
    assert shapes_of(view, test).blobs["data"] == (50, None, 227, 227)
    assert shapes_of(view, train).blobs["label"] == (256,)
    assert shapes_of(view, train).blobs["fc8"] == (256, 1000)


def test_no_layer_rule_crashes_on_any_corpus_file():
    corpus = shared_dir() / "corpus"
    report = check_paths([str(corpus)], Options.from_kwargs(select=CODES, isolated=True))
    assert len(report.files) >= 183
    assert [f.message for f in report.findings if f.code == "PRS009"] == []

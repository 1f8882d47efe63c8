"""`check --add-noqa`: every finding gets a suppression on its line, and the files mean what they
meant before, comments and line endings kept."""

from __future__ import annotations

import pytest
from google.protobuf import text_format

from caffelint.api import check_paths
from caffelint.config import Options
from caffelint.noqa import add_noqa
from caffelint.schema.caffe_pb2 import SolverParameter

# SLV004 on the lr_policy line (which ends in a comment), PRS002 on the misspelt field (whose
# directive names a rule that does not fire there: PRS008, left to `caffelint fix`), SLV010 on
# the last line, which has no line ending.
SOLVER = (
    'net: "net.prototxt"\n'
    'base_lr: 0.01\n'
    'lr_policy: "step"   # decays, but no stepsize\n'
    'momemtum: 0.9  # caffelint: disable=SLV006\n'
    'max_iter: 3000\n'
    'debug_info: true'
)
NET = (
    'layer { name: "data" type: "Input" top: "data" top: "label" '
    'input_param { shape { dim: 2 dim: 4 } shape { dim: 2 } } }\n'
    'layer { name: "fc" type: "InnerProduct" bottom: "data" top: "fc" inner_product_param { num_output: 2 } }\n'
    'layer { name: "loss" type: "SoftmaxWithLoss" bottom: "fc" bottom: "label" top: "loss" }\n'
)


def options() -> Options:
    return Options(no_data=True)


def findings(folder) -> list[str]:
    """The findings left, but the unused suppression that SOLVER holds on purpose."""
    return [f"{f.path}:{f.span.start.line} {f.code}" for f in check_paths([str(folder)], options()).findings
            if f.code != "PRS008"]


def parsed(text: str) -> SolverParameter:
    return text_format.Parse(text, SolverParameter(), allow_unknown_field=True)


@pytest.fixture
def model(tmp_path):
    (tmp_path / "net.prototxt").write_text(NET, encoding="utf-8")
    (tmp_path / "solver.prototxt").write_bytes(SOLVER.encode())
    return tmp_path


def test_every_finding_is_suppressed_on_its_own_line(model):
    before = findings(model)
    assert len(before) >= 4 and any(" PRS002" in f for f in before), before
    report = add_noqa([str(model)], options())
    assert report.errors == [] and report.notes == []
    assert sum(report.added.values()) == len(before)
    assert findings(model) == []
    unused = [f.span.start.line for f in check_paths([str(model)], options()).findings if f.code == "PRS008"]
    assert unused == [4]  # SOLVER's own unused code; every comment added suppresses something
    after = (model / "solver.prototxt").read_text(encoding="utf-8")
    lines = after.split("\n")
    assert lines[2] == 'lr_policy: "step"   # caffelint: disable=SLV004  # decays, but no stepsize'
    assert lines[3].startswith("momemtum: 0.9  # caffelint: disable=SLV006,") and "PRS002" in lines[3]
    assert lines[5].startswith("debug_info: true  # caffelint: disable=") and not after.endswith("\n")
    assert parsed(after) == parsed(SOLVER)


def test_a_second_run_adds_nothing(model):
    add_noqa([str(model)], options())
    text = (model / "solver.prototxt").read_bytes()
    assert add_noqa([str(model)], options()).added == {}
    assert (model / "solver.prototxt").read_bytes() == text


def test_crlf_line_endings_are_kept(model):
    (model / "solver.prototxt").write_bytes(SOLVER.replace("\n", "\r\n").encode())
    add_noqa([str(model)], options())
    data = (model / "solver.prototxt").read_bytes()
    assert data.count(b"\r\n") == SOLVER.count("\n") and b"\n" not in data.replace(b"\r\n", b"")
    assert findings(model) == []


def test_a_line_ending_in_another_directive_is_left_alone(model):
    text = SOLVER.replace("max_iter: 3000\n", "max_iter: 3000\n").replace(
        'lr_policy: "step"   # decays, but no stepsize', 'lr_policy: "step"  # caffelint: enable=SLV006')
    (model / "solver.prototxt").write_text(text, encoding="utf-8")
    report = add_noqa([str(model)], options())
    assert any(":3: SLV004 left as it is" in note for note in report.notes), report.notes
    assert (model / "solver.prototxt").read_text(encoding="utf-8").split("\n")[2] == \
        'lr_policy: "step"  # caffelint: enable=SLV006'


def test_a_file_that_does_not_parse_is_not_touched(model):
    (model / "solver.prototxt").write_text(SOLVER + "\nbase_lr {", encoding="utf-8")
    before = (model / "solver.prototxt").read_bytes()
    report = add_noqa([str(model / "solver.prototxt")], options())
    assert report.notes and all("does not parse" in note for note in report.notes)
    assert (model / "solver.prototxt").read_bytes() == before


def test_a_file_that_is_not_a_net_or_solver_is_suppressed_too(tmp_path):
    """A label map gets one info, not-caffe-config; the comment added for it must silence it."""
    labelmap = tmp_path / "labelmap.prototxt"
    labelmap.write_text('item {\n  name: "none_of_the_above"\n  label: 0\n}\n', encoding="utf-8")
    assert [f.split()[-1] for f in findings(tmp_path)] == ["PRS006"]
    assert sum(add_noqa([str(tmp_path)], options()).added.values()) == 1
    assert findings(tmp_path) == []
    assert labelmap.read_text(encoding="utf-8").startswith("item {  # caffelint: disable=PRS006\n")

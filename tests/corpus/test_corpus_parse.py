"""Over every real prototxt in the corpus: byte-exact round trip, and agreement with text_format.

Where text_format parses a file as NetParameter or SolverParameter, caffelint's
bound message must be equal; where it rejects it, caffelint must report an
error at the same line.
"""

from __future__ import annotations

import pytest
from google.protobuf import text_format

from caffelint.model.files import load
from caffelint.schema import caffe_pb2
from caffelint.schema.binder import bind
from caffelint.schema.descriptors import default_schema
from caffelint.schema.message import to_message
from caffelint.source import SourceFile, decode
from caffelint.syntax.parser import parse
from tests.conftest import corpus_files

FILES = corpus_files()
IDS = [str(p.relative_to(p.parents[len(p.parts) - p.parts.index("corpus") - 2])) for p in FILES]
MESSAGES = {"NetParameter": caffe_pb2.NetParameter, "SolverParameter": caffe_pb2.SolverParameter}


def test_corpus_is_complete():
    assert len(FILES) == 183


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_round_trip_is_byte_exact(path):
    data = path.read_bytes()
    doc = parse(decode(data))
    assert str(doc).encode("utf-8", "surrogateescape") == data


@pytest.mark.parametrize("path", FILES, ids=IDS)
@pytest.mark.parametrize("message_name", sorted(MESSAGES))
def test_agrees_with_text_format(path, message_name):
    text = decode(path.read_bytes())
    schema = default_schema()
    doc = parse(text)
    bound, problems = bind(doc, schema.message("caffe." + message_name))
    errors = list(problems) + ([doc.error] if doc.error else [])
    try:
        reference = text_format.Parse(text, MESSAGES[message_name]())
    except text_format.ParseError as exc:
        source = SourceFile(str(path), text)
        lines = {source.pos(getattr(e, "start", getattr(e, "offset", 0))).line for e in errors}
        assert exc.GetLine() in lines, f"text_format: {exc}; caffelint errors on lines {sorted(lines)}"
        return
    assert errors == [], f"text_format accepts the file but caffelint reports {errors[:3]}"
    assert to_message(bound, MESSAGES[message_name]()) == reference


def test_every_file_is_classified_by_content():
    schema = default_schema()
    kinds: dict[str, list[str]] = {}
    for path in FILES:
        parsed = load(SourceFile.read(path), schema)
        kinds.setdefault(parsed.kind, []).append(path.name)
    # the SSD label maps are recognised as neither net nor solver
    assert sorted(kinds["other"]) == ["labelmap.prototxt", "labelmap_coco.prototxt", "labelmap_voc.prototxt"]
    # content, not the file name, decides: every file called *solver* is a solver and no other is
    assert all("solver" in name for name in kinds["solver"])
    assert not [name for name in kinds["net"] if "solver" in name]
    assert len(kinds["net"]) + len(kinds["solver"]) == len(FILES) - 3

"""The Datum wire-format reader and the fast label scanner agree with protobuf on every record."""

from __future__ import annotations

from array import array

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffelint.model.datum import (
    EMPTY,
    ENCODED,
    FLOAT,
    UINT8,
    DatumError,
    DatumScanner,
    encoded_bytes,
    payload_values,
    read_datum,
)
from caffelint.schema.caffe_pb2 import Datum
from fixtures.build_data import datum, png


def test_uint8_record_as_convert_imageset_writes_it():
    import numpy as np

    record = datum(np.arange(12, dtype=np.uint8).reshape(3, 2, 2), 7)
    fields = read_datum(record)
    assert (fields.channels, fields.height, fields.width, fields.label) == (3, 2, 2, 7)
    assert (fields.payload, fields.size) == (UINT8, 12)
    assert record[fields.label_offset] == 0x28  # label after the pixels
    assert payload_values(record).tolist() == list(range(12))


def test_float_record_unpacked_and_packed():
    import numpy as np

    values = np.linspace(0, 1, 6, dtype=np.float32).reshape(1, 2, 3)
    unpacked = datum(None, 3, floats=values)
    fields = read_datum(unpacked)
    assert (fields.payload, fields.size, fields.label) == (FLOAT, 6, 3)
    assert payload_values(unpacked).tolist() == values.reshape(-1).tolist()
    # a writer that packs repeated floats (wire type 2): same values, same count
    packed = bytes([0x08, 1, 0x10, 2, 0x18, 3, 0x28, 3, 0x32, 24]) + values.tobytes()
    assert read_datum(packed).size == 6
    assert payload_values(packed).tolist() == values.reshape(-1).tolist()


def test_encoded_record_and_its_bytes():
    import numpy as np

    image = png(np.zeros((4, 5), dtype=np.uint8))
    record = datum(None, 2, encoded=image)
    fields = read_datum(record)
    assert (fields.payload, fields.label, fields.channels) == (ENCODED, 2, 0)
    assert fields.shape == (0, 0, 0, ENCODED, 0)  # sizes vary per image: not part of the shape
    assert encoded_bytes(record) == image
    assert payload_values(record) is None


@pytest.mark.parametrize("label", [0, 1, 127, 128, 300, 16383, 16384, 2**31 - 1, -1, -(2**31)])
def test_labels_of_every_varint_length(label):
    record = Datum(channels=1, height=1, width=1, data=b"\x05", label=label).SerializeToString()
    assert read_datum(record).label == label
    labels = array("q")
    DatumScanner().feed([record], labels)
    assert labels.tolist() == [label]


def test_caffes_own_records_take_the_fast_path():
    """convert_imageset's records end with encoded: false; they must not fall to the slow walker."""
    records = [Datum(channels=3, height=2, width=2, data=bytes(12), label=label, encoded=False)
               .SerializeToString() for label in (3, 200, 7, 999)]
    assert records[0].endswith(b"\x28\x03\x38\x00")
    scanner = DatumScanner()
    labels = array("q")
    scanner.feed(records, labels)
    assert labels.tolist() == [3, 200, 7, 999]
    assert scanner.layout.encoded_false
    assert scanner.walked == 1  # only the first record, which taught the layout


def test_a_label_never_written_reads_as_zero():
    record = Datum(channels=1, height=1, width=2, data=b"ab").SerializeToString()
    fields = read_datum(record)
    assert (fields.label, fields.label_offset) == (0, -1)


@pytest.mark.parametrize(("record", "why"), [
    (b"\x08", "truncated varint"),
    (b"\x22\x10abc", "claims 16 bytes"),
    (b"\x00\x01", "field number 0"),
    (b"\x0b", "groups"),
])
def test_malformed_records(record, why):
    with pytest.raises(DatumError, match=why):
        read_datum(record)


def test_fields_of_another_message_are_counted_as_foreign():
    # an AnnotatedDatum (SSD fork) starts with its Datum as field 1, length-delimited
    inner = Datum(channels=1, height=1, width=1, data=b"x", label=1).SerializeToString()
    record = bytes([0x0A, len(inner)]) + inner
    assert read_datum(record).foreign == 1


def _proto_label(record: bytes) -> int:
    message = Datum()
    message.ParseFromString(record)
    return message.label


records = st.builds(
    lambda c, h, w, label, kind, extra: _record(c, h, w, label, kind, extra),
    st.integers(1, 4), st.integers(1, 6), st.integers(1, 6),
    st.one_of(st.none(), st.integers(-5, 20000)),
    st.sampled_from(["uint8", "float", "short", "encoded"]),
    st.binary(max_size=3),
)


def _record(c, h, w, label, kind, extra) -> bytes:
    message = Datum(channels=c, height=h, width=w)
    if kind == "uint8":
        message.data = bytes(c * h * w)
    elif kind == "short":  # a payload shorter than the shape says
        message.data = bytes(max(0, c * h * w - 1)) + extra
    elif kind == "float":
        message.float_data.extend([0.5] * (c * h * w))
    else:
        message.data = b"\x89PNG" + extra
        message.encoded = True
    if label is not None:
        message.label = label
    if kind != "encoded" and extra[:1] == b"\x01":
        message.encoded = False  # written explicitly, as Caffe's CVMatToDatum does
    return message.SerializeToString()


@settings(max_examples=200, deadline=None)
@given(st.lists(records, min_size=1, max_size=40), st.integers(1, 7))
def test_scanner_labels_equal_protobuf_labels(values, batch):
    """Whatever mix of layouts, the fast path and the walker give protobuf's labels and shapes."""
    scanner = DatumScanner()
    labels = array("q")
    for start in range(0, len(values), batch):  # batches, as the LMDB scan feeds them
        assert scanner.feed(iter(values[start:start + batch]), labels) == len(values[start:start + batch])
    assert labels.tolist() == [_proto_label(v) for v in values]
    assert scanner.records == len(values)
    assert sum(scanner.shapes.values()) == len(values)
    for value in values:
        message = Datum()
        message.ParseFromString(value)
        shape = read_datum(value).shape
        assert shape[:3] == (message.channels, message.height, message.width)
        assert shape in scanner.shapes


def test_scanner_counts_bad_records_and_keeps_going():
    good = Datum(channels=1, height=2, width=2, data=b"abcd", label=4).SerializeToString()
    scanner = DatumScanner()
    labels = array("q")
    scanner.feed([b"\x08", good, good, b"\x22\x7f", good], labels)
    assert labels.tolist() == [4, 4, 4]
    assert scanner.bad == 2 and scanner.first_bad == (0, "truncated varint")
    assert scanner.shapes == {(1, 2, 2, UINT8, 4): 3}


def test_memoryview_input_is_read_without_copies():
    record = Datum(channels=1, height=1, width=3, data=b"xyz", label=9).SerializeToString()
    labels = array("q")
    DatumScanner().feed([memoryview(record), memoryview(record)], labels)
    assert labels.tolist() == [9, 9]


def test_empty_datum():
    assert read_datum(b"").payload == EMPTY


def test_a_one_byte_label_must_end_its_varint():
    """A record of the fast path's length whose label byte has the continuation bit set: the
    varint runs on into `encoded: false`, and protobuf rejects the record; so does the scanner."""
    good = Datum(channels=1, height=2, width=2, data=b"abcd", label=5, encoded=False).SerializeToString()
    bad = good[:-3] + bytes([0x85]) + good[-2:]  # label 5 -> 0x85, the length unchanged
    with pytest.raises(Exception):  # noqa: B017 - protobuf's DecodeError, whichever backend
        Datum.FromString(bad)
    scanner = DatumScanner()
    labels = array("q")
    scanner.feed([good, bad, good], labels)
    assert labels.tolist() == [5, 5] and scanner.bad == 1


def test_float_fields_protobuf_reads_another_way_end():
    """A float tag written in two bytes (protobuf accepts it) and a float cut short at the end
    (protobuf refuses it): the walker takes both in one step each, never standing still."""
    import numpy as np

    head = bytes([0x08, 1, 0x10, 1, 0x18, 2, 0x28, 4])
    canonical = bytes([0x35]) + np.float32(0.5).tobytes()
    two_byte_tag = bytes([0xB5, 0x00]) + np.float32(0.25).tobytes()
    record = head + canonical + two_byte_tag
    assert list(Datum.FromString(record).float_data) == [0.5, 0.25]
    fields = read_datum(record)
    assert (fields.payload, fields.size, fields.label) == (FLOAT, 2, 4)
    assert payload_values(record).tolist() == [0.5, 0.25]
    cut_short = head + canonical + bytes([0x35, 0, 0])
    with pytest.raises(DatumError):
        read_datum(cut_short)
    scanner = DatumScanner()
    labels = array("q")
    scanner.feed([record, cut_short, record], labels)
    assert labels.tolist() == [4, 4] and scanner.bad == 1


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=48))
def test_any_bytes_are_read_or_refused(junk):
    """Every field the walker reads moves it forward: any bytes end in fields or a DatumError."""
    from google.protobuf.message import DecodeError

    try:
        fields = read_datum(junk)
    except DatumError:
        return
    try:
        message = Datum.FromString(junk)
    except DecodeError:
        return  # protobuf is stricter somewhere (a wrong wire type on a known field ...)
    if not fields.foreign:
        assert fields.label == message.label

"""Caffe Datum records read straight from the wire format: labels and shapes, no payload copies.

Datum (BVLC/caffe:src/caffe/proto/caffe.proto): channels = 1, height = 2,
width = 3, data = 4 (bytes), label = 5, float_data = 6 (repeated float, not
packed), encoded = 7.  Protobuf writes fields in number order, so a record
from tools/convert_imageset.cpp is `channels height width data label`, and one
with float_data is `channels height width label float...`.

Parsing each record with Datum.ParseFromString costs a full message per record
(and, under protobuf's upb backend, a reused Datum keeps every parsed record
alive).  `DatumScanner` instead learns the byte layout of the first record and
checks each later record against it: the same header bytes (same shape, same
payload length) and the same length put the label at a known offset.  Records
that differ go through `read_datum`, a walker over the top-level fields that
skips the payload by its length.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from dataclasses import dataclass

UINT8, FLOAT, ENCODED, EMPTY = "uint8", "float", "encoded", "empty"
LABEL_TAG = 0x28  # field 5, varint
FLOAT_TAG = 0x35  # field 6, 32-bit (unpacked repeated float)
_FIELD_WIRE_TYPES = {1: 0, 2: 0, 3: 0, 4: 2, 5: 0, 6: 5, 7: 0}


class DatumError(ValueError):
    """A record that is not a well-formed Datum."""


@dataclass(frozen=True, slots=True)
class DatumFields:
    channels: int
    height: int
    width: int
    label: int
    payload: str  # UINT8, FLOAT, ENCODED or EMPTY
    size: int  # bytes of `data`, or the number of floats
    data_offset: int  # where the payload bytes (or the first float tag) start; -1 without payload
    label_offset: int  # where the label tag is; -1 when the label is not written (it is then 0)
    foreign: int  # fields Datum does not have, or with the wrong wire type (protobuf skips them)

    @property
    def shape(self) -> tuple[int, int, int, str, int]:
        """(channels, height, width, payload, size); encoded sizes vary per image and are left out."""
        size = 0 if self.payload == ENCODED else self.size
        return (self.channels, self.height, self.width, self.payload, size)


def _varint(buf, pos: int, end: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= end or shift > 63:
            raise DatumError("truncated varint")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def _int32(value: int) -> int:
    """int32 as protobuf reads it: negative numbers travel as 64-bit two's complement."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def read_datum(buf) -> DatumFields:
    """The top-level fields of one serialized Datum; raises DatumError when it is malformed."""
    end = len(buf)
    pos = 0
    ints = {1: 0, 2: 0, 3: 0, 5: 0, 7: 0}
    data_offset = label_offset = -1
    data_size = floats = foreign = 0
    while pos < end:
        tag_at = pos
        tag, pos = _varint(buf, pos, end)
        field, wire = tag >> 3, tag & 7
        if field == 0:
            raise DatumError(f"field number 0 at byte {tag_at}")
        if _FIELD_WIRE_TYPES.get(field) != wire and not (field == 6 and wire == 2):
            foreign += 1
        if wire == 0:
            value, pos = _varint(buf, pos, end)
            if field in ints and _FIELD_WIRE_TYPES[field] == 0:
                ints[field] = value
                if field == 5:
                    label_offset = tag_at
        elif wire == 2:
            length, pos = _varint(buf, pos, end)
            if pos + length > end:
                raise DatumError(f"field {field} claims {length} bytes, {end - pos} are left")
            if field == 4:
                data_offset, data_size = pos, length
            elif field == 6:  # packed float_data, from writers that pack repeated scalars
                data_offset, floats = pos, floats + length // 4
            pos += length
        elif wire == 5:
            run = _float_run(buf, tag_at, end) if field == 6 and buf[tag_at] == FLOAT_TAG else 0
            if run:
                data_offset = tag_at if not floats else data_offset
                floats += run
                pos = tag_at + 5 * run
            else:  # another field, a tag written in more bytes than it needs, or a float cut short
                floats += field == 6
                pos += 4
        elif wire == 1:
            pos += 8
        else:
            raise DatumError(f"wire type {wire} (groups) at byte {tag_at}")
        if pos > end:
            raise DatumError("record ends inside a field")
    if data_size:
        payload, size = (ENCODED if ints[7] else UINT8), data_size
    elif floats:
        payload, size = FLOAT, floats
    else:
        payload, size = EMPTY, 0
    return DatumFields(_int32(ints[1]), _int32(ints[2]), _int32(ints[3]), _int32(ints[5]),
                       payload, size, data_offset, label_offset, foreign)


def _float_run(buf, start: int, end: int) -> int:
    """How many `float_data` elements follow each other from `start` (5 bytes each)."""
    tags = bytes(buf[start:end - 4:5])  # every fifth byte: the tags if it is one run
    return len(tags) - len(tags.lstrip(bytes([FLOAT_TAG])))


ENCODED_FALSE = bytes([0x38, 0])  # field 7 = false: Caffe's CVMatToDatum sets it (src/caffe/util/io.cpp)


@dataclass
class Layout:
    """The byte layout shared by most records of one database (learned from its first record)."""

    head: bytes  # the bytes before the label (float records) or before the payload (uint8)
    shape: tuple
    tail_label: bool  # True: payload then label (uint8); False: label then floats
    payload_bytes: int
    encoded_false: bool = False  # uint8 records end with `encoded: false` after the label

    @classmethod
    def learn(cls, buf, fields: DatumFields) -> Layout | None:
        if fields.foreign:
            return None
        end = fields.data_offset + fields.size
        if fields.payload == UINT8 and fields.label_offset in (-1, end):
            trailer = bytes(buf[end + 2:]) if fields.label_offset == end else bytes(buf[end:])
            if trailer not in (b"", ENCODED_FALSE):
                return None
            return cls(bytes(buf[:fields.data_offset]), fields.shape, True, fields.size, bool(trailer))
        if fields.payload == FLOAT and fields.label_offset != -1 and fields.label_offset < fields.data_offset:
            return cls(bytes(buf[:fields.label_offset]), fields.shape, False, 5 * fields.size)
        return None

    @property
    def head_width(self) -> int:
        """Bytes of a record's beginning the checks read: the head, then for float records the
        label tag, the label and the first float's tag; rounded up to whole 8-byte words."""
        return -(-(len(self.head) + 3) // 8) * 8

    def labels_at(self, memory, offsets, sizes):
        """`labels_of` the records at `offsets` (with `sizes`) in `memory`, a uint8 numpy array,
        copying out their first and last bytes first."""
        import numpy as np

        from caffelint.model.gather import rows

        heads, clipped = rows(memory, offsets, self.head_width)
        tails, _ = rows(memory, np.maximum(offsets + sizes - 8, 0), 8)
        labels, matches = self.labels_of(heads, tails, sizes)
        matches &= ~clipped  # a record too close to the end of memory goes the general way
        return labels, matches

    def labels_of(self, heads, tails, sizes):
        """(labels, matches) of records given by their first bytes (`heads`: rows at least
        `head_width` wide, a multiple of 8), their last 8 bytes (`tails`) and their sizes, all
        at once: the checks of the scanner's loops as array operations."""
        import numpy as np

        from caffelint.model.gather import starts_with

        h = len(self.head)
        matches = starts_with(heads, self.head)
        if not self.tail_label:  # label then floats
            label = heads[:, h + 1]
            matches &= (sizes == h + 2 + self.payload_bytes) & (heads[:, h] == LABEL_TAG) & (label < 128) \
                & (heads[:, h + 2] == FLOAT_TAG)
            return np.where(matches, label, 0), matches
        # uint8 records end [.., tag, label, (38 00)] or [tag, low, high, (38 00)]
        trailer = 2 if self.encoded_false else 0
        back = tails[:, 5 - trailer:]
        base = h + self.payload_bytes
        one = (sizes == base + 2 + trailer) & (back[:, 1] == LABEL_TAG) & (back[:, 2] < 128)
        two = (sizes == base + 3 + trailer) & (back[:, 0] == LABEL_TAG) & (back[:, 1] > 127) & (back[:, 2] < 128)
        if trailer:
            ends = (back[:, 3] == 0x38) & (back[:, 4] == 0)
            one &= ends
            two &= ends
        matches &= one | two | (sizes == base)
        labels = np.where(one, back[:, 2], (back[:, 1] & 0x7F) | (back[:, 2].astype(np.int64) << 7))
        return np.where(matches & (sizes != base), labels, 0), matches


class DatumScanner:
    """Feeds records (buffers) and collects labels, shapes and malformed records."""

    def __init__(self) -> None:
        self.layout: Layout | None = None
        self.shapes: dict[tuple, int] = {}
        self.first_seen: dict[tuple, int] = {}  # shape -> ordinal of its first record
        self.bad = 0
        self.first_bad: tuple[int, str] | None = None
        self.foreign = 0
        self.records = 0
        self.walked = 0  # good records the general walker read (the others took the fast path)
        self._labels: array = array("q")
        self._start = (0, 0)  # len(labels) and bad when this feed began

    def feed(self, values: Iterable, labels: array) -> int:
        """Scan `values`, appending each good record's label to `labels`; returns records read.

        Every record either appends a label or counts as bad, so the loops keep no counter.
        """
        values = iter(values)
        self._labels, self._start = labels, (len(labels), self.bad)
        general_before = self.walked
        if self.layout is None and not self.shapes:
            for first in values:  # the first good record teaches the layout
                self._general(first, labels.append)
                if self.shapes:
                    self.layout = Layout.learn(first, read_datum(first))
                break
        if self.layout is None:
            self._loop_general(values, labels.append)
        elif self.layout.tail_label:
            self._loop_tail_label(values, labels.append)
        else:
            self._loop_head_label(values, labels.append)
        appended = len(labels) - self._start[0]
        fast = appended - (self.walked - general_before)
        if fast:
            self._tally(self.layout.shape, fast, self.records)
        read = appended + self.bad - self._start[1]
        self.records += read
        return read

    def _loop_general(self, values, put) -> None:
        general = self._general
        for value in values:
            general(value, put)

    def _loop_tail_label(self, values, put) -> None:
        # uint8 records: head (shape fields, data tag and length), payload, label tag + varint, and
        # from Caffe's own tools `encoded: false` (38 00) at the very end
        head = self.layout.head
        h = len(head)
        base = h + self.layout.payload_bytes
        trailer = 2 if self.layout.encoded_false else 0
        at, one, two, tag = base + 1, base + 2 + trailer, base + 3 + trailer, LABEL_TAG
        general = self._general
        for v in values:
            n = len(v)
            if n == one and v[base] == tag and (label := v[at]) < 128 \
                    and (not trailer or v[n - 2] == 0x38 and v[n - 1] == 0) and v[:h] == head:
                put(label)
            elif n == two and v[base] == tag and v[at] > 127 and v[at + 1] < 128 \
                    and (not trailer or v[n - 2] == 0x38 and v[n - 1] == 0) and v[:h] == head:
                put((v[at] & 0x7F) | (v[at + 1] << 7))
            elif n == base and v[:h] == head:
                put(0)  # neither label nor encoded written: Caffe reads label 0
            else:
                general(v, put)

    def _loop_head_label(self, values, put) -> None:
        # float records: head (shape fields), label tag + one-byte varint, then floats of 5 bytes each;
        # the first float's tag is checked, the rest is trusted once length and head agree
        head = self.layout.head
        h = len(head)
        at, first_float, total = h + 1, h + 2, h + 2 + self.layout.payload_bytes
        tag, float_tag = LABEL_TAG, FLOAT_TAG
        general = self._general
        for v in values:
            if len(v) == total and v[h] == tag and v[at] < 128 and v[first_float] == float_tag \
                    and v[:h] == head:
                put(v[at])
            else:
                general(v, put)

    def _general(self, value, put) -> None:
        label = self._walk(value, self.records + len(self._labels) - self._start[0] + self.bad - self._start[1])
        if label is not None:
            put(label)

    def _walk(self, value, ordinal: int) -> int | None:
        """The label of a record the fast path did not take, tallied; None when it is malformed."""
        try:
            fields = read_datum(value)
        except DatumError as exc:
            self.bad += 1
            if self.first_bad is None:
                self.first_bad = (ordinal, str(exc))
            return None
        if fields.foreign:
            self.foreign += 1
        self._tally(fields.shape, 1, ordinal)
        self.walked += 1
        return fields.label

    def feed_located(self, memory, offsets, sizes, heads=None, tails=None):
        """`feed` for records given as offsets and sizes into `memory` (a uint8 numpy array): the
        records of the learned layout are checked and their labels read all at once, the others
        go through the general walker one by one.  `heads` and `tails`, when given, are each
        record's first bytes and last 8 bytes, already copied out (see `Layout.labels_of`).  Returns
        the labels and the mask of the good records, both in the order given."""
        import numpy as np

        count = len(offsets)
        labels = np.zeros(count, dtype=np.int64)
        good = np.zeros(count, dtype=bool)
        done = 0
        if count and self.layout is None and not self.shapes:  # the first good record teaches the layout
            first = array("q")
            self.feed([memoryview(memory[offsets[0]:offsets[0] + sizes[0]])], first)
            labels[0], good[0], done = (first[0] if first else 0), bool(first), 1
        ordinal = self.records - done  # of record 0
        if self.layout is not None and done < count:
            if heads is not None and heads.shape[1] >= self.layout.head_width:
                labels[done:], good[done:] = self.layout.labels_of(heads[done:], tails[done:], sizes[done:])
            else:
                labels[done:], good[done:] = self.layout.labels_at(memory, offsets[done:], sizes[done:])
            fast = int(np.count_nonzero(good[done:]))
            if fast:
                self._tally(self.layout.shape, fast, self.records)
        for i in (np.flatnonzero(~good[done:]) + done).tolist():
            offset = int(offsets[i])
            label = self._walk(memoryview(memory[offset:offset + int(sizes[i])]), ordinal + i)
            if label is not None:
                labels[i], good[i] = label, True
        self.records = ordinal + count
        return labels, good

    def _tally(self, shape: tuple, count: int, ordinal: int) -> None:
        if shape not in self.shapes and len(self.shapes) >= 64:
            shape = ("other",)  # a database of all-different sizes: 64 kinds say enough
        self.shapes[shape] = self.shapes.get(shape, 0) + count
        self.first_seen.setdefault(shape, ordinal)


def payload_values(buf):
    """The pixel values of one record as a numpy array (uint8 or float32); None when encoded or empty."""
    import numpy as np

    fields = read_datum(buf)
    if fields.payload == UINT8:
        return np.frombuffer(buf, dtype=np.uint8, count=fields.size, offset=fields.data_offset)
    if fields.payload == FLOAT:
        start, size = fields.data_offset, fields.size
        if start >= 0 and start + 5 * size <= len(buf):  # one run of tag + float, as protobuf writes them
            rows = np.frombuffer(buf, dtype=np.uint8, count=5 * size, offset=start).reshape(size, 5)
            if (rows[:, 0] == FLOAT_TAG).all():
                return np.ascontiguousarray(rows[:, 1:]).view("<f4").reshape(-1)
        return _float_data(buf)  # packed, or written in pieces: protobuf sorts it out
    return None


def _float_data(buf):
    import numpy as np
    from google.protobuf.message import DecodeError

    from caffelint.schema.caffe_pb2 import Datum

    try:
        return np.array(Datum.FromString(bytes(buf)).float_data, dtype=np.float32)
    except DecodeError as exc:
        raise DatumError(f"float_data that protobuf cannot read: {exc}") from None


def encoded_bytes(buf) -> bytes | None:
    """The JPEG/PNG bytes of an encoded record, else None."""
    fields = read_datum(buf)
    if fields.payload != ENCODED:
        return None
    return bytes(buf[fields.data_offset:fields.data_offset + fields.size])

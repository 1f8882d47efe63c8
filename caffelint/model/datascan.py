"""What a scan of one data source found, and the scan of LMDB databases of Datums.

A `DataScan` is the evidence rules read: record count, labels (LabelStats),
record shapes, malformed records, a pixel range from a few records, and why
a source could not be read or was not inspected.  LMDB scans read every
record by default (labels in key order, as Caffe's DataLayer reads them), or
`sample` records as stretches spread over the key range.  Both are read from
the file's own B-tree pages (lmdb_pages), many records at a time; py-lmdb's
cursor reads the databases that reader does not (sorted duplicates,
sub-databases).
"""

from __future__ import annotations

import time
from array import array
from dataclasses import dataclass, field
from itertools import islice

from caffelint.model.labels import LabelStats

BATCH = 1 << 16  # records per batch: labels go to numpy this often, and progress is redrawn
PIXEL_SAMPLE = 32  # records whose pixels give the value range
DECODE_SAMPLE = 16  # encoded records decoded (with Pillow) for their size and pixel range


@dataclass(frozen=True)
class PixelRange:
    kind: str  # "uint8" (bytes in `data`), "float" (float_data), "image" (decoded)
    low: float
    high: float
    mean: float
    records: int  # how many records the range comes from


@dataclass
class DataScan:
    format: str  # "lmdb", "imagelist", "hdf5", "leveldb"
    records: int = 0  # in the whole source
    scanned: int = 0  # read by this scan
    sampled: bool = False
    labels: LabelStats | None = None
    shapes: dict[tuple, int] = field(default_factory=dict)  # (c, h, w, payload, size) -> records
    first_seen: dict[tuple, int] = field(default_factory=dict)
    bad: int = 0  # records or lines that are not readable
    first_bad: tuple[int, str] | None = None  # (ordinal or line number, why)
    foreign: int = 0  # records with fields a Datum does not have
    fractional_labels: int = 0  # HDF5 labels with a fraction, which the losses truncate
    pixels: PixelRange | None = None
    decoded_shapes: dict[tuple, int] = field(default_factory=dict)  # from decoding a few encoded records
    encoded_formats: dict[str, int] = field(default_factory=dict)  # "JPEG", "PNG" ... in that sample
    missing_files: tuple[int, int, str] | None = None  # (missing, checked, an example) for lists
    first_key: bytes = b""  # of an LMDB: convert_imageset's `%08d_<list line's path>`
    error: str | None = None  # the source cannot be read at all
    not_inspected: str | None = None  # why the source was left alone (LEVELDB, no h5py)
    seconds: float = 0.0

    @property
    def usable(self) -> bool:
        """Readable and inspected: rules may trust the statistics."""
        return self.error is None and self.not_inspected is None

    @property
    def main_shape(self) -> tuple | None:
        """The commonest record shape."""
        return max(self.shapes, key=self.shapes.get) if self.shapes else None

    def describe_count(self) -> str:
        if self.sampled:
            return f"{self.scanned:,} sampled of {self.records:,} records"
        return f"{self.records:,} records"


def scan_lmdb(path: str, sample: int | None = None, progress=None) -> DataScan:
    """Scan an LMDB database of Datums read-only; errors become DataScan.error."""
    from caffelint.model import lmdb

    started = time.monotonic()
    scan, scanner = _fresh()
    try:
        meta = lmdb.read_meta(path)
        if progress is not None:
            progress.total = meta.entries
        if sample and 2 * sample > meta.entries:
            sample = None  # a sample of more than half: reading everything costs at most twice as much
        if not _read_pages(path, meta, scan, scanner, sample, progress):
            scan, scanner = _fresh()  # the page reader gave up, maybe part way: start again
            _read_cursor(path, meta, scan, scanner, sample, progress)
    except lmdb.LmdbError as exc:
        scan.error = str(exc)
    finally:
        if progress is not None:
            progress.close()
    scan.labels.finish()
    scan.scanned = scanner.records
    scan.shapes, scan.first_seen = scanner.shapes, scanner.first_seen
    scan.bad, scan.first_bad, scan.foreign = scanner.bad, scanner.first_bad, scanner.foreign
    scan.seconds = time.monotonic() - started
    return scan


def _fresh() -> tuple[DataScan, object]:
    from caffelint.model.datum import DatumScanner

    return DataScan("lmdb", labels=LabelStats()), DatumScanner()


def _read_pages(path: str, meta, scan: DataScan, scanner, sample: int | None, progress) -> bool:
    """The sample, or every record, read straight from the file's pages (lmdb_pages).  False for
    a database that reader does not read: the caller then reads it through py-lmdb."""
    from caffelint.model.lmdb_pages import PageError, PageReader, Unsupported, damaged

    try:
        reader = PageReader(path, meta)
    except Unsupported:
        return False
    try:
        if sample:
            _sample_pages(reader, scan, scanner, sample)
        else:
            _scan_pages(reader, scan, scanner, progress)
    except Unsupported:
        return False
    except PageError as exc:  # liblmdb would abort the process on such a page: say so instead
        scan.error = damaged(path, exc)
    finally:
        reader.close(wait=False)  # everything needed is copied out
    return True


def _sample_pages(reader, scan: DataScan, scanner, sample: int) -> None:
    import numpy as np

    from caffelint.model import lmdb

    located = reader.runs(lmdb.run_lengths(sample))
    labels, good = scanner.feed_located(reader.bytes, located.offsets, located.sizes, located.heads, located.tails)
    picks = _spaced(located.run_starts, _pixel_count(scanner))
    reader.ask_for_values(located.offsets[picks], located.sizes[picks])
    _pixel_sample(scan, scanner, reader.bytes, located.offsets[picks], located.sizes[picks])
    scan.records, scan.first_key, scan.sampled = reader.meta.entries, reader.first_key(), True
    kept = labels[good]
    run_starts = np.asarray(located.run_starts, dtype=np.int64)
    starts = (np.cumsum(good) - good)[run_starts[run_starts < len(good)]]  # among the good records
    scan.labels.add(kept, segment_starts=np.unique(starts[starts < len(kept)]))


def _scan_pages(reader, scan: DataScan, scanner, progress) -> None:
    """Every record, a part at a time; the pages are mapped ahead by a helper thread
    (lmdb.prefaulted), but for a file the reader releases behind itself, and the pixels are
    looked at in records spread evenly over the database."""
    import numpy as np

    from caffelint.model import lmdb

    meta = reader.meta
    wanted = np.unique(np.linspace(0, meta.entries - 1, max(PIXEL_SAMPLE, DECODE_SAMPLE)).astype(np.int64))
    picked: list[tuple] = []  # (offsets, sizes) of the wanted records, part by part
    done = 0
    ahead = None if reader.release_behind else (reader.bytes.ctypes.data, len(reader.bytes))
    with lmdb.prefaulted(meta, ahead):
        for part in reader.every_record():
            labels, good = scanner.feed_located(reader.bytes, part.offsets, part.sizes, part.heads, part.tails)
            scan.labels.add(labels[good])
            here = wanted[(wanted >= done) & (wanted < done + len(labels))] - done
            picked.append((part.offsets[here], part.sizes[here]))
            done += len(labels)
            if progress is not None:
                progress.update(done)
    offsets, sizes = (np.concatenate([pair[i] for pair in picked] or [np.zeros(0, np.int64)]) for i in (0, 1))
    chosen = _spaced(list(range(len(offsets))), _pixel_count(scanner))
    reader.ask_for_values(offsets[chosen], sizes[chosen])
    _pixel_sample(scan, scanner, reader.bytes, offsets[chosen], sizes[chosen])
    scan.records, scan.first_key = meta.entries, reader.first_key()


def _read_cursor(path: str, meta, scan: DataScan, scanner, sample: int | None, progress) -> None:
    """The sample, or every record, through py-lmdb's cursor: for databases the page reader does
    not read."""
    from caffelint.model import lmdb

    with lmdb.open_readonly(path, meta) as env, lmdb.read_transaction(env) as txn:
        scan.records = lmdb.record_count(env)
        scan.first_key = lmdb.first_key(txn)
        starts: list[bytes] = []
        mapping = lmdb.environment_map(path, meta)
        lmdb.check_tree(path, meta, mapping)
        if sample and sample < scan.records:
            scan.sampled = True
            _scan_stretches(txn, scan, scanner, sample, starts)
        else:
            with lmdb.prefaulted(meta, mapping):
                _scan_all(txn, scan, scanner, progress)
        _pixel_sample(scan, scanner, *_joined(_values_at(txn, starts, scanner)))


def _scan_all(txn, scan: DataScan, scanner, progress) -> None:
    import numpy as np

    from caffelint.model import lmdb

    values = lmdb.all_values(txn)
    while True:
        labels = array("q")
        if not scanner.feed(islice(values, BATCH), labels):
            break
        scan.labels.add(np.frombuffer(labels, dtype=np.int64))
        if progress is not None:
            progress.update(scanner.records)


def _scan_stretches(txn, scan: DataScan, scanner, sample: int, keys: list[bytes]) -> None:
    """The sample through py-lmdb's cursor, for databases the page reader does not read."""
    import numpy as np

    from caffelint.model import lmdb

    labels = array("q")
    starts: list[int] = []
    for stretch in lmdb.stretches(txn, scan.records, sample, keys):
        starts.append(len(labels))
        scanner.feed(stretch, labels)
    scan.labels.add(np.frombuffer(labels, dtype=np.int64), segment_starts=[s for s in starts if s < len(labels)])


def _encoded(scanner) -> bool:
    from caffelint.model.datum import ENCODED

    return any(len(shape) > 3 and shape[3] == ENCODED for shape in scanner.shapes)


def _pixel_count(scanner) -> int:
    return DECODE_SAMPLE if _encoded(scanner) else PIXEL_SAMPLE


def _spaced(items: list, count: int) -> list:
    """Up to `count` of `items`, evenly spaced, the first included."""
    return items[::max(1, len(items) // count)][:count]


def _values_at(txn, spread: list[bytes], scanner) -> list:
    """The values whose pixels are looked at: at the sample's stretch starts when there are some,
    else at keys spread over the database."""
    from caffelint.model import lmdb

    count = _pixel_count(scanner)
    keys = _spaced(spread, count) if spread else lmdb.spread_keys(txn.cursor(), count)
    cursor = txn.cursor()
    return [cursor.value() for key in keys if cursor.set_key(key)]


def _joined(values: list) -> tuple:
    """(memory, offsets, sizes) of `values` laid end to end, as `_pixel_sample` takes them."""
    import numpy as np

    sizes = np.array([len(value) for value in values], dtype=np.int64)
    return np.frombuffer(b"".join(values), dtype=np.uint8), np.cumsum(sizes) - sizes, sizes


def _pixel_sample(scan: DataScan, scanner, memory, offsets, sizes) -> None:
    """Value range over a few records spread over the database (at `offsets` of `memory`, a uint8
    array); encoded ones are decoded with Pillow."""
    import numpy as np

    from caffelint.model.datum import DatumError, encoded_bytes, payload_values
    from caffelint.model.gather import rows

    encoded = _encoded(scanner)
    layout = scanner.layout
    ranges = []
    first_kind = None  # of the first record read: the range's kind
    fits = np.zeros(len(offsets), dtype=bool)  # uint8 records of the scanner's layout: one gather
    if layout is not None and layout.tail_label and not encoded and len(offsets):
        fits = layout.labels_at(memory, offsets, sizes)[1]
    for i in range(len(offsets)):
        if fits[i]:
            first_kind = first_kind or "uint8"
            continue
        value = memory[offsets[i]:offsets[i] + sizes[i]].data
        try:
            pixels = payload_values(value)
            if pixels is None:
                data = encoded_bytes(value)
                kind = image_format(data)
                scan.encoded_formats[kind] = scan.encoded_formats.get(kind, 0) + 1
                pixels, shape = _decode(data)
                if shape is not None:
                    scan.decoded_shapes[shape] = scan.decoded_shapes.get(shape, 0) + 1
        except DatumError:
            continue
        if pixels is not None and len(pixels):
            kind = "float" if pixels.dtype == np.float32 else ("image" if encoded else "uint8")
            first_kind = first_kind or kind
            ranges.append((kind, float(pixels.min()), float(pixels.max()), float(pixels.mean(dtype=np.float64))))
    if fits.any():
        block = rows(memory, offsets[fits] + len(layout.head), layout.payload_bytes)[0]
        means = block.mean(axis=1, dtype=np.float64).tolist()
        low, high = float(block.min()), float(block.max())
        ranges += [("uint8", low, high, mean) for mean in means]
    if ranges:
        scan.pixels = PixelRange(first_kind, min(r[1] for r in ranges), max(r[2] for r in ranges),
                                 sum(r[3] for r in ranges) / len(ranges), len(ranges))


def image_format(data: bytes | None) -> str:
    """JPEG, PNG, BMP, ... from the file's first bytes (what cv::imdecode would be given)."""
    for magic, name in ((b"\xff\xd8\xff", "JPEG"), (b"\x89PNG\r\n\x1a\n", "PNG"), (b"BM", "BMP"),
                        (b"GIF8", "GIF"), (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF")):
        if data and data.startswith(magic):
            return name
    return "unknown"


def _decode(data: bytes | None):
    """(pixels, (channels, height, width, "image", 0)) of a JPEG/PNG, or (None, None) without Pillow."""
    if not data:
        return None, None
    try:
        from PIL import Image
    except ImportError:
        return None, None
    import io

    import numpy as np

    try:
        with Image.open(io.BytesIO(data)) as image:
            pixels = np.asarray(image)
    except (OSError, ValueError, SyntaxError):  # Pillow's errors for damaged or unknown images
        return None, None
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    return pixels.reshape(-1), (channels, pixels.shape[0], pixels.shape[1], "image", 0)


@dataclass(frozen=True)
class MeanFile:
    shape: tuple[int, int, int] | None  # (channels, height, width)
    error: str | None = None


def read_mean_file(path: str) -> MeanFile:
    """The shape of a mean.binaryproto (a BlobProto, as tools/compute_image_mean.cpp writes it)."""
    from google.protobuf.message import DecodeError

    from caffelint.schema.caffe_pb2 import BlobProto

    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        return MeanFile(None, f"cannot read {path}: {exc.strerror}")
    blob = BlobProto()
    try:
        blob.ParseFromString(data)
    except DecodeError:
        return MeanFile(None, f"{path} is not a BlobProto (binaryproto) file")
    dims = list(blob.shape.dim) if blob.HasField("shape") else [blob.num, blob.channels, blob.height, blob.width]
    dims = [int(d) for d in dims]
    values = len(blob.data) or len(blob.double_data)
    if len(dims) < 3 or not all(dims[-3:]) or values != _product(dims):
        return MeanFile(None, f"{path} is not a mean image: shape {dims} with {values} values")
    return MeanFile((dims[-3], dims[-2], dims[-1]))


def _product(dims) -> int:
    out = 1
    for d in dims:
        out *= d
    return out

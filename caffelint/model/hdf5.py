"""HDF5Data sources: a text file naming .h5 files, each holding one dataset per top blob.

HDF5DataLayer (BVLC/caffe:src/caffe/layers/hdf5_data_layer.cpp) reads the
list with `>>` (whitespace-separated names), opens each file read-only and
loads the dataset named like each top; all of a file's datasets must have the
same number of rows.  Labels are floats that the losses cast to int.

h5py is optional (pip install caffelint[hdf5]); without it the files are
counted but not opened.  Files are opened with locking=False, so a writer
holding one is neither blocked nor disturbed.
"""

from __future__ import annotations

import os
import time

from caffelint.model.datascan import DataScan, PixelRange
from caffelint.model.labels import LabelStats
from caffelint.model.solver import resolve_path

ROWS = 1 << 16  # label rows read at a time
PIXEL_ROWS = 32  # rows of the data dataset that give the value range


def scan_hdf5_list(path: str, tops: list[str], base_file: str, root: str | None = None) -> DataScan:
    """Rows, labels (the second top's dataset) and data shapes of every file in an HDF5 list."""
    started = time.monotonic()
    scan = DataScan("hdf5", labels=LabelStats())
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as handle:
            names = handle.read().split()
    except OSError as exc:
        scan.error = f"cannot read {path}: {exc.strerror}"
        return scan
    if not names:
        scan.error = f"{path} names no HDF5 files (Caffe: \"Must have at least 1 HDF5 filename listed\")"
        return scan
    files = [(name, _resolve(name, base_file, root)) for name in names]
    missing = [name for name, resolved in files if resolved is None]
    scan.missing_files = (len(missing), len(files), missing[0] if missing else "")
    try:
        import h5py
    except ImportError:
        scan.not_inspected = "h5py is not installed, so HDF5 files are not inspected (pip install h5py)"
        return scan
    for name, resolved in files:
        if resolved is not None:
            _scan_file(h5py, name, resolved, tops, scan)
    scan.labels.finish()
    scan.scanned = scan.records
    scan.seconds = time.monotonic() - started
    return scan


def _resolve(written: str, base_file: str, root: str | None) -> str | None:
    if os.path.isabs(written):
        return written if os.path.isfile(written) else None
    return resolve_path(written, base_file, root)[0]


def _scan_file(h5py, name: str, path: str, tops: list[str], scan: DataScan) -> None:
    import numpy as np

    try:
        with h5py.File(path, "r", locking=False) as handle:
            absent = [top for top in tops if top not in handle]
            if absent:
                _bad(scan, f"{name} has no dataset {absent[0]!r} (Caffe: \"Failed to find HDF5 dataset\")")
                return
            rows = {top: handle[top].shape[0] if handle[top].shape else 0 for top in tops}
            if len(set(rows.values())) > 1:
                _bad(scan, f"{name}: datasets differ in rows ({', '.join(f'{t} {n}' for t, n in rows.items())})")
                return
            data = handle[tops[0]]
            count = rows[tops[0]]
            scan.records += count
            shape = tuple(data.shape[1:]) + (1,) * (3 - len(data.shape[1:]))
            key = (*shape[:3], "float", int(np.prod(data.shape[1:])))
            scan.shapes[key] = scan.shapes.get(key, 0) + count
            scan.first_seen.setdefault(key, scan.records - count)
            if len(tops) > 1:
                _read_labels(handle[tops[1]], count, scan, np)
            if scan.pixels is None and count:
                part = np.asarray(data[:PIXEL_ROWS], dtype=np.float64)
                scan.pixels = PixelRange("float", float(part.min()), float(part.max()), float(part.mean()),
                                         min(count, PIXEL_ROWS))
    except (OSError, ValueError) as exc:  # h5py's errors for files that are not HDF5 or are damaged
        _bad(scan, f"{name} cannot be read as HDF5: {str(exc).splitlines()[0]}")


def _read_labels(dataset, count: int, scan: DataScan, np) -> None:
    if int(np.prod(dataset.shape[1:])) != 1:
        return  # several values a row: not class indices
    for start in range(0, count, ROWS):
        values = np.asarray(dataset[start:start + ROWS]).reshape(-1)
        as_int = np.trunc(values).astype(np.int64)  # the losses cast with static_cast<int>
        if np.issubdtype(values.dtype, np.floating) and (as_int != values).any():
            scan.fractional_labels += int((as_int != values).sum())
        scan.labels.add(as_int)


def _bad(scan: DataScan, why: str) -> None:
    scan.bad += 1
    if scan.first_bad is None:
        scan.first_bad = (0, why)

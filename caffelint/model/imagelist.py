"""ImageData source lists: one image a line, `path label`.

ImageDataLayer (BVLC/caffe:src/caffe/layers/image_data_layer.cpp, since 2016)
reads each line whole, splits it at its last space and reads the label with
atoi, so paths may hold spaces, but a line without a space, with a tab before
the label or a space after it gets label 0 silently; older builds read
`path label` pairs with `>>` and stop at the first line that does not fit.
Images open as root_folder + path (plain concatenation) relative to Caffe's
working directory, in colour (3 channels) unless is_color is false.

Reading text is cheap, so a list is always read whole; image files are only
looked at in a sample spread over the list.
"""

from __future__ import annotations

import os
import time
from array import array

from caffelint.model.datascan import DataScan, PixelRange
from caffelint.model.labels import LabelStats
from caffelint.model.solver import resolve_path

BATCH = 1 << 16
EXISTENCE_SAMPLE = 256  # image files checked for existence
HEADER_SAMPLE = 32  # images whose size is read (Pillow reads only the header)
DECODE_SAMPLE = 8  # images decoded for their pixel range


def scan_image_list(path: str, root_folder: str, is_color: bool, base_file: str,
                    root: str | None = None) -> DataScan:
    """Labels, line problems and a sample of the images of one ImageData list."""
    started = time.monotonic()
    scan = DataScan("imagelist", labels=LabelStats())
    try:
        with open(path, "rb") as handle:
            total = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
            handle.seek(0)
            picks = _spread(total + 1, EXISTENCE_SAMPLE)
            names = _read_lines(handle, scan, picks)
    except OSError as exc:
        scan.error = f"cannot read {path}: {exc.strerror}"
        return scan
    scan.labels.finish()
    scan.scanned = scan.records
    if scan.records == 0:
        scan.error = f"{path} lists no images"
        return scan
    _look_at_images(scan, names, root_folder, 3 if is_color else 1, base_file, root)
    scan.seconds = time.monotonic() - started
    return scan


def _spread(total: int, count: int) -> set[int]:
    step = max(1, total / count)
    return {int(i * step) for i in range(count)}


def _read_lines(handle, scan: DataScan, picks: set[int]) -> list[tuple[int, str]]:
    """Parse every line into scan.labels; return (line number, image name) for the picked lines."""
    import numpy as np

    labels = array("q")
    names = []
    for number, raw in enumerate(handle, start=1):
        line = raw.rstrip(b"\r\n").decode("utf-8", "surrogateescape")
        scan.records += 1
        name, label = _split(line)
        if label is None:
            _bad(scan, number, _why(line))
            label = 0  # what atoi makes of it
        elif number - 1 in picks:
            names.append((number, name))
        labels.append(label)
        if len(labels) >= BATCH:
            scan.labels.add(np.frombuffer(labels, dtype=np.int64))
            labels = array("q")
    if labels:
        scan.labels.add(np.frombuffer(labels, dtype=np.int64))
    return names


def _split(line: str) -> tuple[str, int | None]:
    name, space, tail = line.rpartition(" ")
    if not space:
        return line, None
    tail = tail.strip("\r")
    if tail.lstrip("+-").isdigit():
        return name, int(tail)
    return name, None


def _why(line: str) -> str:
    if not line.strip():
        return "is blank: Caffe reads it as an image named '' and stops with \"Could not load\" there"
    if " " not in line:
        if "\t" in line:
            return "separates path and label with a tab: Caffe splits at the last space and reads label 0"
        return "has no label: Caffe reads label 0"
    if line.endswith(" "):
        return "ends with a space: Caffe reads the label after the last space, so label 0"
    return f"does not end in an integer label ({line.rpartition(' ')[2]!r}): Caffe reads label 0"


def _bad(scan: DataScan, number: int, why: str) -> None:
    scan.bad += 1
    if scan.first_bad is None:
        scan.first_bad = (number, f"line {number} {why}")


def _look_at_images(scan: DataScan, names: list[tuple[int, str]], root_folder: str, channels: int,
                    base_file: str, root: str | None) -> None:
    """Check a sample of image files exist; read sizes (and pixels of a few) with Pillow if present."""
    found, missing, example = [], 0, ""
    for _number, name in names:
        resolved = _resolve_image(root_folder + name, base_file, root)
        if resolved is None:
            missing += 1
            example = example or root_folder + name
        else:
            found.append(resolved)
    scan.missing_files = (missing, len(names), example)
    try:
        from PIL import Image
    except ImportError:
        return
    import numpy as np

    ranges = []
    for i, image_path in enumerate(found[:: max(1, len(found) // HEADER_SAMPLE)][:HEADER_SAMPLE]):
        try:
            with Image.open(image_path) as image:
                width, height = image.size
                if i < DECODE_SAMPLE:
                    pixels = np.asarray(image.convert("RGB" if channels == 3 else "L"))
                    ranges.append((float(pixels.min()), float(pixels.max()), float(pixels.mean())))
        except (OSError, ValueError, SyntaxError):  # Pillow's errors for damaged or unknown images
            scan.missing_files = (scan.missing_files[0] + 1, scan.missing_files[1],
                                  scan.missing_files[2] or image_path)
            continue
        shape = (channels, height, width, "image", 0)
        scan.decoded_shapes[shape] = scan.decoded_shapes.get(shape, 0) + 1
    if ranges:
        scan.pixels = PixelRange("image", min(r[0] for r in ranges), max(r[1] for r in ranges),
                                 sum(r[2] for r in ranges) / len(ranges), len(ranges))


def _resolve_image(written: str, base_file: str, root: str | None) -> str | None:
    if os.path.isabs(written):
        return written if os.path.isfile(written) else None
    resolved = resolve_path(written, base_file, root)[0]
    return resolved if resolved is not None and os.path.isfile(resolved) else None

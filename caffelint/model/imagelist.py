"""ImageData source lists: one image a line, `path label`.

ImageDataLayer (BVLC/caffe:src/caffe/layers/image_data_layer.cpp, since 2016)
reads each line whole, splits it at its last space and reads the label with
atoi, so paths may hold spaces, but a line without a space, with a tab before
the label or a space after it gets label 0 silently; older builds read
`path label` pairs with `>>` and stop at the first line that does not fit.
Images open as root_folder + path (plain concatenation) relative to Caffe's
working directory, in colour (3 channels) unless is_color is false.

A list is always read whole, a block of lines at a time with numpy: the lines
that end in a space and a plain decimal label are read at once, and only the
others (blank lines, tabs, signs, long labels, other scripts) go through the
line-by-line reader, which says what is wrong with them.  Image files are only
looked at in a sample spread over the list.
"""

from __future__ import annotations

import os
import time

from caffelint.model.datascan import DataScan, PixelRange
from caffelint.model.labels import LabelStats
from caffelint.model.solver import resolve_path

BLOCK = 1 << 21  # bytes of whole lines parsed at once
MAX_DIGITS = 9  # labels read at once: up to 999,999,999
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
            picks = sorted(_spread(total + 1, EXISTENCE_SAMPLE))
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


def _read_lines(handle, scan: DataScan, picks: list[int]) -> list[tuple[int, str]]:
    """Parse every line into scan.labels; return (line number, image name) for the picked lines
    (0-based line indexes, sorted)."""
    import numpy as np

    picked = np.asarray(picks, dtype=np.int64)
    names: list[tuple[int, str]] = []
    carry = b""
    for chunk in iter(lambda: handle.read(BLOCK), b""):
        data = carry + chunk
        cut = data.rfind(b"\n") + 1
        carry = data[cut:]
        if cut:
            _read_block(data[:cut], scan, picked, names)
    if carry:  # a last line without its line ending
        _read_block(carry + b"\n", scan, picked, names)
    return sorted(names)


def _read_block(block: bytes, scan: DataScan, picked, names: list[tuple[int, str]]) -> None:
    """The lines of `block` (each ending in \\n): labels into scan.labels, problems into scan."""
    import numpy as np

    buf = np.frombuffer(block, dtype=np.uint8)
    ends = np.flatnonzero(buf == 10)
    starts = np.empty_like(ends)
    starts[0], starts[1:] = 0, ends[:-1] + 1
    body = ends - ((ends > starts) & (buf[np.maximum(ends - 1, 0)] == 13))  # without \r\n
    spaces = np.flatnonzero(buf == 32)
    last = np.searchsorted(spaces, body) - 1  # the line's last space, if it has one
    space = spaces[np.maximum(last, 0)] if len(spaces) else np.zeros_like(ends)
    first = space + 1  # the label's first digit
    width = body - first
    good = (last >= 0) & (space >= starts) & (width >= 1) & (width <= MAX_DIGITS)
    labels = np.zeros(len(ends), dtype=np.int64)
    for j in range(MAX_DIGITS):  # the label, digit by digit, where it is all decimal digits
        inside = j < width
        digit = buf[np.minimum(first + j, len(buf) - 1)].astype(np.int64) - 48
        good &= ~inside | ((digit >= 0) & (digit <= 9))
        labels = np.where(inside, labels * 10 + digit, labels)
    before = scan.records  # lines read before this block
    index = set((picked[(picked >= before) & (picked < before + len(ends))] - before).tolist())
    for i in np.flatnonzero(~good).tolist():  # the line-by-line reader, for what is left
        line = block[starts[i]:ends[i]].rstrip(b"\r\n").decode("utf-8", "surrogateescape")
        name, label = _split(line)
        if label is None:
            _bad(scan, before + i + 1, _why(line))
        elif i in index:
            names.append((before + i + 1, name))
        labels[i] = label or 0  # atoi gives 0
        index.discard(i)
    for i in sorted(index):
        names.append((before + i + 1, block[starts[i]:space[i]].decode("utf-8", "surrogateescape")))
    scan.records += len(ends)
    scan.labels.add(labels)


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

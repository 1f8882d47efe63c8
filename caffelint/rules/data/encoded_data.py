"""DAT012 encoded-data (catalogue: rules/DAT012.yaml).

Records that hold JPEG/PNG files instead of pixels: Caffe decodes every one
while it trains, and their shape is only known after decoding.
"""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.datasource import DataSource
from caffelint.rules.data import scanned


def check_data(source: DataSource, ctx: RuleContext) -> Iterator[Finding]:
    scan = scanned(source)
    if scan is None or scan.format != "lmdb":
        return
    encoded = sum(n for shape, n in scan.shapes.items() if len(shape) == 5 and shape[3] == "encoded")
    if not encoded:
        return
    formats = ", ".join(f"{name} {n}" for name, n in sorted(scan.encoded_formats.items())) or "unknown"
    share = "all" if encoded == scan.scanned else f"{encoded:,} of {scan.scanned:,}"
    if scan.decoded_shapes:
        shapes = ", ".join(f"{'x'.join(map(str, s[:3]))} ({n})" for s, n in sorted(scan.decoded_shapes.items()))
        checked = f"{sum(scan.decoded_shapes.values())} decoded records give shapes {shapes}, which the " \
                  f"shape and pixel checks use"
    else:
        checked = "Pillow is not installed, so none was decoded and shape and pixel checks are skipped"
    yield ctx.finding(source.item, f"{share} records of {source.written!r} hold encoded images (sample: "
                                   f"{formats}): Caffe decodes each with OpenCV on every read, which costs CPU "
                                   f"time per batch; {checked}")

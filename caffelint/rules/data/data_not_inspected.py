"""DAT003 data-not-inspected (catalogue: rules/DAT003.yaml).

Sources caffelint does not read: LevelDB databases, and HDF5 files without h5py.
"""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.datasource import DataSource


def check_data(source: DataSource, ctx: RuleContext) -> Iterator[Finding]:
    if source.kind not in ("leveldb", "hdf5"):
        return
    scan = source.scan
    if scan.not_inspected:
        yield ctx.finding(source.item, f"{source.written!r}: {scan.not_inspected}; its labels, shapes "
                                       f"and order are not checked")

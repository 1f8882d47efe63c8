"""DAT002 data-unreadable (catalogue: rules/DAT002.yaml).

The source exists but Caffe could not read it: a damaged or wrong-format
database, records that are not Datums, list lines without a label, listed
files that are missing, a mean_file that is not a BlobProto, or a backend
setting of LMDB on a LevelDB folder.
"""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.edits import set_field
from caffelint.engine import RuleContext
from caffelint.findings import SAFE, Finding, Fix
from caffelint.model.datasource import DataSource
from caffelint.rules.data import SCANNED_KINDS


def check_data(source: DataSource, ctx: RuleContext) -> Iterator[Finding]:
    if source.kind == "wrong":
        yield ctx.finding(source.item, source.problem)
        return
    yield from _backend(source, ctx)
    mean = source.mean_file
    if mean is not None and mean[1] is not None and mean[1].error:
        yield ctx.finding(mean[0].item, f"mean_file: {mean[1].error}; Caffe stops at start-up reading it")
    if source.kind not in SCANNED_KINDS:
        return
    scan = source.scan
    if scan.error:
        yield ctx.finding(source.item, f"{scan.error}; Caffe cannot read this source either")
        return
    if scan.records == 0 and scan.usable:
        yield ctx.finding(source.item, f"{source.written!r} holds no records; Caffe's data layer "
                                       f"fails on its first read")
    if scan.bad:
        yield ctx.finding(source.item, _bad_records(source, scan))
    if scan.missing_files and scan.missing_files[0]:
        missing, checked, example = scan.missing_files
        images = scan.format == "imagelist"
        share = f"all {checked}" if missing == checked else f"{missing} of {checked}"
        sampled = " sampled" if images and checked < scan.records else ""
        error = "Could not load" if images else "Failed opening HDF5 file"
        yield ctx.finding(source.item, f"{share}{sampled} {'images' if images else 'HDF5 files'} listed in "
                                       f"{source.written!r} are missing or unreadable (e.g. {example!r}); "
                                       f"Caffe stops with \"{error}\" when it reaches one")
    if scan.fractional_labels:
        yield ctx.finding(source.item, f"{scan.fractional_labels:,} labels in {source.written!r} have a "
                                       f"fraction; the losses cast labels to int, dropping it")


def _backend(source: DataSource, ctx: RuleContext) -> Iterator[Finding]:
    # An LMDB folder with backend LEVELDB (the default) is INP004 lmdb-backend-unset's; the
    # reverse, backend: LMDB on a LevelDB folder, fails in mdb_env_open (db_lmdb.hpp's CHECK).
    if source.layer.type != "Data" or source.kind != "leveldb" or source.declared_backend != "LMDB":
        return
    fix = Fix("Set backend: LEVELDB", SAFE,
              (set_field(ctx.source, source.layer.bound, "data_param.backend", "LEVELDB"),))
    yield ctx.finding(source.param.entry("backend").item,
                      f"{source.written!r} is a LevelDB database but backend is LMDB; Caffe stops with "
                      f"\"Check failed: mdb_status == 0 (2 vs. 0) No such file or directory\"", fix=fix)


def _bad_records(source: DataSource, scan) -> str:
    where, why = scan.first_bad
    if scan.format == "lmdb":
        if scan.bad == scan.scanned:
            return (f"no record of {source.written!r} is a Caffe Datum (record {where}: {why}); Caffe's "
                    f"Data layer reads Datums only")
        return (f"{scan.bad:,} of {scan.scanned:,} records are not well-formed Datums (first: record "
                f"{where}, {why}); Caffe fails or reads garbage when it reaches one")
    if scan.format == "imagelist":
        more = f" ({scan.bad:,} such lines in all)" if scan.bad > 1 else ""
        return f"{source.written!r}: {why}{more}"
    return f"{source.written!r}: {why}" + (f" ({scan.bad} files in all)" if scan.bad > 1 else "")

"""INP004 lmdb-backend-unset (catalogue: rules/INP004.yaml).

DataParameter.backend defaults to LEVELDB (caffe.proto), so an LMDB source
without `backend: LMDB` fails to open ("Failed to open leveldb ...",
BVLC/caffe:src/caffe/util/db_leveldb.cpp).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from caffelint.edits import set_field
from caffelint.engine import RuleContext
from caffelint.findings import SAFE, Finding, Fix
from caffelint.model.net import Layer, NetView
from caffelint.model.solver import resolve_path

READERS = ("Data", "AnnotatedData")  # both open data_param.source through db::GetDB(backend)


def check_net(net: NetView, ctx: RuleContext) -> Iterator[Finding]:
    for layer in net.layers:
        param = layer.param("data_param")
        if layer.type not in READERS or param is None or not param.has("source"):
            continue
        if param.get("backend") != "LEVELDB":
            continue
        evidence = _lmdb_evidence(layer, net, ctx)
        if evidence is None:
            continue
        how = "is not set (the default is LEVELDB)" if not param.has("backend") else "says LEVELDB"
        edit = set_field(ctx.source, layer.bound, "data_param.backend", "LMDB")
        where = param.entry("backend").item if param.has("backend") else param.entry("source").item
        yield ctx.finding(
            where,
            f"source '{param.get('source')}' is an LMDB ({evidence}) but backend {how}: Caffe fails "
            f"with \"Failed to open leveldb\"",
            fix=Fix("Set backend: LMDB", SAFE, (edit,)))


def _lmdb_evidence(layer: Layer, net: NetView, ctx: RuleContext) -> str | None:
    """Why the source is an LMDB: its folder holds data.mdb, or (not found here) its name says so."""
    written = layer.param("data_param").get("source")
    base = net.file.path if net.file is not None else ctx.source.path
    found, _ = resolve_path(written, base, getattr(ctx.run, "root", None))
    if found is not None and os.path.isdir(found):
        if os.path.isfile(os.path.join(found, "data.mdb")):
            return f"{found} holds data.mdb"
        return None  # a folder without data.mdb: LevelDB or something else, not this rule's
    name = os.path.basename(written.rstrip("/\\")).lower()
    if "lmdb" in name or name == "data.mdb":
        return "its name says so"
    return None

"""The static net rules (NET001-NET011, INP, BN, INI) and the fork hints on every corpus file.

A published net or solver that BVLC's text_format accepts trained (or ran) upstream, so an
error from these rules on it is a real defect of the file, listed with its reason in
tests/corpus/known_defects.tsv, or a wrong rule.  Files with fork-only fields are refused by
BVLC's parser itself; their unknown-field errors must name the fork, and under the SSD
fork's own caffe.proto the SSD files have none.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from google.protobuf import text_format

from caffelint.api import check_paths
from caffelint.config import Options
from caffelint.findings import Severity
from caffelint.schema import caffe_pb2
from tests.conftest import shared_dir

HERE = Path(__file__).parent
CODES = tuple(f"NET{i:03d}" for i in range(1, 12)) + ("INP", "BN", "INI")


def _mine(code: str) -> bool:
    return code.startswith(CODES)


def _known(code_filter) -> set[tuple[str, str, int]]:
    with open(HERE / "known_defects.tsv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return {(r["path"], r["code"], int(r["line"])) for r in rows if code_filter(r["code"])}


def _accepted_files() -> list[tuple[str, str]]:
    """(local path, kind) of corpus nets and solvers that BVLC's text_format parses."""
    corpus = shared_dir() / "corpus"
    with open(corpus / "MANIFEST.tsv", encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t") if r["kind"] != "other"]
    out = []
    for row in rows:
        message = caffe_pb2.SolverParameter() if row["kind"] == "solver" else caffe_pb2.NetParameter()
        try:
            text_format.Parse((corpus / row["local_path"]).read_text(encoding="utf-8"), message)
        except text_format.ParseError:
            continue
        out.append((row["local_path"], row["kind"]))
    return out


ACCEPTED = _accepted_files()


def test_the_corpus_has_published_nets_of_every_kind():
    kinds = {kind for _, kind in ACCEPTED}
    assert {"net-train", "net-deploy", "net-v1", "solver"} <= kinds and len(ACCEPTED) >= 140


def test_net_rule_errors_on_published_files_are_known_defects(monkeypatch):
    """Each file is checked from its repository's root, as its README runs it, so solvers find their nets."""
    corpus = shared_dir() / "corpus"
    found, crashes = set(), []
    for local_path, _ in ACCEPTED:
        repo = corpus / local_path.split("/")[0]
        monkeypatch.chdir(repo)
        report = check_paths([os.path.relpath(corpus / local_path, repo)],
                             Options.from_kwargs(select=CODES, isolated=True))
        for f in report.findings:
            if f.code == "PRS009":
                crashes.append(f.message)
            elif _mine(f.code) and f.severity == Severity.ERROR:
                found.add((os.path.relpath(os.path.abspath(f.path), corpus), f.code, f.span.start.line))
    assert crashes == []
    known = _known(_mine)
    assert sorted(found - known) == [], "errors on published files: a rule is wrong, or add a row with the reason"
    assert sorted(known - found) == [], "listed findings no longer fire: remove their rows"


def test_every_unknown_field_of_the_corpus_names_its_fork():
    corpus = shared_dir() / "corpus"
    report = check_paths([str(corpus)], Options.from_kwargs(select=("PRS002",), isolated=True, no_data=True))
    unexplained = {(os.path.relpath(f.path, corpus), f.code, f.span.start.line)
                   for f in report.findings if "a fork field:" not in f.message}
    assert len(report.findings) > 400  # SegNet, ENet, PSPNet, SSD, Faster R-CNN, Intel, ... fields
    assert unexplained == _known(lambda code: code == "PRS002")


def test_the_ssd_files_are_valid_under_the_ssd_schema():
    corpus = shared_dir() / "corpus"
    paths = [str(corpus / "weiliu89__caffe"), str(corpus / "chuanqi305__MobileNet-SSD")]
    ssd = str(shared_dir() / "reference" / "ssd_caffe.proto")
    report = check_paths(paths, Options.from_kwargs(select=("PRS002", "NET009"), isolated=True, no_data=True,
                                                    proto=ssd))
    checked = [f for f in report.files if f.kind == "net"]
    assert len(checked) >= 5
    assert [f"{f.path}:{f.span.start.line}: {f.message}" for f in report.findings] == []
    default = check_paths(paths, Options.from_kwargs(select=("PRS002", "NET009"), isolated=True, no_data=True))
    assert {f.code for f in default.findings} == {"PRS002", "NET009"}  # the same files under BVLC's schema

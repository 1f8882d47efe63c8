"""The solver rules on every published solver in the corpus.

A solver that text_format accepts trained upstream, so an error from a solver
rule is either a real defect of the published file (tests/corpus/known_defects.tsv)
or a file the corpus does not hold: the corpus keeps only some files of each
repository, so nets and snapshot folders a solver names are often absent
(tests/corpus/known_absences.tsv).  Both lists must match the findings exactly.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
from google.protobuf import text_format

from caffelint.api import check_paths
from caffelint.config import Options
from caffelint.findings import Severity
from caffelint.schema import caffe_pb2
from tests.conftest import shared_dir

HERE = Path(__file__).parent


def _table(name: str) -> list[dict[str, str]]:
    with open(HERE / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def _published_solvers() -> list[str]:
    """Corpus solvers (MANIFEST kind `solver`) that BVLC's text_format parses."""
    corpus = shared_dir() / "corpus"
    with open(corpus / "MANIFEST.tsv", encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t") if r["kind"] == "solver"]
    out = []
    for row in rows:
        try:
            text_format.Parse((corpus / row["local_path"]).read_text(encoding="utf-8"), caffe_pb2.SolverParameter())
        except text_format.ParseError:
            continue  # a fork's fields or a typo: Caffe itself refuses it
        out.append(row["local_path"])
    return out


def _lint(local_path: str, monkeypatch) -> list:
    """Check one corpus solver as its repository runs it: from the repository's root folder."""
    corpus = shared_dir() / "corpus"
    repo = corpus / local_path.split("/")[0]
    monkeypatch.chdir(repo)
    solver = os.path.relpath(corpus / local_path, repo)
    options = Options.from_kwargs(select=("SLV",), isolated=True)
    return check_paths([solver], options).findings


SOLVERS = _published_solvers()


def test_the_corpus_has_published_solvers():
    assert len(SOLVERS) >= 50


def test_solver_rule_errors_are_known_defects_or_absent_files(monkeypatch):
    found = set()
    crashes = []
    for local_path in SOLVERS:
        for f in _lint(local_path, monkeypatch):
            if f.code == "PRS009":
                crashes.append(f.message)
            elif f.severity == Severity.ERROR and Path(f.path).name == Path(local_path).name:
                found.add((local_path, f.code, f.span.start.line))
    assert crashes == []
    known = {(r["path"], r["code"], int(r["line"])) for r in _table("known_defects.tsv") + _table("known_absences.tsv")
             if r["code"].startswith("SLV")}
    assert sorted(found - known) == [], "errors on published solvers: a rule is wrong, or add a row with the reason"
    assert sorted(known - found) == [], "listed findings no longer fire: remove their rows"


@pytest.mark.parametrize("row", _table("known_absences.tsv"), ids=lambda r: f"{r['code']}:{r['path']}:{r['line']}")
def test_absent_files_really_are_absent(row):
    corpus = shared_dir() / "corpus"
    solver = corpus / row["path"]
    repo = corpus / row["path"].split("/")[0]
    absent = row["absent"]
    assert solver.is_file()
    bases = [repo, *[p for p in solver.parents if corpus in p.parents or p == corpus]]
    assert not any((base / absent).exists() for base in bases), f"{absent} is in the corpus after all"


@pytest.mark.parametrize("kind", [None, "solver"], ids=["as-detected", "all-as-solvers"])
def test_no_solver_rule_crashes_on_any_corpus_file(kind, monkeypatch):
    corpus = shared_dir() / "corpus"
    monkeypatch.chdir(corpus)
    options = Options.from_kwargs(select=("SLV",), isolated=True, kind=kind)
    report = check_paths([str(corpus)], options)
    assert len(report.files) >= 183
    assert [f.message for f in report.findings if f.code == "PRS009"] == []

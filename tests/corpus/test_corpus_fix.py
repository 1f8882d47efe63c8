"""`caffelint fix` over the real corpus, with every rule: safe fixes, then unsafe ones too.

For each file (and each net its solver leads to) the fixed text must load
where the original loaded (text_format, as the file's own message type and
with the schema that loads it), a second run must change nothing, safe
fixes must keep every comment, the fixed findings must be gone, and no line
may change that no edit touched.  Files in the V0 or V1 format must upgrade
to exactly the NetParameter Caffe's own upgrade makes of them
(tests/unit/test_upgrade.py holds that reference).
"""

from __future__ import annotations

import functools
import os
from collections import Counter
from pathlib import Path

import pytest

from caffelint import edits
from caffelint.api import check_paths
from caffelint.config import Options
from caffelint.fixing import FileFix, apply_round, fix_paths
from caffelint.report.fixes import line_opcodes
from caffelint.source import SourceFile
from tests.conftest import corpus_files, shared_dir
from tests.unit.test_upgrade import assert_same, assert_upgrade_matches_caffe, caffe_upgrade_net, parse_net

FILES = corpus_files()
IDS = [str(p.relative_to(shared_dir() / "corpus")) for p in FILES]


def options(unsafe: bool, select: tuple[str, ...] = ("ALL",)) -> Options:
    return Options.from_kwargs(select=select, isolated=True, no_data=True, unsafe_fixes=unsafe)


@functools.cache
def manifest() -> dict[str, str]:
    """Corpus path -> the MANIFEST's notes (which schema, if any, loads the file)."""
    rows = (shared_dir() / "corpus" / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return {row.split("\t")[0]: row.split("\t")[-1] for row in rows}


@functools.cache
def ssd_schema():
    from caffelint.schema.descriptors import schema_from_proto

    return schema_from_proto(str(shared_dir() / "reference" / "ssd_caffe.proto"))


def load_error(text: str, kind: str, schema) -> str | None:
    from google.protobuf import text_format

    name = "caffe.SolverParameter" if kind == "solver" else "caffe.NetParameter"
    try:
        text_format.Parse(text, schema.message_class(name)())
    except text_format.ParseError as exc:
        return str(exc)
    return None


def schema_for(path: str):
    """The schema the MANIFEST says loads `path`: BVLC's, the SSD fork's, or BVLC's for other forks."""
    from caffelint.schema.descriptors import default_schema

    rel = os.path.relpath(os.path.realpath(path), os.path.realpath(shared_dir() / "corpus"))
    notes = manifest().get(rel, "")
    if "text_format BVLC: FAIL" in notes and "SSD-fork schema: ok" in notes:
        return ssd_schema()
    return default_schema()


def kind_of(text: str, path: str) -> str:
    from caffelint.model.files import detect_kind
    from caffelint.schema.descriptors import default_schema
    from caffelint.syntax.parser import parse

    return detect_kind(parse(text), default_schema(), path)[0]


def comments(text: str) -> Counter:
    return Counter(edits.comments_in(SourceFile("x", text), 0, len(text)))


def changed_lines_outside_edits(before: str, after: str, applied: list) -> list[str]:
    """Lines of `before` that the diff removes or replaces although no edit touched them."""
    source = SourceFile("x", before)
    touched: set[int] = set()
    for e in applied:
        first, last = source.pos(e.start).line, source.pos(e.end).line
        touched.update(range(first - (e.start == e.end), last + 1))
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    stray = []
    for hunk in _hunks(line_opcodes(old, new)):  # the diff `caffelint fix` shows
        added = Counter(line for _, _, _, j1, j2 in hunk for line in new[j1:j2])
        for _, i1, i2, _, _ in hunk:  # an insertion changes no line of the input: only i1..i2 count
            for n in range(i1 + 1, i2 + 1):
                if n in touched:
                    continue
                if added[old[n - 1]]:  # removed and added again in the same hunk: moved, not changed
                    added[old[n - 1]] -= 1
                    continue
                stray.append(f"line {n}: {old[n - 1]!r}")
    return stray


def _hunks(opcodes: list) -> list[list]:
    """Changes grouped as a unified diff with 3 lines of context groups them."""
    hunks: list[list] = []
    gap = 7
    for op in opcodes:
        if op[0] == "equal":
            gap = op[2] - op[1]
            continue
        if gap > 6 or not hunks:
            hunks.append([])
        hunks[-1].append(op)
        gap = 0
    return hunks


def second_run_changes(path: Path, result: FileFix, texts: dict[str, str], unsafe: bool) -> bool:
    report = check_paths([str(path)], options(unsafe), texts=texts)
    real = os.path.realpath(result.path)
    own = [f for f in report.findings if os.path.realpath(f.path) == real]
    return apply_round(result.after, own, unsafe=unsafe)[0] != result.after


@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_fix_keeps_the_file_loadable_and_is_idempotent(path, unsafe):
    report = fix_paths([str(path)], options(unsafe))
    assert not report.failed, [f.error for f in report.failed]
    texts = {os.path.realpath(r.path): r.after for r in report.changed}
    for result in report.changed:
        kind = kind_of(result.before, result.path)
        schema = schema_for(result.path)
        before_error = load_error(result.before, kind, schema)
        after_error = load_error(result.after, kind, schema)
        if before_error is None:
            assert after_error is None, f"{result.path}: the fixed file no longer loads: {after_error}"
        else:  # a fork file: the fix must not add a problem before the one it had
            assert after_error is not None and _place(after_error) >= (0, 0)
        assert not second_run_changes(path, result, texts, unsafe), f"{result.path}: a second run changes it"
        if not unsafe:
            lost = comments(result.before) - comments(result.after)
            assert not lost, f"{result.path}: comments lost: {list(lost)}"
        real = os.path.realpath(result.path)
        left = Counter((f.code, f.message) for f in report.remaining if os.path.realpath(f.path) == real)
        back = [key for key in {(f.code, f.message) for f in result.fixed} if left[key]]
        assert not back, f"{result.path}: fixed findings still reported: {back}"
        text = result.before
        for before, applied in result.rounds:
            assert before == text
            after = _apply(before, applied)
            stray = changed_lines_outside_edits(before, after, applied)
            assert not stray, f"{result.path}: lines changed that no edit touched: {stray[:3]}"
            text = after
        assert text == result.after


def _apply(text: str, applied: list) -> str:
    for e in sorted(applied, key=lambda e: (e.start, e.end), reverse=True):
        text = text[:e.start] + e.text + text[e.end:]
    return text


def _place(error: str) -> tuple[int, int]:
    head = error.split(" ", 1)[0].rstrip(":").split(":")
    return (int(head[0]), int(head[1])) if len(head) == 2 and all(h.isdigit() for h in head) else (0, 0)


OLD_FORMAT = [p for p in FILES if "layers" in p.read_text(encoding="utf-8", errors="replace")
              or "solver_type" in p.read_text(encoding="utf-8", errors="replace")]


@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
@pytest.mark.parametrize("path", OLD_FORMAT, ids=[str(p.relative_to(shared_dir() / "corpus")) for p in OLD_FORMAT])
def test_old_formats_upgrade_as_caffe_upgrades_them(path, unsafe):
    report = fix_paths([str(path)], options(unsafe, ("UPG001",)))
    assert not report.failed, [f.error for f in report.failed]
    for result in report.changed:
        kind = kind_of(result.before, result.path)
        if load_error(result.before, kind, schema_for(result.path)) is not None:
            continue  # a file BVLC's schema cannot load has no Caffe upgrade to compare with
        if kind == "net" and "layers" not in {f.key for f in _doc(result.before).fields}:
            # a current net: only inputs and BatchNorm changed; Caffe loads both texts alike
            assert_same(caffe_upgrade_net(parse_net(result.after)), caffe_upgrade_net(parse_net(result.before)))
            continue
        assert_upgrade_matches_caffe(result.before, result.after, kind)
    unsafe_left = [f for f in report.remaining if f.code == "UPG001" and f.fix is not None]
    assert unsafe or all(f.fix.applicability == "unsafe" for f in unsafe_left)
    assert not unsafe or not unsafe_left


def _doc(text: str):
    from caffelint.syntax.parser import parse

    return parse(text)

"""Upgrade parity: caffelint's in-place upgrade gives the message Caffe's own upgrade tools give.

For every V0/V1 net and every solver with the deprecated `solver_type` enum in
the corpus that the built Caffe can read, `upgrade_net_proto_text` /
`upgrade_solver_proto_text` and `caffelint fix --apply --select UPG001` must
produce equal messages (compared with the schema the tools were built from).
"""

from __future__ import annotations

import difflib
import shutil

import pytest
from google.protobuf import text_format

from caffelint.model.files import NET, SOLVER, load
from caffelint.schema.descriptors import default_schema, schema_from_proto
from caffelint.source import SourceFile
from tests.conftest import corpus_files
from tests.e2e.conftest import caffelint

pytestmark = pytest.mark.e2e


def needs_upgrade(path) -> str | None:
    parsed = load(SourceFile.read(path), default_schema())
    if parsed.bound is None:
        return None
    if parsed.kind == NET and (parsed.bound.has("layers") or parsed.bound.has("input")):
        return NET
    if parsed.kind == SOLVER and parsed.bound.has("solver_type"):
        return SOLVER
    return None


def align_batchnorm_upgrade(ours, theirs) -> None:
    """Account for the one known difference between Caffe versions' upgrades.

    BatchNorm layers with three `param {}` blocks are upgraded in place; BVLC
    master (commit a19357a19, 2017) sets lr_mult and decay_mult to 0 and keeps the
    blocks, as caffelint does, while older trees such as the fork built here
    (commit a8ec123c0, 2016) delete the blocks.  Both mean the same to the layer,
    which fixes those multipliers at 0 itself.
    """
    for mine, other in zip(ours.layer, theirs.layer):
        if (mine.type == other.type == "BatchNorm" and len(mine.param) == 3 and not other.param
                and all(p.lr_mult == 0 and p.decay_mult == 0 for p in mine.param)):
            del mine.param[:]


CANDIDATES = [(p, kind) for p in corpus_files() if (kind := needs_upgrade(p))]


@pytest.fixture(scope="module")
def fork_schema(caffe):
    proto = caffe.bin.parent / "share" / "caffe" / "caffe.proto"
    assert proto.is_file(), proto
    return schema_from_proto(str(proto))


def test_there_are_files_to_compare():
    kinds = [k for _, k in CANDIDATES]
    assert kinds.count(NET) >= 10 and kinds.count(SOLVER) >= 1, kinds


@pytest.fixture(scope="module")
def parity(tmp_path_factory, caffe, fork_schema):
    results = {}
    for path, kind in CANDIDATES:
        work = tmp_path_factory.mktemp(path.stem)
        source = work / "original.prototxt"
        shutil.copyfile(path, source)
        tool = "upgrade_net_proto_text" if kind == NET else "upgrade_solver_proto_text"
        theirs_path = work / "caffe.prototxt"
        run = caffe.run(tool, str(source), str(theirs_path), cwd=work)
        if run.returncode != 0 or not theirs_path.exists():
            results[path] = ("unreadable", run.stderr.strip().splitlines()[-1:])
            continue
        ours_path = work / "caffelint.prototxt"
        shutil.copyfile(path, ours_path)
        fixed = caffelint("fix", "--apply", "--unsafe-fixes", "--isolated", "--no-data", "--select", "UPG001", "--kind", kind,
                          ours_path.name, cwd=work)
        assert fixed.returncode in (0, 1), fixed.stderr
        message = "caffe.NetParameter" if kind == NET else "caffe.SolverParameter"
        cls = fork_schema.message_class(message)
        theirs = text_format.Parse(theirs_path.read_text(encoding="utf-8"), cls())
        ours = text_format.Parse(ours_path.read_text(encoding="utf-8"), cls())
        if kind == NET:
            align_batchnorm_upgrade(ours, theirs)
        results[path] = ("equal" if ours == theirs else "different", (ours, theirs))
    counts = {k: sum(1 for v in results.values() if v[0] == k) for k in ("equal", "different", "unreadable")}
    print(f"\nupgrade parity over {len(results)} corpus files: {counts}")
    return results


@pytest.mark.parametrize(("path", "kind"), CANDIDATES, ids=[str(p.name) for p, _ in CANDIDATES])
def test_upgrade_matches_caffe(parity, path, kind):
    verdict, detail = parity[path]
    if verdict == "unreadable":
        # Caffe's own tool cannot read it (fork-only fields): nothing to compare against
        assert detail, "the tool failed without a message"
        return
    if verdict == "different":
        ours, theirs = detail
        diff = "\n".join(difflib.unified_diff(text_format.MessageToString(theirs).splitlines(),
                                              text_format.MessageToString(ours).splitlines(),
                                              "caffe", "caffelint", lineterm="", n=2))
        pytest.fail(f"caffelint's upgrade differs from Caffe's:\n{diff[:4000]}")

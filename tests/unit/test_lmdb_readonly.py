"""caffelint never writes to a data source: files, sizes, times and the folder listing stay the same.

Every test runs the real CLI in a subprocess on real LMDB folders built with
py-lmdb, and compares a snapshot of the data folder (SHA-256 of every file,
its mtime in nanoseconds, and the set of names) taken before and after.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fixtures import build_data

NET = textwrap.dedent("""\
    layer {
      name: "data"
      type: "Data"
      top: "data"
      top: "label"
      data_param { source: "train_lmdb" batch_size: 64 backend: LMDB }
    }
    layer { name: "fc" type: "InnerProduct" bottom: "data" top: "fc" inner_product_param { num_output: 10 } }
    layer { name: "loss" type: "SoftmaxWithLoss" bottom: "fc" bottom: "label" top: "loss" }
    """)


def snapshot(folder: Path) -> dict[str, tuple[str, int, int]]:
    """name -> (sha256, size, mtime_ns) for every file below `folder`."""
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            stat = path.stat()
            out[str(path.relative_to(folder))] = (hashlib.sha256(path.read_bytes()).hexdigest(),
                                                  stat.st_size, stat.st_mtime_ns)
    return out


def run_check(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "caffelint", "check", "--select", "DAT", *args, "net.prototxt"],
                          cwd=folder, capture_output=True, text=True, timeout=120)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    build_data.digits_lmdb_one_based(tmp_path / "train_lmdb")
    (tmp_path / "net.prototxt").write_text(NET)
    return tmp_path


def test_full_scan_leaves_the_database_untouched(project):
    before = snapshot(project / "train_lmdb")
    result = run_check(project)
    assert snapshot(project / "train_lmdb") == before
    assert "labels span 1..10" in result.stdout  # it really read every record
    assert result.stderr == ""


def test_sample_leaves_the_database_untouched(project):
    before = snapshot(project / "train_lmdb")
    result = run_check(project, "--sample", "100")
    assert snapshot(project / "train_lmdb") == before
    assert "100 sampled of 1,797 records" in result.stdout


def test_no_lock_file_is_created(project):
    (project / "train_lmdb" / "lock.mdb").unlink()  # as on a copy from read-only media
    before = snapshot(project / "train_lmdb")
    result = run_check(project)
    assert sorted(os.listdir(project / "train_lmdb")) == ["data.mdb"]
    assert snapshot(project / "train_lmdb") == before
    assert "labels span 1..10" in result.stdout


WRITER = textwrap.dedent("""\
    import sys, lmdb
    env = lmdb.open(sys.argv[1], map_size=1 << 30)
    txn = env.begin(write=True)          # holds the writer lock for the whole check
    for i in range(500):
        txn.put(b"zz_%06d" % i, b"not committed yet")
    print("ready", flush=True)
    sys.stdin.readline()
    txn.abort()
    env.close()
    """)


def test_untouched_while_another_process_writes(project):
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(project / "train_lmdb")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "ready"
        before = snapshot(project / "train_lmdb")  # after the writer opened (it updates lock.mdb)
        result = run_check(project)  # must neither block on the writer nor touch its files
        after = snapshot(project / "train_lmdb")
    finally:
        writer.communicate("done\n", timeout=30)
    assert after == before
    assert "labels span 1..10" in result.stdout
    assert writer.returncode == 0


def test_a_missing_source_creates_nothing(tmp_path):
    (tmp_path / "net.prototxt").write_text(NET)
    result = run_check(tmp_path)
    assert not (tmp_path / "train_lmdb").exists()
    assert "not found" in result.stdout and result.returncode == 0  # info only


def test_an_empty_folder_stays_empty(tmp_path):
    (tmp_path / "net.prototxt").write_text(NET)
    (tmp_path / "train_lmdb").mkdir()
    result = run_check(tmp_path)
    assert os.listdir(tmp_path / "train_lmdb") == []
    assert "holds neither data.mdb" in result.stdout


def test_a_truncated_database_is_a_finding_not_a_crash(tmp_path):
    (tmp_path / "net.prototxt").write_text(NET)
    build_data.truncated_lmdb(tmp_path / "train_lmdb")
    before = snapshot(tmp_path / "train_lmdb")
    result = run_check(tmp_path)
    assert result.returncode == 1  # a finding, not a signal (SIGBUS would give -7)
    assert "is truncated" in result.stdout and result.stderr == ""
    assert snapshot(tmp_path / "train_lmdb") == before

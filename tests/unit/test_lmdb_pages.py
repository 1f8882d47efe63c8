"""The page reader walks LMDB's B-tree as liblmdb lays it out: py-lmdb's cursor is the oracle.

Databases are written with py-lmdb (the liblmdb it bundles) in several shapes: values in
overflow pages with convert_imageset's keys, small values inside the leaves under random keys
written in random order, a mix of sizes up to several pages, and a database whose pages were
freed and reused.  Every record the page reader locates must be the cursor's record at that
position, byte for byte.
"""

from __future__ import annotations

import os
from pathlib import Path

import lmdb as py_lmdb
import numpy as np
import pytest

from caffelint.model import lmdb
from caffelint.model.datascan import scan_lmdb
from caffelint.model.datum import DatumScanner
from caffelint.model.lmdb_pages import HEAD_BYTES, TAIL_BYTES, PageError, PageReader, Unsupported, check_tree
from caffelint.schema.caffe_pb2 import Datum
from fixtures import build_data, page_cache


def _put(path: Path, items, map_size: int = 1 << 30, **flags) -> None:
    env = py_lmdb.open(str(path), map_size=map_size, **flags)
    with env.begin(write=True) as txn:
        for key, value in items:
            txn.put(key, value)
    env.close()


def overflow_values(path: Path) -> None:
    """3x32x32 uint8 Datums, an overflow page each, keyed and written as convert_imageset does."""
    pixels = bytes(range(256)) * 12
    build_data.write_lmdb(path, (Datum(channels=3, height=32, width=32, data=i.to_bytes(4, "little") + pixels[4:],
                                       label=i % 10, encoded=False).SerializeToString() for i in range(12000)))


def inline_values(path: Path) -> None:
    """Values inside the leaf pages, under random binary keys written in random order."""
    rng = np.random.default_rng(3)
    _put(path, ((rng.bytes(12), b"v%07d" % i) for i in range(30000)))


def mixed_sizes(path: Path) -> None:
    """From a few bytes to several pages a value: inline, one overflow page and many."""
    _put(path, ((b"%08d" % i, (b"%08d" % i) * (1 + i * 7919 % 1500)) for i in range(5000)))


def reused_pages(path: Path) -> None:
    """Written, two thirds deleted and written again: the later values sit in freed pages."""
    _put(path, ((b"%08d" % i, b"first %d " % i * 400) for i in range(6000)))
    env = py_lmdb.open(str(path), map_size=1 << 30)
    with env.begin(write=True) as txn:
        for i in range(0, 6000, 3):
            txn.delete(b"%08d" % i)
        for i in range(1, 6000, 3):
            txn.put(b"%08d" % i, b"second %d " % i * 300)
    env.close()


BUILDERS = [overflow_values, inline_values, mixed_sizes, reused_pages]


def cursor_values(path: Path) -> list[bytes]:
    env = py_lmdb.open(str(path), readonly=True, lock=False)
    with env.begin() as txn:
        values = [bytes(v) for v in txn.cursor().iternext(keys=False)]
    env.close()
    return values


@pytest.fixture(scope="module", params=BUILDERS, ids=lambda b: b.__name__)
def database(request, tmp_path_factory) -> tuple[Path, list[bytes]]:
    path = tmp_path_factory.mktemp("pages") / request.param.__name__
    request.param(path)
    return path, cursor_values(path)


def located_values(path: Path, lengths: list[int]):
    with PageReader(str(path), lmdb.read_meta(str(path))) as reader:
        located = reader.runs(lengths)
        values = [reader.bytes[o:o + s].tobytes() for o, s in zip(located.offsets, located.sizes)]
        first_key = reader.first_key()
    return located, values, first_key


def test_every_record_in_key_order(database):
    path, expected = database
    located, values, first_key = located_values(path, [len(expected)])
    assert values == expected
    assert located.run_starts == [0]
    assert first_key == lmdb_first_key(path)


def lmdb_first_key(path: Path) -> bytes:
    with lmdb.open_readonly(str(path)) as env, lmdb.read_transaction(env) as txn:
        return lmdb.first_key(txn)


def test_heads_and_tails_are_each_values_ends(database):
    path, expected = database
    located, values, _ = located_values(path, lmdb.run_lengths(1500))
    assert located.heads.shape == (len(values), HEAD_BYTES) and located.tails.shape == (len(values), TAIL_BYTES)
    for value, head, tail in zip(values, located.heads, located.tails):
        assert head.tobytes()[:len(value)] == value[:HEAD_BYTES]
        assert tail.tobytes()[-len(value):] == value[-TAIL_BYTES:]


def test_runs_are_consecutive_disjoint_and_spread(database):
    path, expected = database
    position = {value: i for i, value in enumerate(expected)}
    assert len(position) == len(expected)  # every value is unique: a value names its record
    lengths = lmdb.run_lengths(1500)  # 19 runs of about 79 records
    located, values, _ = located_values(path, lengths)
    assert len(values) == sum(lengths)
    order = [position[value] for value in values]
    bounds = located.run_starts + [len(order)]
    starts = []
    for run, (begin, end) in enumerate(zip(bounds, bounds[1:])):
        assert end - begin == lengths[run]
        assert order[begin:end] == list(range(order[begin], order[begin] + lengths[run]))  # consecutive
        starts.append(order[begin])
    assert order == sorted(order) and len(set(order)) == len(order)  # in key order, none twice
    assert starts[0] == 0
    spacing = len(expected) / len(lengths)
    assert max(b - a for a, b in zip(starts, starts[1:] + [len(expected)])) < 3 * spacing  # no part unseen


def test_a_third_of_the_database_is_read_each_record_once(database):
    path, expected = database
    wanted = len(expected) // 3
    located, values, _ = located_values(path, lmdb.run_lengths(wanted))
    assert len(values) == wanted == len(set(values))
    assert set(values) <= set(expected)


def test_pieces_the_helper_has_not_begun_are_read_here(tmp_path):
    """With the helper thread held up, this thread reads the pieces it has not begun: the same
    records come back, and the helper still reads the piece it was handed first."""
    import threading

    from caffelint.model import lmdb_pages

    overflow_values(tmp_path / "d_lmdb")
    lengths = lmdb.run_lengths(6000)
    free = located_values(tmp_path / "d_lmdb", lengths)
    release = threading.Event()
    lmdb_pages._worker().submit(release.wait)  # the helper is busy until released
    threading.Timer(0.5, release.set).start()
    cancelled = []
    real_read = lmdb_pages._ValueRows.read

    def read(piece):
        cancelled.append(piece.future is not None and piece.future.cancelled())
        real_read(piece)

    lmdb_pages._ValueRows.read = read
    try:
        held = located_values(tmp_path / "d_lmdb", lengths)
    finally:
        lmdb_pages._ValueRows.read = real_read
    assert held[1] == free[1] and held[0].run_starts == free[0].run_starts
    assert np.array_equal(held[0].heads, free[0].heads) and np.array_equal(held[0].tails, free[0].tails)
    assert cancelled.count(True) == lmdb_pages.SHARED_PIECES  # read here, after the helper's turn was taken back


def test_a_sample_of_more_than_half_reads_everything(tmp_path):
    build_data.digits_lmdb(tmp_path / "d_lmdb")
    scan = scan_lmdb(str(tmp_path / "d_lmdb"), sample=1000)
    assert not scan.sampled and scan.scanned == scan.records == 1797


def test_the_scanner_reads_the_labels_protobuf_reads(tmp_path):
    overflow_values(tmp_path / "d_lmdb")
    with PageReader(str(tmp_path / "d_lmdb"), lmdb.read_meta(str(tmp_path / "d_lmdb"))) as reader:
        located = reader.runs(lmdb.run_lengths(2000))
        values = [reader.bytes[o:o + s].tobytes() for o, s in zip(located.offsets, located.sizes)]
        # rows copied out; too narrow for the layout's head, or none: gathered from the map
        for heads, tails in ((located.heads, located.tails), (located.heads[:, :8], located.tails), (None, None)):
            scanner = DatumScanner()
            labels, good = scanner.feed_located(reader.bytes, located.offsets, located.sizes, heads, tails)
            assert good.all() and scanner.walked == 1  # the first record teaches the layout; the rest is fast
            assert labels.tolist() == [Datum.FromString(value).label for value in values]


def test_a_database_holding_a_sub_database_is_left_to_py_lmdb(tmp_path):
    path = tmp_path / "sub_lmdb"
    record = Datum(channels=1, height=2, width=2, data=b"abcd", label=3).SerializeToString()
    _put(path, ((b"%08d" % i, record) for i in range(3000)))
    env = py_lmdb.open(str(path), map_size=1 << 30, max_dbs=1)
    env.open_db(b"%08d_extra" % 1500)  # its node sits among the records, flagged F_SUBDATA
    env.close()
    with pytest.raises(Unsupported), PageReader(str(path), lmdb.read_meta(str(path))) as reader:
        reader.runs([3001])
    scan = scan_lmdb(str(path), sample=300)  # through py-lmdb's cursor instead
    assert scan.error is None and scan.sampled and scan.scanned == 300


def test_a_damaged_leaf_is_a_scan_error_not_an_abort(tmp_path):
    overflow_values(tmp_path / "d_lmdb")
    path = tmp_path / "d_lmdb"
    with PageReader(str(path), lmdb.read_meta(str(path))) as reader:
        leaf = reader._descend(0.5)[-1][0]  # a leaf page in the middle
    data = path / "data.mdb"
    with open(data, "r+b") as handle:  # the leaf's flags say overflow page
        handle.seek(leaf * 4096 + 10)
        handle.write((4).to_bytes(2, "little"))
    with pytest.raises(PageError, match="not a tree page"), \
            PageReader(str(path), lmdb.read_meta(str(path))) as reader:
        reader.runs(lmdb.run_lengths(4000))
    scan = scan_lmdb(str(path), sample=4000)  # liblmdb would abort on this page: a scan error instead
    assert scan.error and "damaged" in scan.error and "\n" not in scan.error


@pytest.mark.parametrize("through", ["pages", "cursor"])
def test_a_full_scan_of_a_damaged_tree_is_a_scan_error_not_an_abort(tmp_path, through):
    """py-lmdb's liblmdb asserts on such a page and aborts the process, so the scan runs in a child
    process: without the tree check it dies of SIGABRT.  Both ways of reading are tried: the
    file's pages, and py-lmdb's cursor, which reads databases the page reader does not."""
    import subprocess
    import sys

    overflow_values(tmp_path / "d_lmdb")
    path = tmp_path / "d_lmdb"
    with PageReader(str(path), lmdb.read_meta(str(path))) as reader:
        leaf = reader._descend(0.5)[-1][0]
    with open(path / "data.mdb", "r+b") as handle:
        handle.seek(leaf * 4096 + 10)
        handle.write((4).to_bytes(2, "little"))  # the leaf's flags say overflow page
    code = ("from caffelint.model import datascan\n"
            + ("datascan._read_pages = lambda *args: False\n" if through == "cursor" else "")
            + f"print(datascan.scan_lmdb({str(path)!r}).error)")
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert child.returncode == 0, child.stderr
    assert f"page {leaf} is not the leaf page a branch node points to" in child.stdout
    assert "damaged" in child.stdout


def test_the_tree_check_reaches_every_leaf(database):
    path, _ = database
    meta = lmdb.read_meta(str(path))
    with PageReader(str(path), meta) as reader:
        leaves = check_tree(reader.bytes, meta)
    env = py_lmdb.open(str(path), readonly=True, lock=False)
    assert leaves == env.stat()["leaf_pages"] > 1  # liblmdb's own count
    env.close()


def test_an_empty_database_has_no_runs(tmp_path):
    _put(tmp_path / "empty_lmdb", [])
    with PageReader(str(tmp_path / "empty_lmdb"), lmdb.read_meta(str(tmp_path / "empty_lmdb"))) as reader:
        located = reader.runs([10, 10])
        assert len(located.offsets) == 0 and reader.first_key() == b""


def test_the_file_is_only_read(tmp_path):
    overflow_values(tmp_path / "d_lmdb")
    data = tmp_path / "d_lmdb" / "data.mdb"
    os.chmod(data, 0o444)  # a read-only file is enough
    before = (data.read_bytes(), data.stat().st_mtime_ns)
    scan = scan_lmdb(str(tmp_path / "d_lmdb"), sample=1000)
    assert scan.error is None and scan.scanned == 1000
    assert (data.read_bytes(), data.stat().st_mtime_ns) == before
    assert sorted(os.listdir(tmp_path / "d_lmdb")) == ["data.mdb", "lock.mdb"]  # nothing new


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="reads this process's maps (Linux)")
def test_the_map_is_released_after_the_scan(tmp_path):
    from caffelint.model import lmdb_pages

    overflow_values(tmp_path / "d_lmdb")
    data = str((tmp_path / "d_lmdb" / "data.mdb").resolve())
    scan = scan_lmdb(str(tmp_path / "d_lmdb"), sample=2000)
    assert scan.scanned == 2000
    lmdb_pages._finish_pending_unmap()  # the helper thread unmaps it after the scan returns
    with open("/proc/self/maps") as maps:
        assert data not in maps.read()
    assert not any(data == os.path.realpath(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")
                   if os.path.exists(f"/proc/self/fd/{fd}"))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
def test_a_forked_child_samples_with_its_own_helper_thread(tmp_path):
    """The parent's helper thread does not exist in a child made by fork: the child makes its own."""
    import subprocess
    import sys

    overflow_values(tmp_path / "d_lmdb")
    code = f"""if True:
        import os
        from caffelint.model.datascan import scan_lmdb
        path = {str(tmp_path / "d_lmdb")!r}
        assert scan_lmdb(path, sample=2000).scanned == 2000  # the parent's helper thread exists now
        pid = os.fork()
        if pid == 0:
            os._exit(0 if scan_lmdb(path, sample=2000).scanned == 2000 else 1)
        print(os.waitpid(pid, 0)[1])
        """
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert child.returncode == 0, child.stderr
    assert child.stdout.strip() == "0"


def test_every_record_part_by_part_in_key_order(database):
    path, expected = database
    with PageReader(str(path), lmdb.read_meta(str(path))) as reader:
        parts = list(reader.every_record(leaves_per_part=3))
        values = [reader.bytes[o:o + s].tobytes() for part in parts for o, s in zip(part.offsets, part.sizes)]
        heads = [head.tobytes() for part in parts for head in part.heads]
        tails = [tail.tobytes() for part in parts for tail in part.tails]
    assert len(parts) > 1 and values == expected
    for value, head, tail in zip(values, heads, tails):
        assert head[:len(value)] == value[:HEAD_BYTES] and tail[-len(value):] == value[-TAIL_BYTES:]


def test_a_tree_holding_fewer_records_than_its_meta_page_says_is_damaged(tmp_path):
    from dataclasses import replace

    overflow_values(tmp_path / "d_lmdb")
    meta = lmdb.read_meta(str(tmp_path / "d_lmdb"))
    with pytest.raises(PageError, match="the tree holds 12000 records where its meta page says 12001"), \
            PageReader(str(tmp_path / "d_lmdb"), replace(meta, entries=12001)) as reader:
        for _ in reader.every_record():
            pass


def test_a_full_scan_of_a_database_holding_a_sub_database_goes_through_py_lmdb(tmp_path, monkeypatch):
    from caffelint.model import lmdb_pages

    monkeypatch.setattr(lmdb_pages, "LEAVES_PER_PART", 2)  # records are scanned before the reader gives up
    path = tmp_path / "sub_lmdb"
    record = Datum(channels=1, height=2, width=2, data=b"abcd", label=3).SerializeToString()
    _put(path, ((b"%08d" % i, record) for i in range(3000)))
    env = py_lmdb.open(str(path), map_size=1 << 30, max_dbs=1)
    env.open_db(b"%08d_extra" % 1500)  # far from the first leaves: the page reader meets it part way
    env.close()
    scan = scan_lmdb(str(path))
    assert scan.error is None and not scan.sampled
    assert scan.scanned == scan.records == 3001 and scan.bad == 1  # the sub-database's node is no Datum
    assert scan.labels.counts == {3: 3000}


@pytest.mark.parametrize("sample", [None, 4000])
def test_an_odd_node_slot_in_a_branch_page_is_damage(tmp_path, sample):
    overflow_values(tmp_path / "d_lmdb")
    path = tmp_path / "d_lmdb"
    meta = lmdb.read_meta(str(path))
    assert meta.depth >= 2  # the root is a branch page
    root = meta.root * meta.page_size
    with open(path / "data.mdb", "r+b") as handle:  # liblmdb keeps nodes 2-byte aligned
        handle.seek(root + 12)
        middle = root + 16 + 2 * ((int.from_bytes(handle.read(2), "little") - 16) // 4)  # the middle node's slot
        handle.seek(middle)
        slot = int.from_bytes(handle.read(2), "little")
        assert slot + 1 + 8 <= meta.page_size  # inside the page, but odd
        handle.seek(middle)
        handle.write((slot + 1).to_bytes(2, "little"))
    scan = scan_lmdb(str(path), sample=sample)
    assert scan.error == f"{path}: a node slot points outside its page: the database is damaged, or was " \
                         "rewritten while it was read"


def _mapped_kb(data_file: str) -> int:
    """Resident kB of this process's map of `data_file` (/proc/self/smaps)."""
    total, inside = 0, False
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            if "-" in line.split(" ", 1)[0]:  # a map's first line: address range ... path
                inside = line.rstrip("\n").endswith(data_file)
            elif inside and line.startswith("Rss:"):
                total += int(line.split()[1])
    return total


@pytest.mark.skipif(not os.path.exists("/proc/self/smaps"), reason="reads this process's maps (Linux)")
@pytest.mark.parametrize("behind", [False, True])
def test_a_full_read_of_a_large_file_releases_the_pages_behind_it(tmp_path, monkeypatch, behind):
    from caffelint.model import lmdb_pages

    overflow_values(tmp_path / "d_lmdb")  # 12,000 values of a page each: 48 MB
    data = str((tmp_path / "d_lmdb" / "data.mdb").resolve())
    monkeypatch.setattr(lmdb_pages, "LEAVES_PER_PART", 4)  # parts of about 450 values
    if behind:  # as if the file were larger than a share of memory
        monkeypatch.setattr(lmdb_pages, "release_behind_above", lambda: 0)

    class Watch:  # the scan's progress line, which sees every part go by
        total, seen = 0, []

        def update(self, done):
            self.seen.append(_mapped_kb(data))

        def close(self):
            pass

    watch = Watch()
    scan = scan_lmdb(str(tmp_path / "d_lmdb"), progress=watch)
    assert scan.error is None and scan.scanned == 12000 and len(watch.seen) > 20
    assert scan.labels.counts == {label: 1200 for label in range(10)}
    if behind:
        assert max(watch.seen) < 12 * 1024  # a few parts' pages at most
    else:
        assert watch.seen[-1] > 40 * 1024  # everything read stays mapped until the end


@pytest.mark.skipif(not page_cache.measurable(), reason="counts this process's reads from storage (Linux)")
@pytest.mark.parametrize("sample", [None, 100])
def test_a_scan_of_large_values_reads_only_their_ends_from_storage(tmp_path, sample):
    build_data.imagenet_sized_lmdb(tmp_path / "big_lmdb")  # 400 records
    data_file = tmp_path / "big_lmdb" / "data.mdb"
    warm = scan_lmdb(str(tmp_path / "big_lmdb"), sample=sample)
    if not page_cache.drop(data_file):
        pytest.skip("this file system keeps the file in memory: nothing is read from storage")
    before = page_cache.read_from_storage()
    cold = scan_lmdb(str(tmp_path / "big_lmdb"), sample=sample)
    read = page_cache.read_from_storage() - before
    # Each value's first and last page, the few read whole for their pixels, and the tree:
    # under a quarter of the file.  Read around each page fault, it would be all of it.
    assert 0 < read < os.path.getsize(data_file) / 4
    assert cold.error is None and cold.scanned == warm.scanned == (sample or 400)
    assert cold.labels.counts == warm.labels.counts and cold.shapes == warm.shapes
    assert cold.pixels == warm.pixels and cold.pixels.high == 255


def test_pages_are_asked_for_a_stretch_at_a_time(monkeypatch):
    from caffelint.model import page_hints

    calls = []
    monkeypatch.setattr(os, "posix_fadvise", lambda fd, offset, size, advice: calls.append((offset, size)))
    assert page_hints.ask_for_pages(7, np.array([3, 4, 5, 9, 11, 12]), 4096)
    assert calls == [(3 * 4096, 3 * 4096), (9 * 4096, 4096), (11 * 4096, 2 * 4096)]

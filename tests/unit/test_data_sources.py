"""Finding, resolving and scanning data sources: LMDB, image lists, HDF5; syntax versions; the run cache."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from caffelint.api import build_project
from caffelint.config import Options
from caffelint.model import lmdb
from caffelint.model.datascan import scan_lmdb
from caffelint.model.datasource import data_sources
from caffelint.model.imagelist import scan_image_list
from caffelint.model.progress import Progress
from fixtures import build_data


def sources_of(path: Path, **options):
    opts = Options.from_kwargs(**options)
    project = build_project([str(path)], opts)
    parsed = next(f for f in project.files if Path(f.path).resolve() == path.resolve())
    return project, data_sources(project, parsed, opts)


def data_layer(source: str, phase: str = "", extra: str = "") -> str:
    include = f"include {{ phase: {phase} }}" if phase else ""
    return (f'layer {{ name: "data_{phase or "any"}" type: "Data" top: "data" top: "label" {include} {extra}\n'
            f'  data_param {{ source: "{source}" batch_size: 10 backend: LMDB }} }}\n')


def test_train_and_test_sharing_a_source_scan_it_once(tmp_path):
    build_data.digits_lmdb(tmp_path / "digits_lmdb")
    net = tmp_path / "net.prototxt"
    net.write_text(data_layer("digits_lmdb", "TRAIN") + data_layer("digits_lmdb", "TEST"))
    project, sources = sources_of(net)
    assert [s.phases for s in sources] == [["TRAIN"], ["TEST"]]
    assert sources[0].scan is sources[1].scan
    assert len([k for k in project.data_cache if k[1] == "lmdb"]) == 1


def test_the_same_database_can_be_checked_again_in_one_process(tmp_path):
    # py-lmdb refuses a second open of an environment that is still open: each scan closes it
    build_data.digits_lmdb(tmp_path / "digits_lmdb")
    net = tmp_path / "net.prototxt"
    net.write_text(data_layer("digits_lmdb"))
    for _ in range(2):
        _, sources = sources_of(net)
        assert sources[0].scan.records == 1797


def test_paths_resolve_from_the_nets_parents_and_root(tmp_path):
    build_data.digits_lmdb(tmp_path / "data" / "digits_lmdb")
    (tmp_path / ".git").mkdir()  # the repository root: resolution climbs up to here
    net = tmp_path / "models" / "lenet" / "net.prototxt"
    net.parent.mkdir(parents=True)
    net.write_text(data_layer("data/digits_lmdb"))
    _, sources = sources_of(net)
    assert sources[0].kind == "lmdb"
    elsewhere = tmp_path / "elsewhere"
    build_data.digits_lmdb(elsewhere / "x_lmdb")
    net.write_text(data_layer("x_lmdb"))
    _, sources = sources_of(net)
    assert sources[0].path is None and sources[0].kind == "missing"
    _, sources = sources_of(net, root=str(elsewhere))
    assert sources[0].kind == "lmdb"


def test_v1_and_v0_layers_name_their_sources_too(tmp_path):
    build_data.digits_lmdb(tmp_path / "digits_lmdb")
    v1 = tmp_path / "v1.prototxt"
    v1.write_text('layers { name: "d" type: DATA top: "data" top: "label"\n'
                  '  data_param { source: "digits_lmdb" batch_size: 8 crop_size: 6 backend: LMDB } }\n')
    _, sources = sources_of(v1)
    assert sources[0].kind == "lmdb" and sources[0].value("crop_size") == 6  # V1's own crop_size
    v0 = tmp_path / "v0.prototxt"
    v0.write_text('layers { layer { name: "d" type: "data" source: "digits_lmdb" batchsize: 8 cropsize: 4 }\n'
                  '  top: "data" top: "label" }\n')
    _, sources = sources_of(v0)
    assert sources[0].written == "digits_lmdb" and sources[0].batch_size == 8
    assert sources[0].value("crop_size") == 4


def test_v0_image_list_layer(tmp_path):
    build_data.digits_list(tmp_path / "train.txt")
    v0 = tmp_path / "v0.prototxt"
    v0.write_text('layers { layer { name: "d" type: "images" source: "train.txt" batchsize: 8 }\n'
                  '  top: "data" top: "label" }\n')
    _, sources = sources_of(v0)
    assert sources[0].kind == "imagelist" and sources[0].scan.records == 300


def test_classifier_found_through_pass_through_layers(tmp_path):
    build_data.digits_lmdb(tmp_path / "digits_lmdb")
    net = tmp_path / "net.prototxt"
    net.write_text(data_layer("digits_lmdb") + textwrap.dedent("""\
        layer { name: "conv" type: "Convolution" bottom: "data" top: "conv"
                convolution_param { num_output: 12 kernel_size: 1 } }
        layer { name: "relu" type: "ReLU" bottom: "conv" top: "conv" }
        layer { name: "pool" type: "Pooling" bottom: "conv" top: "pool" pooling_param { global_pooling: true } }
        layer { name: "loss" type: "SoftmaxWithLoss" bottom: "pool" bottom: "label" top: "loss"
                loss_param { ignore_label: 255 } }
        layer { name: "acc" type: "Accuracy" bottom: "pool" bottom: "label" top: "acc" }
        """))
    _, sources = sources_of(net)
    found = sources[0].classifiers()
    assert [(c.layer.name, c.num_output, c.ignore_label, c.consumer.name) for c in found] == \
        [("conv", 12, 255, "loss"), ("conv", 12, None, "acc")]


def test_no_classifier_behind_a_reshape(tmp_path):
    build_data.digits_lmdb(tmp_path / "digits_lmdb")
    net = tmp_path / "net.prototxt"
    net.write_text(data_layer("digits_lmdb") + textwrap.dedent("""\
        layer { name: "fc" type: "InnerProduct" bottom: "data" top: "fc" inner_product_param { num_output: 20 } }
        layer { name: "r" type: "Reshape" bottom: "fc" top: "r" reshape_param { shape { dim: 0 dim: 10 dim: 2 } } }
        layer { name: "loss" type: "SoftmaxWithLoss" bottom: "r" bottom: "label" top: "loss" }
        """))
    _, sources = sources_of(net)
    assert sources[0].classifiers() == []


def test_image_list_lines_read_the_way_caffe_reads_them(tmp_path):
    import numpy as np

    # a path with a space is fine: the label follows the last one
    (tmp_path / "a b.png").write_bytes(build_data.png(np.zeros((3, 3), dtype=np.uint8)))
    listing = tmp_path / "list.txt"
    listing.write_bytes(b"a b.png 3\r\nmissing.png 4\nno_label.png\ntabbed.png\t2\ntrailing.png 5 \n\n")
    scan = scan_image_list(str(listing), "", True, str(tmp_path / "net.prototxt"))
    assert scan.records == 6  # Caffe keeps every line, the blank one too
    assert scan.labels.counts == {3: 1, 4: 1, 0: 4}  # what atoi gives the bad lines
    assert scan.bad == 4 and scan.first_bad[0] == 3
    assert scan.missing_files[:2] == (1, 2)  # of the two good lines, missing.png is not there


def test_image_list_with_root_folder_and_decoded_sizes(tmp_path):
    build_data.digits_list(tmp_path / "train.txt")
    text = (tmp_path / "train.txt").read_text().replace("train_images/", "")
    (tmp_path / "short.txt").write_text(text)
    scan = scan_image_list(str(tmp_path / "short.txt"), "train_images/", False, str(tmp_path / "net.prototxt"))
    assert scan.missing_files == (0, scan.missing_files[1], "")
    assert set(scan.decoded_shapes) == {(1, 8, 8, "image", 0)}
    assert scan.pixels.kind == "image" and scan.pixels.high <= 255


def test_hdf5_list(tmp_path):
    build_data.digits_hdf5(tmp_path / "train_h5.txt")
    net = tmp_path / "net.prototxt"
    net.write_text('layer { name: "h" type: "HDF5Data" top: "data" top: "label"\n'
                   '  hdf5_data_param { source: "train_h5.txt" batch_size: 10 } }\n')
    _, sources = sources_of(net)
    scan = sources[0].scan
    assert (scan.format, scan.records, scan.error, scan.not_inspected) == ("hdf5", 1797, None, None)
    assert scan.shapes == {(1, 8, 8, "float", 64): 1797}
    assert sorted(scan.labels.counts) == list(range(10))
    assert scan.pixels.low >= 0 and scan.pixels.high <= 1


def test_hdf5_without_h5py_is_not_inspected(tmp_path):
    build_data.digits_hdf5(tmp_path / "train_h5.txt")
    code = textwrap.dedent(f"""\
        import sys
        sys.modules["h5py"] = None  # as if the optional package were not installed
        from caffelint.model.hdf5 import scan_hdf5_list
        scan = scan_hdf5_list({str(tmp_path / "train_h5.txt")!r}, ["data", "label"], {str(tmp_path / "n")!r})
        print(scan.not_inspected)
        """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "h5py is not installed" in out


def test_sample_reads_stretches_spread_over_the_key_range(tmp_path):
    build_data.digits_lmdb_sorted(tmp_path / "sorted_lmdb")
    scan = scan_lmdb(str(tmp_path / "sorted_lmdb"), sample=800)
    assert scan.sampled and scan.scanned == 800 and scan.records == 1797
    assert scan.labels.segments == 14  # about sqrt(800) / 2 stretches, 128 records apart
    assert sorted(scan.labels.counts) == list(range(10))  # so every class (about 180 records) is visited


def test_spread_keys_are_even_over_convert_imageset_keys(tmp_path):
    build_data.write_lmdb(tmp_path / "keys_lmdb", (b"x" for _ in range(20000)))
    with lmdb.open_readonly(str(tmp_path / "keys_lmdb")) as env, lmdb.read_transaction(env) as txn:
        keys = lmdb.spread_keys(txn.cursor(), 50)
    positions = [int(k[:8]) for k in keys]
    assert len(positions) == 50 and positions[0] == 0
    gaps = [b - a for a, b in zip(positions, positions[1:])]
    assert max(gaps) < 3 * 20000 / 50  # no big hole: the sample sees every part


def test_spread_keys_over_random_binary_keys(tmp_path):
    import lmdb as py_lmdb

    keys = sorted(os.urandom(16) for _ in range(5000))
    env = py_lmdb.open(str(tmp_path / "rand_lmdb"), map_size=1 << 26)
    with env.begin(write=True) as txn:
        for key in keys:
            txn.put(key, b"v")
    env.close()
    with lmdb.open_readonly(str(tmp_path / "rand_lmdb")) as env, lmdb.read_transaction(env) as txn:
        found = lmdb.spread_keys(txn.cursor(), 40)
    positions = [keys.index(k) for k in found]
    assert len(positions) == 40
    assert max(b - a for a, b in zip(positions, positions[1:])) < 3 * 5000 / 40


def test_meta_check_reads_the_entry_count(tmp_path):
    build_data.digits_lmdb(tmp_path / "d_lmdb")
    meta = lmdb.read_meta(str(tmp_path / "d_lmdb"))
    assert meta.entries == 1797 and meta.page_size >= 4096


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_appears_only_on_a_terminal_after_a_second():
    quiet = io.StringIO()
    progress = Progress("train_lmdb", 100, quiet)
    progress.started -= 5
    progress.update(50)
    assert quiet.getvalue() == ""  # not a terminal: never drawn
    terminal = Terminal()
    progress = Progress("train_lmdb", 100, terminal)
    progress.update(10)
    assert terminal.getvalue() == ""  # too early
    progress.started -= 5
    progress.update(50)
    progress.close()
    assert "scanning train_lmdb:  50% (50 records)" in terminal.getvalue()
    assert terminal.getvalue().endswith("\r\033[K")


@pytest.mark.parametrize("sample", [None, 300])
def test_pixels_of_records_of_another_shape_are_read_in_their_own_layout(tmp_path, sample):
    """Every pixel is 100; the records are 1x4x4 or, at random, 1x200x1, whose longer head puts
    their pixels two bytes later.  Read in the first record's layout, they would show others."""
    import numpy as np

    from caffelint.schema.caffe_pb2 import Datum

    shapes = [(4, 4), (200, 1)]
    picks = np.random.default_rng(5).integers(0, 2, 3000)
    picks[0] = 0
    build_data.write_lmdb(tmp_path / "two_lmdb", (
        Datum(channels=1, height=h, width=w, data=bytes([100]) * (h * w), label=i % 10).SerializeToString()
        for i, pick in enumerate(picks.tolist()) for h, w in [shapes[pick]]))
    scan = scan_lmdb(str(tmp_path / "two_lmdb"), sample)
    assert len(scan.shapes) == 2 and scan.pixels.records > 8
    assert (scan.pixels.kind, scan.pixels.low, scan.pixels.high, scan.pixels.mean) == ("uint8", 100, 100, 100)


def test_a_full_scan_tells_its_progress_the_record_count(tmp_path):
    build_data.digits_lmdb(tmp_path / "d_lmdb")
    terminal = Terminal()
    progress = Progress("d_lmdb", 0, terminal)
    progress.started -= 5  # as if the scan had been running for a while
    scan_lmdb(str(tmp_path / "d_lmdb"), progress=progress)
    assert progress.total == 1797 and "scanning d_lmdb: 100% (1,797 records)" in terminal.getvalue()


@pytest.mark.parametrize("builder", ["corrupt_lmdb", "truncated_lmdb"])
def test_damaged_databases_are_scan_errors(tmp_path, builder):
    getattr(build_data, builder)(tmp_path / "bad_lmdb")
    scan = scan_lmdb(str(tmp_path / "bad_lmdb"))
    assert scan.error and not scan.usable and "\n" not in scan.error


def test_pages_mapped_ahead_change_nothing_but_speed(tmp_path):
    from array import array
    from itertools import islice

    from caffelint.model.datum import DatumScanner

    build_data.digits_lmdb(tmp_path / "d_lmdb")
    path = str(tmp_path / "d_lmdb")
    results = []
    for ahead in (False, True):
        with lmdb.open_readonly(path) as env, lmdb.read_transaction(env) as txn:
            meta = lmdb.read_meta(path)
            mapping = lmdb.environment_map(path, meta)
            if sys.platform == "linux":
                assert mapping is not None
            labels, scanner = array("q"), DatumScanner()
            if ahead:
                with lmdb.prefaulted(meta, mapping):
                    scanner.feed(islice(lmdb.all_values(txn), 10**6), labels)
            else:
                scanner.feed(lmdb.all_values(txn), labels)
            results.append((labels.tolist(), scanner.shapes))
    assert results[0] == results[1] and len(results[0][0]) == 1797


def test_sample_of_page_sized_records_reads_the_labels_at_the_start_keys(tmp_path):
    # 3x32x32 uint8 Datums take an overflow page each: the page reader maps them from two threads
    from caffelint.schema.caffe_pb2 import Datum

    pixels = bytes(range(256)) * 12
    labels = [i * 7 % 10 for i in range(3000)]
    build_data.write_lmdb(tmp_path / "big_lmdb", (Datum(channels=3, height=32, width=32, data=pixels, label=label,
                                                        encoded=False).SerializeToString() for label in labels))
    scan = scan_lmdb(str(tmp_path / "big_lmdb"), sample=400)
    assert scan.sampled and scan.scanned == 400 and scan.bad == 0
    assert scan.labels.segments == 10
    assert sum(scan.labels.counts.values()) == 400
    assert scan.pixels is not None and (scan.pixels.low, scan.pixels.high) == (0, 255)


def _scan_facts(scan) -> dict:
    """What rules read from a scan, but for the pixel range's numbers (the two ways of reading look
    at differently chosen records)."""
    facts = {name: getattr(scan, name) for name in ("records", "scanned", "sampled", "shapes", "first_seen", "bad",
                                                     "first_bad", "foreign", "first_key", "error")}
    facts["labels"] = {name: value for name, value in vars(scan.labels).items() if not name.startswith("_")}
    facts["pixels"] = scan.pixels and (scan.pixels.kind, scan.pixels.records)
    return facts


@pytest.mark.parametrize("builder", ["digits_lmdb", "digits_lmdb_one_based", "digits_lmdb_gaps", "digits_lmdb_sorted",
                                     "digits_lmdb_imbalanced", "digits_lmdb_float", "digits_lmdb_encoded",
                                     "digits_lmdb_mixed_sizes", "digits_lmdb_hwc", "tiny_lmdb", "not_datum_lmdb"])
def test_a_full_scan_of_the_pages_finds_what_the_cursor_finds(tmp_path, monkeypatch, builder):
    from caffelint.model import datascan

    getattr(build_data, builder)(tmp_path / "d_lmdb")
    path = str(tmp_path / "d_lmdb")
    read_pages, outcome = datascan._read_pages, []
    monkeypatch.setattr(datascan, "_read_pages", lambda *args: outcome.append(read_pages(*args)) or outcome[-1])
    from_pages = scan_lmdb(path)
    assert outcome == [True]  # the page reader read it: the comparison is not of the cursor with itself
    monkeypatch.setattr(datascan, "_read_pages", lambda *args: False)  # as for a database the pages do not read
    from_cursor = scan_lmdb(path)
    assert from_pages.error is None and from_pages.scanned == from_pages.records > 0
    assert _scan_facts(from_pages) == _scan_facts(from_cursor)


def test_a_full_scan_of_page_sized_records_reads_every_label(tmp_path):
    from caffelint.schema.caffe_pb2 import Datum

    pixels = bytes(range(256)) * 12
    labels = [i * 7 % 10 if i < 2500 else 300 + i % 2 for i in range(3000)]  # one-byte and two-byte labels
    build_data.write_lmdb(tmp_path / "big_lmdb", (Datum(channels=3, height=32, width=32, data=pixels, label=label,
                                                        encoded=False).SerializeToString() for label in labels))
    scan = scan_lmdb(str(tmp_path / "big_lmdb"))
    assert not scan.sampled and scan.scanned == 3000 and scan.bad == 0
    assert scan.labels.counts == {label: labels.count(label) for label in set(labels)}
    assert scan.first_key == b"00000000_img0.png"
    assert scan.pixels is not None and (scan.pixels.low, scan.pixels.high, scan.pixels.records) == (0, 255, 32)

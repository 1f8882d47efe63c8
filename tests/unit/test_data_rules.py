"""The data rules on generated data: the evidence in their messages, options, and the CLI around them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from caffelint.api import check_paths
from caffelint.config import Options
from fixtures import build_data

CLASSIFIER = textwrap.dedent("""\
    layer { name: "fc" type: "InnerProduct" bottom: "data" top: "fc" inner_product_param { num_output: 10 } }
    layer { name: "loss" type: "SoftmaxWithLoss" bottom: "fc" bottom: "label" top: "loss" }
    """)


def lmdb_layer(source: str, phase: str = "TRAIN", batch: int = 64, transform: str = "") -> str:
    return textwrap.dedent(f"""\
        layer {{
          name: "data_{phase}"
          type: "Data"
          top: "data"
          top: "label"
          include {{ phase: {phase} }}
          {transform}
          data_param {{ source: "{source}" batch_size: {batch} backend: LMDB }}
        }}
        """)


def findings(folder: Path, name: str, select: str = "DAT", **options):
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        report = check_paths([name], Options.from_kwargs(select=(select,), **options))
    finally:
        os.chdir(cwd)
    return report.findings


def messages(found, code: str) -> list[str]:
    return [f.message for f in found if f.code == code]


def test_one_based_labels_give_the_evidence_the_user_needs(tmp_path):
    build_data.digits_lmdb_one_based(tmp_path / "train_lmdb")
    (tmp_path / "net.prototxt").write_text(lmdb_layer("train_lmdb") + CLASSIFIER)
    found = findings(tmp_path, "net.prototxt")
    [zero] = messages(found, "DAT004")
    assert "labels span 1..10 (10 classes, none missing between) in 1,797 records of 'train_lmdb'" in zero
    assert "classifier 'fc' has num_output 10, so label 10 is out of range" in zero
    [out] = messages(found, "DAT006")
    assert "180 records (10.0%) carry label 10" in out and "valid labels 0..9" in out
    finding = next(f for f in found if f.code == "DAT006")
    assert (finding.span.start.line, finding.span.start.column) == (8, 24)  # the source string
    assert finding.notes[0].message == "num_output 10"


def test_labels_equal_to_ignore_label_are_not_out_of_range(tmp_path):
    build_data.digits_lmdb(tmp_path / "train_lmdb")
    net = lmdb_layer("train_lmdb") + CLASSIFIER.replace("num_output: 10", "num_output: 9").replace(
        'top: "loss" }', 'top: "loss" loss_param { ignore_label: 9 } }')
    (tmp_path / "net.prototxt").write_text(net)
    assert messages(findings(tmp_path, "net.prototxt"), "DAT006") == []
    (tmp_path / "net.prototxt").write_text(net.replace("ignore_label: 9", "ignore_label: 255"))
    [out] = messages(findings(tmp_path, "net.prototxt"), "DAT006")
    assert "carry label 9 (ignore_label 255 excepted)" in out


def test_unshuffled_data_names_the_database_in_the_remedy(tmp_path):
    build_data.digits_lmdb_sorted(tmp_path / "mnist_train_lmdb")
    (tmp_path / "net.prototxt").write_text(lmdb_layer("mnist_train_lmdb"))
    [text] = messages(findings(tmp_path, "net.prototxt"), "DAT007")
    assert "9 label changes between 1,796 adjacent records where a random order gives about 1,616" in text
    assert "more than batch_size 64" in text
    assert "convert_imageset --shuffle ROOTFOLDER/ LISTFILE mnist_train_lmdb" in text


def test_unshuffled_remedy_names_the_list_the_database_was_built_from(tmp_path):
    build_data.digits_lmdb_sorted(tmp_path / "data" / "train_lmdb")
    _, labels = build_data.digits("sorted")
    lines = "".join(f"digit_{lab}_{i}.png {lab}\n" for i, lab in enumerate(labels))
    (tmp_path / "data" / "train.txt").write_text(lines)
    (tmp_path / "data" / "other.txt").write_text("cat.jpg 1\n")
    (tmp_path / "net.prototxt").write_text(lmdb_layer("data/train_lmdb"))
    [text] = messages(findings(tmp_path, "net.prototxt"), "DAT007")
    assert "convert_imageset --shuffle ROOTFOLDER/ data/train.txt data/train_lmdb" in text


def test_an_unshuffled_sorted_image_list_is_one_finding_the_one_with_the_fix(tmp_path):
    build_data.digits_list_sorted(tmp_path / "train.txt")
    (tmp_path / "net.prototxt").write_text(textwrap.dedent("""\
        layer { name: "data" type: "ImageData" top: "data" top: "label" include { phase: TRAIN }
                image_data_param { source: "train.txt" batch_size: 16 } }
        """) + CLASSIFIER)
    both = findings(tmp_path, "net.prototxt", select="INP005", extend_select=("DAT007",))
    assert [f.code for f in both] == ["INP005"] and both[0].fix is not None
    [text] = messages(findings(tmp_path, "net.prototxt"), "DAT007")  # INP005 off: the evidence shows
    assert "labels of 'train.txt' come in runs in list order" in text


def test_unshuffled_sample_reports_single_label_stretches(tmp_path):
    build_data.digits_lmdb_sorted(tmp_path / "train_lmdb")
    (tmp_path / "net.prototxt").write_text(lmdb_layer("train_lmdb"))
    [text] = messages(findings(tmp_path, "net.prototxt", sample=400), "DAT007")
    assert "sampled stretches of about 40 consecutive records hold a single label" in text


def test_shuffle_thresholds_come_from_the_config(tmp_path):
    build_data.digits_lmdb_sorted(tmp_path / "train_lmdb")
    (tmp_path / "net.prototxt").write_text(lmdb_layer("train_lmdb", batch=1000))
    (tmp_path / ".caffelint.yaml").write_text("rules:\n  data-not-shuffled: {z_threshold: 1000}\n")
    assert messages(findings(tmp_path, "net.prototxt"), "DAT007") == []


def test_test_set_coverage_reads_test_iter_from_the_solver(tmp_path):
    build_data.digits_lmdb_test(tmp_path / "test_lmdb")
    build_data.digits_lmdb(tmp_path / "train_lmdb")
    (tmp_path / "net.prototxt").write_text(lmdb_layer("train_lmdb") + lmdb_layer("test_lmdb", "TEST", 100))
    (tmp_path / "solver.prototxt").write_text('net: "net.prototxt"\ntest_iter: 2\ntest_interval: 100\n'
                                              'base_lr: 0.01\nlr_policy: "fixed"\nmax_iter: 100\n')
    found = findings(tmp_path, "solver.prototxt")
    [text] = messages(found, "DAT010")
    assert text.startswith("test_iter 2 (solver.prototxt) x batch_size 100 = 200 records per test, "
                           "but 'test_lmdb' holds 500: each test reads 40% of it")
    assert text.endswith("test_iter: 5 reads it once")
    assert next(f for f in found if f.code == "DAT010").path.endswith("net.prototxt")
    assert messages(findings(tmp_path, "net.prototxt"), "DAT010") == []  # no solver in the run


def test_parameters_per_record(tmp_path):
    build_data.tiny_lmdb(tmp_path / "train_lmdb")
    big = CLASSIFIER.replace("num_output: 10", "num_output: 4096")
    (tmp_path / "net.prototxt").write_text(lmdb_layer("train_lmdb") + big)
    [text] = messages(findings(tmp_path, "net.prototxt"), "DAT011")
    # 64 inputs x 4096 outputs + 4096 biases, for 40 records
    assert "the TRAIN net has 266,240 learnable parameters for 40 training records" in text
    assert "(6,656 per record)" in text


def test_mean_value_count_and_crop_against_records(tmp_path):
    build_data.digits_lmdb(tmp_path / "train_lmdb")
    transform = "transform_param { crop_size: 9 mean_value: 104 mean_value: 117 mean_value: 123 }"
    (tmp_path / "net.prototxt").write_text(lmdb_layer("train_lmdb", transform=transform))
    texts = messages(findings(tmp_path, "net.prototxt"), "DAT009")
    assert any("crop_size 9 is larger than the records of 'train_lmdb' (height 8" in t for t in texts)
    assert any("3 mean_value for the 1-channel records" in t for t in texts)


def test_float_data_in_hdf5_with_hwc_order(tmp_path):
    import h5py
    import numpy as np

    images, labels = build_data.digits()
    with h5py.File(tmp_path / "hwc.h5", "w") as handle:
        handle["data"] = np.repeat(images[..., None], 3, axis=3).astype(np.float32) / 255
        handle["label"] = labels.astype(np.float32)
    (tmp_path / "list.txt").write_text("hwc.h5\n")
    (tmp_path / "net.prototxt").write_text('layer { name: "h" type: "HDF5Data" top: "data" top: "label"\n'
                                           '  hdf5_data_param { source: "list.txt" batch_size: 10 } }\n')
    [text] = messages(findings(tmp_path, "net.prototxt"), "DAT009")
    assert "channels 8, height 8, width 3" in text


def test_no_data_reads_nothing(tmp_path):
    build_data.corrupt_lmdb(tmp_path / "train_lmdb")
    (tmp_path / "net.prototxt").write_text(lmdb_layer("train_lmdb"))
    assert findings(tmp_path, "net.prototxt", no_data=True) == []
    assert messages(findings(tmp_path, "net.prototxt"), "DAT002")


def run_cli(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "caffelint", "check", *args], cwd=folder,
                          capture_output=True, text=True, timeout=120)


def test_require_data_turns_a_missing_source_into_an_error(tmp_path):
    (tmp_path / "net.prototxt").write_text(lmdb_layer("train_lmdb"))
    relaxed = run_cli(tmp_path, "--select", "DAT", "net.prototxt")
    strict = run_cli(tmp_path, "--select", "DAT", "--require-data", "net.prototxt")
    assert relaxed.returncode == 0 and "[info] data-source-missing" in relaxed.stdout
    assert strict.returncode == 1 and "[error] data-source-missing" in strict.stdout


@pytest.mark.parametrize("content", [b"\x00\xff" * 5000, b"\xde\xad\xbe\xef", b""])
def test_garbage_sources_never_give_a_traceback(tmp_path, content):
    folder = tmp_path / "train_lmdb"
    folder.mkdir()
    (folder / "data.mdb").write_bytes(content)
    (tmp_path / "list.txt").write_bytes(content)
    (tmp_path / "h5list.txt").write_bytes(b"list.txt\n")
    (tmp_path / "net.prototxt").write_text(
        lmdb_layer("train_lmdb")
        + 'layer { name: "i" type: "ImageData" top: "i" top: "il" image_data_param { source: "list.txt" } }\n'
        + 'layer { name: "h" type: "HDF5Data" top: "h" top: "hl" hdf5_data_param { source: "h5list.txt" } }\n')
    result = run_cli(tmp_path, "--select", "DAT", "net.prototxt")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and "internal" not in result.stdout + result.stderr
    assert "data-unreadable" in result.stdout


def test_no_progress_line_when_stderr_is_not_a_terminal(tmp_path):
    build_data.digits_lmdb(tmp_path / "train_lmdb")
    (tmp_path / "net.prototxt").write_text(lmdb_layer("train_lmdb"))
    result = run_cli(tmp_path, "net.prototxt", "--select", "DAT")
    assert result.stderr == ""


def test_input_evidence_float_data_scaled_twice(tmp_path):
    build_data.digits_lmdb_float(tmp_path / "train_lmdb")
    (tmp_path / "net.prototxt").write_text(lmdb_layer("train_lmdb", transform="transform_param { scale: 0.00390625 }"))
    [text] = messages(findings(tmp_path, "net.prototxt", select="INP001"), "INP001")
    assert "the records hold float values 0..1 in 32 sampled records of 'train_lmdb', already in 0..1" in text
    assert "shrinks them to 0..0.0039" in text
    build_data.digits_lmdb(tmp_path / "uint8_lmdb")
    (tmp_path / "net.prototxt").write_text(lmdb_layer("uint8_lmdb", transform="transform_param { scale: 0.00390625 }"))
    assert findings(tmp_path, "net.prototxt", select="INP001") == []


def test_input_evidence_hdf5_raw_values(tmp_path):
    build_data.digits_hdf5_raw(tmp_path / "train.txt")
    (tmp_path / "net.prototxt").write_text('layer { name: "h" type: "HDF5Data" top: "data" top: "label"\n'
                                           '  hdf5_data_param { source: "train.txt" batch_size: 10 } }\n')
    [text] = messages(findings(tmp_path, "net.prototxt", select="INP001"), "INP001")
    assert "the HDF5 data holds values 0..255" in text
    build_data.digits_hdf5(tmp_path / "scaled.txt")
    (tmp_path / "net.prototxt").write_text('layer { name: "h" type: "HDF5Data" top: "data" top: "label"\n'
                                           '  hdf5_data_param { source: "scaled.txt" batch_size: 10 } }\n')
    assert findings(tmp_path, "net.prototxt", select="INP001") == []

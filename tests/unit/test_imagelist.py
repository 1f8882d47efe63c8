"""Image lists read a block at a time with numpy give what reading them a line at a time, the way
Caffe splits them, gives: labels, bad lines and the sampled names, across block boundaries."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffelint.model import imagelist
from caffelint.model.imagelist import scan_image_list

# lines built from the pieces that matter: spaces, tabs, \r, signs, long numbers, other scripts
PIECES = ["img", "a b", " ", "\t", "\r", "7", "-3", "x", "é", ".png"]
LABELS = ["", "0", "7", "42", "0009", "-3", "+5", "999999999", "1000000000", "1234567890123", "٣", "1e3",
          "7\r", "7 ", "x"]
LINES = st.tuples(st.lists(st.sampled_from(PIECES), max_size=4).map("".join),
                  st.sampled_from(["", " ", "\t", "  "]), st.sampled_from(LABELS)).map("".join)


def line_by_line(data: bytes) -> tuple[list[int], list[int]]:
    """(labels, numbers of the bad lines), one line at a time: split at the last space, a label is
    a decimal integer (sign allowed), anything else is a bad line that atoi reads as 0."""
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    labels, bad = [], []
    for number, raw in enumerate(lines, start=1):
        text = raw.rstrip(b"\r\n").decode("utf-8", "surrogateescape")
        _name, space, tail = text.rpartition(" ")
        tail = tail.strip("\r")
        if space and tail.lstrip("+-").isdigit():
            labels.append(int(tail))
        else:
            labels.append(0)
            bad.append(number)
    return labels, bad


def scan_of(path, block: int, monkeypatch):
    monkeypatch.setattr(imagelist, "BLOCK", block)
    return scan_image_list(str(path), "", True, str(path))


@settings(max_examples=150, deadline=None)
@given(st.lists(LINES, min_size=1, max_size=40),
       st.sampled_from(["\n", "\r\n"]), st.booleans(), st.integers(8, 64))
def test_blocks_read_what_lines_read(tmp_path_factory, lines, ending, last_ending, block):
    monkeypatch = pytest.MonkeyPatch()
    try:
        path = tmp_path_factory.mktemp("list") / "list.txt"
        data = ending.join(lines).encode() + (ending.encode() if last_ending else b"")
        path.write_bytes(data)
        labels, bad = line_by_line(data)
        scan = scan_of(path, block, monkeypatch)
        assert scan.records == len(labels)
        expected = dict(zip(*np.unique(labels, return_counts=True)))
        assert scan.labels.counts == {int(k): int(v) for k, v in expected.items()}
        assert scan.bad == len(bad)
        assert (scan.first_bad[0] if scan.first_bad else None) == (bad[0] if bad else None)
    finally:
        monkeypatch.undo()


@pytest.mark.parametrize("line", LABELS + ["a b 3", "x\t4", " 5", "x 1234567890123", "x 12\r\r"])
def test_each_kind_of_line_reads_as_line_by_line(tmp_path, monkeypatch, line):
    data = f"first 1\nimg {line}\nlast 2\n".encode()
    path = tmp_path / "list.txt"
    path.write_bytes(data)
    labels, bad = line_by_line(data)
    scan = scan_of(path, 16, monkeypatch)
    assert scan.labels.counts == {k: labels.count(k) for k in set(labels)} and scan.bad == len(bad)


def test_the_sampled_names_are_the_paths_before_the_label(tmp_path, monkeypatch):
    names = [f"dir {i}/img_{i}.png" for i in range(1000)]
    path = tmp_path / "list.txt"
    path.write_text("".join(f"{name} {i % 7}\n" for i, name in enumerate(names)))
    seen = []
    monkeypatch.setattr(imagelist, "_look_at_images", lambda scan, picked, *rest: seen.extend(picked))
    scan = scan_of(path, 4096, monkeypatch)  # many blocks
    assert scan.records == 1000 and scan.bad == 0
    assert len(seen) == imagelist.EXISTENCE_SAMPLE
    assert all(name == names[number - 1] for number, name in seen)
    assert [number for number, _ in seen] == sorted(number for number, _ in seen)

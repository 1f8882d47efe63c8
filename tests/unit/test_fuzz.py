"""No traceback, ever: mutated real files give findings or a clean exit-2 message.

Mutations of corpus files (deletions, duplications, inserted bytes, truncation,
binary junk, non-UTF-8, a 10 MB line, 5,000-deep nesting) go through the whole
pipeline in-process; a sample also runs through the CLI as a subprocess.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caffelint.api import check_paths
from caffelint.config import Options
from caffelint.errors import CaffelintError
from caffelint.source import decode
from caffelint.syntax.parser import parse
from tests.conftest import corpus_files

FILES = corpus_files()
SEEDS = [p.read_bytes() for p in FILES[::6]]
JUNK = st.binary(min_size=1, max_size=64) | st.sampled_from(
    [b"{", b"}", b"<", b"[", b":", b'"', b"'", b"#", b"\xff\xfe", b"\x00", b"\r", "\ufeff".encode("utf-8"), b"layer {", b"layers { layer {", b"\\"])


@st.composite
def mutated(draw):
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["delete", "duplicate", "insert", "truncate"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        size = draw(st.integers(1, 200))
        if op == "delete":
            del data[at:at + size]
        elif op == "duplicate":
            data[at:at] = data[at:at + size]
        elif op == "insert":
            data[at:at] = draw(JUNK)
        else:
            del data[at:]
    return bytes(data)


def lint_bytes(tmp_path, data: bytes, name: str = "net.prototxt"):
    path = tmp_path / name
    path.write_bytes(data)
    try:
        return check_paths([str(path)], Options.from_kwargs(no_data=True))
    except CaffelintError:
        return None  # a clean one-line error is an acceptable outcome


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=mutated())
def test_mutated_corpus_files_never_crash(tmp_path, data):
    assert str(parse(decode(data))).encode("utf-8", "surrogateescape") == data
    report = lint_bytes(tmp_path, data)
    if report is not None:
        assert not [f for f in report.findings if f.name == "internal-error"], \
            [f.message for f in report.findings if f.name == "internal-error"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=2000))
def test_binary_junk_never_crashes(tmp_path, data):
    assert str(parse(decode(data))).encode("utf-8", "surrogateescape") == data
    report = lint_bytes(tmp_path, data)
    if report is not None:
        assert not [f for f in report.findings if f.name == "internal-error"]


EXTREMES = {
    "ten-megabyte-line": b'name: "' + b"x" * (10 * 1024 * 1024) + b'"',
    "deep-nesting": b"layer {" * 5000 + b"}" * 5000,
    "deep-unclosed": b"layer {" * 5000,
    "non-utf8": b'name: "caf\xe9"\nlayer { name: "\xff\xfe" type: "ReLU" }\n# \xc3\x28\n',
    "nul-bytes": b'name: "a"\x00\x00\nlayer {}\n',
    "empty": b"",
}


@pytest.mark.parametrize("name", sorted(EXTREMES))
def test_extreme_inputs_through_the_cli(tmp_path, name):
    path = tmp_path / "net.prototxt"
    path.write_bytes(EXTREMES[name])
    result = subprocess.run([sys.executable, "-m", "caffelint", "check", "--no-data", str(path)],
                            capture_output=True, timeout=120)
    stdout = result.stdout.decode("utf-8")  # the report is valid UTF-8 even for non-UTF-8 input
    stderr = result.stderr.decode("utf-8")
    assert result.returncode in (0, 1, 2), stderr
    assert "Traceback" not in stderr
    assert "internal-error" not in stdout
    if result.returncode == 2:
        assert len(stderr.strip().splitlines()) == 1
    assert path.read_bytes() == EXTREMES[name]  # checking never writes

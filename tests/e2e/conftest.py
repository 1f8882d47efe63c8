"""End-to-end fixtures: a real Caffe build and real digits data converted by Caffe's own tools."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOOLS = ("caffe", "convert_imageset", "upgrade_net_proto_text", "upgrade_solver_proto_text")


@dataclass(frozen=True)
class Caffe:
    """The real Caffe tools (CPU build of the brocolli-caffe sources, see .ci/build-caffe.sh)."""

    bin: Path

    def run(self, tool: str, *args: str, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
        env = dict(os.environ, GLOG_logtostderr="1")  # logs to stderr, no glog files in /tmp
        return subprocess.run([str(self.bin / tool), *args], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=timeout)

    def train(self, solver: Path, timeout: int = 600) -> subprocess.CompletedProcess:
        return self.run("caffe", "train", f"--solver={solver.name}", cwd=solver.parent, timeout=timeout)

    def convert(self, root: Path, listfile: Path, db: Path, *, shuffle: bool) -> None:
        if db.exists():
            shutil.rmtree(db)
        args = ["--gray", *(["--shuffle"] if shuffle else []), f"{root}/", str(listfile), str(db)]
        result = self.run("convert_imageset", *args, cwd=root)
        assert result.returncode == 0, result.stderr[-2000:]


@pytest.fixture(scope="session")
def caffe() -> Caffe:
    """Real Caffe: $CAFFELINT_CAFFE_BIN (set by `make test`), else built or reused from the cache."""
    folder = os.environ.get("CAFFELINT_CAFFE_BIN")
    if not folder:
        result = subprocess.run(["bash", str(REPO / ".ci" / "build-caffe.sh")], capture_output=True,
                                text=True, timeout=3600)
        assert result.returncode == 0, f"building Caffe failed:\n{result.stderr[-3000:]}"
        folder = result.stdout.strip().splitlines()[-1]
    path = Path(folder)
    missing = [t for t in TOOLS if not (path / t).is_file()]
    assert not missing, f"Caffe tools missing in {path}: {missing}"
    return Caffe(path)


def caffelint(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The caffelint CLI as a user runs it."""
    return subprocess.run([sys.executable, "-m", "caffelint", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600)


@dataclass(frozen=True)
class Digits:
    """scikit-learn's digits as PNG files with their entries (path, label, split)."""

    root: Path
    entries: list


@pytest.fixture(scope="session")
def digits(tmp_path_factory) -> Digits:
    from fixtures.e2e.digits import write_images

    root = tmp_path_factory.mktemp("digits")
    return Digits(root, write_images(root))


@pytest.fixture(scope="session")
def good_lmdbs(caffe, digits) -> tuple[Path, Path]:
    """Train (shuffled, labels 0..9) and test LMDBs made by Caffe's convert_imageset."""
    from fixtures.e2e.digits import write_list

    write_list(digits.root / "train_good.txt", digits.entries, "train", order="shuffled")
    write_list(digits.root / "test_good.txt", digits.entries, "test", order="sorted")
    train, test = digits.root / "train_good_lmdb", digits.root / "test_good_lmdb"
    caffe.convert(digits.root, digits.root / "train_good.txt", train, shuffle=True)
    caffe.convert(digits.root, digits.root / "test_good.txt", test, shuffle=False)
    return train, test


@pytest.fixture(scope="session")
def broken_lmdbs(caffe, digits) -> tuple[Path, Path]:
    """Train and test LMDBs the broken way: labels 1..10, grouped by class (no --shuffle)."""
    from fixtures.e2e.digits import write_list

    out = []
    for split in ("train", "test"):
        listfile = digits.root / f"{split}_one_based_sorted.txt"
        write_list(listfile, digits.entries, split, label_offset=1, order="sorted")
        db = digits.root / f"{split}_one_based_sorted_lmdb"
        caffe.convert(digits.root, listfile, db, shuffle=False)
        out.append(db)
    return out[0], out[1]

"""The wheel holds every subpackage, the rule catalogue and the data files."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_wheel_contains_packages_catalogue_and_data(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--quiet", "-w", str(tmp_path), str(REPO)], check=True, capture_output=True)
    wheel = next(tmp_path.glob("caffelint-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    packages = {str(p.parent.relative_to(REPO)) for p in (REPO / "caffelint").rglob("__init__.py")}
    missing = sorted(p for p in packages if f"{p}/__init__.py" not in names)
    assert not missing, f"subpackages left out of the wheel (add them to setup.cfg): {missing}"
    rules = {f"caffelint/catalogue_data/{p.name}" for p in (REPO / "rules").glob("*.yaml")}
    assert rules and rules <= names
    data = {f"caffelint/data/{p.name}" for p in (REPO / "caffelint" / "data").glob("*.yaml")}
    assert data and data <= names
    assert "caffelint/schema/caffe_pb2.py" in names
    assert not [n for n in names if n.startswith(("tests/", "fixtures/", "bench/", "rules/"))]

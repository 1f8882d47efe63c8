"""Shared test helpers: where ../shared is, and the corpus files in it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def shared_dir() -> Path:
    """The read-only reference folder: $CAFFELINT_SHARED, else ../shared beside the repository."""
    path = Path(os.environ.get("CAFFELINT_SHARED", REPO.parent / "shared"))
    if not (path / "corpus").is_dir():
        pytest.fail(f"reference folder not found at {path} (set CAFFELINT_SHARED)")
    return path


def corpus_files() -> list[Path]:
    root = shared_dir() / "corpus"
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name != "MANIFEST.tsv")


@pytest.fixture(scope="session")
def shared() -> Path:
    return shared_dir()

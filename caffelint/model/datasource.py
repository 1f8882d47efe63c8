"""Data sources behind a net's data layers (LMDB, image lists, HDF5)."""

from __future__ import annotations


def data_sources(project, parsed, options) -> list:
    """The data sources of the nets in `parsed`, each opened read-only at most once per run."""
    return []

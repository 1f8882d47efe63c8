"""Facts caffe.proto lacks (caffelint/data/*.yaml), loaded once per run.

The YAML files are the sources: each fact carries its origin there.  A check
reads them from caffelint/data/facts.json, generated from them by `make docs`
(a test keeps it fresh), because importing and running a YAML parser costs a
command-line run more than all its checks of a small project.  When the JSON
does not match the YAML files beside it (names and sizes), the YAML is read.
"""

from __future__ import annotations

import functools
import json
import sys
from importlib import resources
from typing import Any

BUNDLE = "facts.json"


def _data_dir():
    return resources.files("caffelint").joinpath("data")


def _sources() -> list:
    return sorted((p for p in _data_dir().iterdir() if p.name.endswith(".yaml")), key=lambda p: p.name)


def _parse_yaml(name: str) -> Any:
    import yaml

    text = _data_dir().joinpath(name).read_text("utf-8")
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _size(path) -> int:
    try:
        return path.stat().st_size
    except (AttributeError, OSError):
        return len(path.read_bytes())


def build_bundle() -> dict[str, Any]:
    sources = _sources()
    return {"sizes": {p.name: _size(p) for p in sources},
            "facts": {p.name: _parse_yaml(p.name) for p in sources}}


@functools.cache
def _bundle() -> dict[str, Any] | None:
    try:
        bundle = json.loads(_data_dir().joinpath(BUNDLE).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    sizes = bundle.get("sizes", {})
    sources = _sources()
    if sorted(sizes) != [p.name for p in sources]:
        return None
    if any(_size(p) != sizes[p.name] for p in sources):
        return None
    return bundle


@functools.cache
def load(name: str) -> Any:
    """The parsed content of caffelint/data/<name> (e.g. "layer_types.yaml")."""
    bundle = _bundle()
    if bundle is not None and name in bundle["facts"]:
        return bundle["facts"][name]
    return _parse_yaml(name)


if __name__ == "__main__":
    # python -m caffelint.facts caffelint/data/facts.json
    with open(sys.argv[1], "w", encoding="utf-8") as handle:
        handle.write(json.dumps(build_bundle(), indent=1, ensure_ascii=False) + "\n")

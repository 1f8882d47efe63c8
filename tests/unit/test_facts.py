"""caffelint/data/facts.json is generated from the YAML fact files and says the same."""

from __future__ import annotations

import json
from pathlib import Path

from caffelint import facts

DATA = Path(__file__).resolve().parents[2] / "caffelint" / "data"


def test_bundle_is_fresh():
    written = json.loads((DATA / "facts.json").read_text(encoding="utf-8"))
    assert written == facts.build_bundle(), "caffelint/data/facts.json is stale: run `make docs`"


def test_every_fact_file_survives_json_unchanged():
    for path in sorted(DATA.glob("*.yaml")):
        parsed = facts._parse_yaml(path.name)
        assert json.loads(json.dumps(parsed)) == parsed, f"{path.name} holds values JSON would change"


def test_a_stale_bundle_is_not_used(tmp_path, monkeypatch):
    import shutil

    copy = tmp_path / "data"
    shutil.copytree(DATA, copy)
    monkeypatch.setattr(facts, "_data_dir", lambda: copy)
    facts._bundle.cache_clear()
    facts.load.cache_clear()
    try:
        assert facts._bundle() is not None  # a fresh copy is used as it is
        with (copy / "layer_types.yaml").open("a", encoding="utf-8") as handle:
            handle.write("extra: [Only, In, Yaml]\n")  # an edit not yet bundled
        facts._bundle.cache_clear()
        assert facts._bundle() is None
        assert facts.load("layer_types.yaml")["extra"] == ["Only", "In", "Yaml"]
    finally:
        facts._bundle.cache_clear()
        facts.load.cache_clear()
